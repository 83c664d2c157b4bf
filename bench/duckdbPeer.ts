// The DuckDB side of the benchmark: the same five-table ETL written the way a DuckDB user would
// write it (read_json with explicit columns, TRY_CAST coercion, window functions, a ranked join,
// COPY … PARTITION_BY into the same Hive layout). On clean generated data it yields the same rows
// as the engine; two things are deliberately idiomatic rather than identical:
// - songplay_id is DuckDB's own 64-bit hash() of the dedup key (top bit cleared), not FNV-1a
//   (FNV in SQL runs through a lambda per byte, which would measure the lambda, not the ETL);
// - "earliest line" ties are broken by file name only (read_json exposes no line offset); the
//   generator never produces such ties in clean data.
// The strict oracle for correctness is test/helpers/referenceLake.ts, not this.

const q = (s: string) => `'${s.replace(/'/g, "''")}'`;

const SONG_COLUMNS = `{song_id: 'VARCHAR', title: 'VARCHAR', duration: 'VARCHAR', year: 'VARCHAR', artist_id: 'VARCHAR', artist_name: 'VARCHAR', artist_location: 'VARCHAR', artist_latitude: 'VARCHAR', artist_longitude: 'VARCHAR'}`;
const EVENT_COLUMNS = `{artist: 'VARCHAR', firstName: 'VARCHAR', gender: 'VARCHAR', itemInSession: 'VARCHAR', lastName: 'VARCHAR', length: 'VARCHAR', level: 'VARCHAR', location: 'VARCHAR', page: 'VARCHAR', sessionId: 'VARCHAR', song: 'VARCHAR', ts: 'VARCHAR', userAgent: 'VARCHAR', userId: 'VARCHAR'}`;

export interface PeerOptions {
  songsDir: string;
  logsDir: string;
  outDir: string;
  threads: number;
  /** Whether the logs hold `.json.gz` files (a glob that matches nothing is an error in DuckDB). */
  gzip: boolean;
}

/** The statements, in order. The COPY statements return the row counts of the five tables. */
export function duckdbPeerSql(o: PeerOptions): { setup: string[]; copies: Record<string, string> } {
  const songs = `[${q(`${o.songsDir}/**/*.json`)}]`;
  const logs = `[${q(`${o.logsDir}/**/*.json`)}${o.gzip ? `, ${q(`${o.logsDir}/**/*.json.gz`)}` : ''}]`;
  const out = (table: string) => q(`${o.outDir}/${table}`);
  return {
    setup: [
      `SET threads = ${o.threads}`,
      `SET TimeZone = 'UTC'`,
      `SET preserve_insertion_order = false`,
      `CREATE TEMP TABLE song_rec AS
         SELECT filename, song_id, title, TRY_CAST(duration AS DOUBLE) AS duration, TRY_CAST(TRY_CAST(year AS DOUBLE) AS INTEGER) AS year,
                artist_id, artist_name, artist_location, TRY_CAST(artist_latitude AS DOUBLE) AS latitude, TRY_CAST(artist_longitude AS DOUBLE) AS longitude
         FROM read_json(${songs}, format = 'newline_delimited', columns = ${SONG_COLUMNS}, filename = true)
         WHERE song_id IS NOT NULL AND song_id <> ''`,
      `CREATE TEMP TABLE songs_won AS
         SELECT * FROM song_rec QUALIFY row_number() OVER (PARTITION BY song_id ORDER BY filename) = 1`,
      `CREATE TEMP TABLE events AS
         SELECT TRY_CAST(TRY_CAST(ts AS DOUBLE) AS BIGINT) AS ts, TRY_CAST(TRY_CAST(userId AS DOUBLE) AS BIGINT) AS user_id,
                firstName AS first_name, lastName AS last_name, gender, level, page, song, artist, TRY_CAST(length AS DOUBLE) AS length,
                TRY_CAST(TRY_CAST(sessionId AS DOUBLE) AS BIGINT) AS session_id, TRY_CAST(TRY_CAST(itemInSession AS DOUBLE) AS BIGINT) AS item_in_session,
                location, userAgent AS user_agent, filename
         FROM read_json(${logs}, format = 'newline_delimited', columns = ${EVENT_COLUMNS}, filename = true)
         WHERE TRY_CAST(TRY_CAST(ts AS DOUBLE) AS BIGINT) BETWEEN 0 AND 253402300799999`,
      `CREATE TEMP TABLE plays AS
         SELECT * FROM events WHERE page = 'NextSong' AND user_id IS NOT NULL
         QUALIFY row_number() OVER (PARTITION BY user_id, session_id, item_in_session, ts ORDER BY filename) = 1`,
      `CREATE TEMP TABLE matches AS
         SELECT p.user_id, p.session_id, p.item_in_session, p.ts, s.song_id, s.artist_id
         FROM plays p JOIN songs_won s ON s.title = p.song AND s.artist_name = p.artist
          AND (s.duration IS NULL OR p.length IS NULL OR abs(s.duration - p.length) <= 2)
         QUALIFY row_number() OVER (PARTITION BY p.user_id, p.session_id, p.item_in_session, p.ts ORDER BY abs(s.duration - p.length) NULLS LAST, s.song_id) = 1`,
    ],
    copies: {
      songs: `COPY (SELECT song_id, title, duration, year, artist_id FROM songs_won) TO ${out('songs')} (FORMAT parquet, PARTITION_BY (year, artist_id))`,
      artists: `COPY (SELECT artist_id, artist_name AS name, artist_location AS location, latitude, longitude FROM song_rec
                      WHERE artist_id IS NOT NULL AND artist_id <> '' QUALIFY row_number() OVER (PARTITION BY artist_id ORDER BY filename) = 1)
                TO ${q(`${o.outDir}/artists/part-0.parquet`)} (FORMAT parquet)`,
      users: `COPY (SELECT user_id, first_name, last_name, gender, level FROM events WHERE user_id IS NOT NULL
                    QUALIFY row_number() OVER (PARTITION BY user_id ORDER BY ts DESC, filename DESC) = 1)
              TO ${q(`${o.outDir}/users/part-0.parquet`)} (FORMAT parquet)`,
      time: `COPY (SELECT DISTINCT epoch_ms(ts)::TIMESTAMPTZ AS start_time, hour(epoch_ms(ts))::INTEGER AS hour, day(epoch_ms(ts))::INTEGER AS day,
                          week(epoch_ms(ts))::INTEGER AS week, isodow(epoch_ms(ts))::INTEGER AS weekday,
                          year(epoch_ms(ts))::INTEGER AS year, month(epoch_ms(ts))::INTEGER AS month FROM plays)
             TO ${out('time')} (FORMAT parquet, PARTITION_BY (year, month))`,
      songplays: `COPY (SELECT (hash(p.user_id, p.session_id, p.item_in_session, p.ts) & 9223372036854775807::UBIGINT)::BIGINT AS songplay_id,
                               epoch_ms(p.ts)::TIMESTAMPTZ AS start_time, p.user_id, p.level, m.song_id, m.artist_id, p.session_id, p.location, p.user_agent,
                               year(epoch_ms(p.ts))::INTEGER AS year, month(epoch_ms(p.ts))::INTEGER AS month
                        FROM plays p LEFT JOIN matches m USING (user_id, session_id, item_in_session, ts))
                  TO ${out('songplays')} (FORMAT parquet, PARTITION_BY (year, month))`,
    },
  };
}
