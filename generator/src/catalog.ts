// The song catalog, Million Song Dataset style. Every song and artist is a pure function of its
// index and the seed, so the catalog costs no memory at any size and the event simulation can ask
// for song i whenever a user plays it.
//
// Ids keep the real shapes (SOGVQGJ12AB017F169, AR62SOJ1187FB47BB5, TRABBNP128F932546F) and are
// unique by construction: seven base-26 letters encode a 32-bit bijection of the index.
import { hash32, mix32, unit } from './random.js';
import { pythonFloat, pythonString } from './jsonText.js';
import { ARTIST_FIRST, ARTIST_WORDS, PLACES, TITLE_WORDS } from './vocabulary.js';

export interface Song {
  index: number;
  trackId: string;
  songId: string;
  title: string;
  /** Seconds, at most 5 decimals as in the real files. */
  duration: number;
  /** 0 means unknown (most of the real sample). */
  year: number;
  artist: number;
}

export interface Artist {
  index: number;
  artistId: string;
  name: string;
  location: string;
  latitude: number | null;
  longitude: number | null;
}

const SALT_SONG = 0x50a1;
const SALT_TRACK = 0x7ac4;
const SALT_ARTIST = 0xa271;

function letters7(x: number): string {
  let out = '';
  for (let i = 0; i < 7; i++) {
    out = String.fromCharCode(65 + (x % 26)) + out;
    x = Math.floor(x / 26);
  }
  return out;
}

const hex4 = (x: number) => (x & 0xffff).toString(16).toUpperCase().padStart(4, '0');

function words(seed: number, index: number, salt: number, count: number, list: readonly string[]): string {
  const out: string[] = [];
  for (let k = 0; k < count; k++) out.push(list[hash32(seed, index, salt, k) % list.length]!);
  return out.join(' ');
}

export class Catalog {
  constructor(
    readonly seed: number,
    readonly songs: number,
    readonly artists: number,
  ) {
    if (!Number.isInteger(songs) || songs < 0 || songs >= 2 ** 32) throw new RangeError(`songs must be an integer in [0, 2^32): ${songs}`);
    if (!Number.isInteger(artists) || artists < 1) throw new RangeError(`artists must be a positive integer: ${artists}`);
  }

  /** Song `i`; indexes ≥ `songs` are songs outside the catalog (plays that match nothing). */
  song(i: number): Song {
    const s = this.seed;
    const id = mix32((i ^ SALT_SONG ^ Math.imul(s, 0x2545f491)) >>> 0);
    const nWords = 1 + (hash32(s, i, 11) % 4);
    // 60 s to ~8 min, 5 decimals like "218.93179".
    const duration = Math.round((60 + unit(s, i, 12) * 420) * 1e5) / 1e5;
    const year = unit(s, i, 13) < 0.55 ? 0 : 1955 + (hash32(s, i, 14) % 56);
    return {
      index: i,
      trackId: 'TR' + letters7(mix32((i ^ SALT_TRACK ^ Math.imul(s, 0x2545f491)) >>> 0)) + '128F9' + hex4(hash32(s, i, 15)),
      songId: 'SO' + letters7(id) + '12A8C' + hex4(hash32(s, i, 16)),
      title: words(s, i, 17, nWords, TITLE_WORDS),
      duration,
      year,
      artist: hash32(s, i, 18) % this.artists,
    };
  }

  artist(j: number): Artist {
    const s = this.seed;
    const shape = unit(s, j, 21);
    const name =
      shape < 0.5 ? words(s, j, 22, 1, ARTIST_WORDS) : shape < 0.75 ? `${words(s, j, 23, 1, ARTIST_FIRST)} ${words(s, j, 24, 1, ARTIST_WORDS)}` : words(s, j, 25, 2, ARTIST_WORDS);
    const where = unit(s, j, 26);
    const place = PLACES[hash32(s, j, 27) % PLACES.length]!;
    return {
      index: j,
      artistId: 'AR' + letters7(mix32((j ^ SALT_ARTIST ^ Math.imul(s, 0x2545f491)) >>> 0)) + '1187F' + hex4(hash32(s, j, 28)),
      name,
      location: where < 0.35 ? '' : place.name,
      latitude: where < 0.6 ? null : place.lat,
      longitude: where < 0.6 ? null : place.lon,
    };
  }

  /** `song_data/A/B/C/TR….json`: three levels from the track id, as the real dataset. */
  songKey(song: Song, prefix = 'song_data/'): string {
    const t = song.trackId;
    return `${prefix}${t[2]}/${t[3]}/${t[4]}/${t}.json`;
  }

  /** One song file, byte for byte in the real files' format (Python's json.dumps, no newline). */
  songJson(song: Song, artist = this.artist(song.artist)): string {
    const num = (x: number | null) => (x === null ? 'null' : pythonFloat(x));
    return (
      `{"num_songs": 1, "artist_id": ${pythonString(artist.artistId)}, "artist_latitude": ${num(artist.latitude)}, ` +
      `"artist_longitude": ${num(artist.longitude)}, "artist_location": ${pythonString(artist.location)}, ` +
      `"artist_name": ${pythonString(artist.name)}, "song_id": ${pythonString(song.songId)}, "title": ${pythonString(song.title)}, ` +
      `"duration": ${pythonFloat(song.duration)}, "year": ${song.year}}`
    );
  }
}
