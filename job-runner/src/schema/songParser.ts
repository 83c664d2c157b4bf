// Song records (Million Song Dataset style: one object per file, or JSON lines of songs) →
// ColumnBatches of accepted songs.
//
// The same byte-level scanner as events: JSON.parse would do for 15k song files (requests dominate
// there) but is 3-4x slower on a large JSON-lines song dump, and one scanner keeps the two record
// kinds under exactly the same JSON and coercion semantics (docs/schema-on-read.md "Measured").
import type { BatchSchema } from '../columnar/batch.js';
import { BatchBuilder, F64Builder, I32Builder, StrBuilder } from './columnBuilders.js';
import { MAX_INT32, coerceDouble, coerceInt, coerceString } from './coerce.js';
import { NUMBER, STRING, type JsonScanner } from './jsonScanner.js';
import { decodeJsonString } from './jsonString.js';
import { MAX_SEGMENT_BYTES, partitionSegmentBytes } from '../run/partitionPath.js';
import { DEFAULT_BATCH_ROWS, RecordParser, type ParserOptions } from './recordParser.js';
import type { RejectReason } from './rejects.js';

/** Known song fields; a field's index is its position here. */
export const SONG_FIELDS = [
  'song_id',
  'title',
  'duration',
  'year',
  'artist_id',
  'artist_name',
  'artist_location',
  'artist_latitude',
  'artist_longitude',
  'num_songs',
] as const;

const field = (name: (typeof SONG_FIELDS)[number]): number => SONG_FIELDS.indexOf(name);
const SONG_ID = field('song_id');
const TITLE = field('title');
const DURATION = field('duration');
const YEAR = field('year');
const ARTIST_ID = field('artist_id');
const ARTIST_ID_PREFIX_BYTES = 'artist_id='.length;
const ARTIST_NAME = field('artist_name');
const ARTIST_LOCATION = field('artist_location');
const ARTIST_LATITUDE = field('artist_latitude');
const ARTIST_LONGITUDE = field('artist_longitude');
const NUM_SONGS = field('num_songs');

/** Columns of a song batch, in order. */
export const SONG_SCHEMA: BatchSchema = [
  { name: 'song_id', kind: 'str' },
  { name: 'title', kind: 'str' },
  { name: 'artist_id', kind: 'str' },
  { name: 'artist_name', kind: 'str' },
  { name: 'artist_location', kind: 'str' },
  { name: 'duration', kind: 'f64' },
  { name: 'artist_latitude', kind: 'f64' },
  { name: 'artist_longitude', kind: 'f64' },
  { name: 'year', kind: 'i32' },
  { name: 'src', kind: 'i32' },
  { name: 'offset', kind: 'i64' },
  { name: 'line', kind: 'i32' },
];

export class SongParser extends RecordParser {
  private readonly songIdCol = new StrBuilder();
  private readonly titleCol = new StrBuilder();
  private readonly artistIdCol = new StrBuilder();
  private readonly artistNameCol = new StrBuilder();
  private readonly artistLocationCol = new StrBuilder();
  private readonly durationCol = new F64Builder('f64');
  private readonly latitudeCol = new F64Builder('f64');
  private readonly longitudeCol = new F64Builder('f64');
  private readonly yearCol = new I32Builder();
  private readonly srcCol = new I32Builder();
  private readonly offsetCol = new F64Builder('i64');
  private readonly lineCol = new I32Builder();

  constructor(opts: ParserOptions) {
    const batch = new BatchBuilder(opts.batchRows ?? DEFAULT_BATCH_ROWS);
    super(SONG_FIELDS, batch, opts);
    const builders = [
      this.songIdCol, this.titleCol, this.artistIdCol, this.artistNameCol, this.artistLocationCol, this.durationCol,
      this.latitudeCol, this.longitudeCol, this.yearCol, this.srcCol, this.offsetCol, this.lineCol,
    ];
    batch.attach(SONG_SCHEMA.map((c, i) => ({ name: c.name, builder: builders[i] })));
  }

  protected acceptRecord(sc: JsonScanner, buf: Buffer, line: number | null, offset: number): RejectReason | null {
    const drift = this.drift;
    const idType = sc.typeOf(SONG_ID);
    // A song_id must be a non-empty string or a number (kept as its JSON text).
    if (!(idType === NUMBER || (idType === STRING && sc.start[SONG_ID] < sc.end[SONG_ID]))) return 'missing-song_id';
    if (artistIdTooLong(sc, buf)) return 'partition-value-too-long';

    const row = this.batch.beginRow();
    this.songIdCol.set(row, coerceString(sc, buf, SONG_ID, this.songIdCol.dict, drift));
    this.titleCol.set(row, coerceString(sc, buf, TITLE, this.titleCol.dict, drift));
    this.artistIdCol.set(row, coerceString(sc, buf, ARTIST_ID, this.artistIdCol.dict, drift));
    this.artistNameCol.set(row, coerceString(sc, buf, ARTIST_NAME, this.artistNameCol.dict, drift));
    this.artistLocationCol.set(row, coerceString(sc, buf, ARTIST_LOCATION, this.artistLocationCol.dict, drift));
    this.durationCol.set(row, coerceDouble(sc, buf, DURATION, drift));
    this.latitudeCol.set(row, coerceDouble(sc, buf, ARTIST_LATITUDE, drift));
    this.longitudeCol.set(row, coerceDouble(sc, buf, ARTIST_LONGITUDE, drift));
    const year = coerceInt(sc, buf, YEAR, drift, MAX_INT32);
    if (year !== year) this.yearCol.setNull(row);
    else this.yearCol.set(row, year);
    this.srcCol.set(row, this.ordinal);
    this.offsetCol.set(row, offset);
    if (line === null) this.lineCol.setNull(row);
    else this.lineCol.set(row, line);
    coerceInt(sc, buf, NUM_SONGS, drift);
    this.batch.commitRow();
    return null;
  }
}

/**
 * Whether the record's artist_id, escaped for its `artist_id=<value>` folder name, makes that name
 * longer than a file name may be (255 bytes). Escaping at most triples a byte and decoding never
 * lengthens the raw JSON text by more than that either (an invalid byte becomes the 3-byte U+FFFD),
 * so a raw value of at most 81 bytes always fits: only longer ones are decoded and measured.
 * Numbers and booleans become short texts, and null is the default partition: never too long.
 */
function artistIdTooLong(sc: JsonScanner, buf: Buffer): boolean {
  if (sc.typeOf(ARTIST_ID) !== STRING) return false;
  const s = sc.start[ARTIST_ID];
  const e = sc.end[ARTIST_ID];
  if (3 * (e - s) + ARTIST_ID_PREFIX_BYTES <= MAX_SEGMENT_BYTES) return false;
  return partitionSegmentBytes('artist_id', decodeJsonString(buf, s, e, sc.flagsOf(ARTIST_ID))) > MAX_SEGMENT_BYTES;
}
