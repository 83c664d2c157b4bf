// The generator's pure pieces: JSON text as the real producers write it, the random helpers, the
// catalog's ids and file format, the users' upgrade history and the event stream's invariants.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { eventsimString, pythonFloat, pythonString } from '../../generator/src/jsonText.js';
import { Rng, scatter, zipfRank } from '../../generator/src/random.js';
import { Catalog, EventStream, Users } from '../../generator/src/index.js';

describe('JSON text', () => {
  // Expected values are what Python's json.dumps (songs) and eventsim (logs) write.
  const cases: { name: string; input: string; python: string; eventsim: string }[] = [
    { name: 'plain', input: 'Soul Deep', python: '"Soul Deep"', eventsim: '"Soul Deep"' },
    { name: 'non-ASCII', input: 'Björk', python: '"Bj\\u00f6rk"', eventsim: '"Bj\\u00f6rk"' },
    { name: 'astral (surrogate pair)', input: '😀', python: '"\\ud83d\\ude00"', eventsim: '"\\ud83d\\ude00"' },
    { name: 'slash', input: 'AC/DC', python: '"AC/DC"', eventsim: '"AC\\/DC"' },
    { name: 'quote and backslash', input: 'a"b\\c', python: '"a\\"b\\\\c"', eventsim: '"a\\"b\\\\c"' },
    { name: 'control characters', input: '\u0001\n', python: '"\\u0001\\n"', eventsim: '"\\u0001\\n"' },
    { name: 'ligature', input: 'Cœur', python: '"C\\u0153ur"', eventsim: '"C\\u0153ur"' },
  ];
  for (const c of cases) {
    test(c.name, () => {
      assert.equal(pythonString(c.input), c.python);
      assert.equal(eventsimString(c.input), c.eventsim);
      assert.equal(JSON.parse(c.python), c.input);
      assert.equal(JSON.parse(c.eventsim), c.input);
    });
  }
  test('floats as Python writes them', () => {
    assert.deepEqual([1540919166796, 218.93179, -0.12714, 0].map(pythonFloat), ['1540919166796.0', '218.93179', '-0.12714', '0.0']);
  });
});

describe('random helpers', () => {
  test('the same seed gives the same stream; another seed another one', () => {
    const a = new Rng(7);
    const b = new Rng(7);
    const c = new Rng(8);
    const xs = Array.from({ length: 5 }, () => a.u32());
    assert.deepEqual(xs, Array.from({ length: 5 }, () => b.u32()));
    assert.notDeepEqual(xs, Array.from({ length: 5 }, () => c.u32()));
  });

  test('zipfRank stays in range and favours small ranks (≈ Zipf(1))', () => {
    const rng = new Rng(1);
    const n = 10_000;
    const counts = new Map<number, number>();
    for (let i = 0; i < 200_000; i++) {
      const r = zipfRank(rng.next(), n);
      assert.ok(r >= 0 && r < n);
      counts.set(r, (counts.get(r) ?? 0) + 1);
    }
    const top100 = [...Array(100).keys()].reduce((s, r) => s + (counts.get(r) ?? 0), 0) / 200_000;
    // Under Zipf(1), ranks < 100 of 10,000 hold ln(101)/ln(10001) ≈ 50 % of the draws.
    assert.ok(top100 > 0.45 && top100 < 0.55, `top 1% share ${top100}`);
    assert.equal(zipfRank(0, 5), 0);
    assert.equal(zipfRank(0.999999999, 5), 4);
  });

  for (const n of [1, 2, 12, 1000, 1024, 99991]) {
    test(`scatter is a bijection of [0, ${n})`, () => {
      const f = scatter(n, 3);
      const seen = new Uint8Array(n);
      for (let i = 0; i < n; i++) seen[f(i)]! += 1;
      assert.ok(seen.every((x) => x === 1));
    });
  }
});

describe('catalog', () => {
  const catalog = new Catalog(1, 5000, 4000);
  test('ids have the real shapes, are unique, and the file key follows the track id', () => {
    const songIds = new Set<string>();
    const trackIds = new Set<string>();
    for (let i = 0; i < 5000; i++) {
      const s = catalog.song(i);
      assert.match(s.songId, /^SO[A-Z]{7}12A8C[0-9A-F]{4}$/);
      assert.match(s.trackId, /^TR[A-Z]{7}128F9[0-9A-F]{4}$/);
      songIds.add(s.songId);
      trackIds.add(s.trackId);
      assert.equal(catalog.songKey(s), `song_data/${s.trackId[2]}/${s.trackId[3]}/${s.trackId[4]}/${s.trackId}.json`);
    }
    assert.equal(songIds.size, 5000);
    assert.equal(trackIds.size, 5000);
    assert.match(catalog.artist(3).artistId, /^AR[A-Z]{7}1187F[0-9A-F]{4}$/);
  });

  test('a song file is one Python-style object with the Udacity field order', () => {
    const song = catalog.song(42);
    const text = catalog.songJson(song);
    assert.match(text, /^\{"num_songs": 1, "artist_id": "AR[^"]+", "artist_latitude": (null|-?[\d.]+), "artist_longitude": (null|-?[\d.]+), "artist_location": "[^"]*", "artist_name": "[^"]*", "song_id": "SO[^"]+", "title": "[^"]*", "duration": [\d.]+, "year": \d+\}$/);
    const parsed = JSON.parse(text) as Record<string, unknown>;
    assert.deepEqual(Object.keys(parsed), ['num_songs', 'artist_id', 'artist_latitude', 'artist_longitude', 'artist_location', 'artist_name', 'song_id', 'title', 'duration', 'year']);
    assert.equal(parsed.duration, song.duration);
  });

  test('artists have several songs, unknown years are 0', () => {
    const perArtist = new Map<number, number>();
    let zeros = 0;
    for (let i = 0; i < 5000; i++) {
      const s = catalog.song(i);
      perArtist.set(s.artist, (perArtist.get(s.artist) ?? 0) + 1);
      if (s.year === 0) zeros++;
    }
    assert.ok(Math.max(...perArtist.values()) >= 4);
    assert.ok(zeros > 2000 && zeros < 3500, `year 0: ${zeros}`);
  });
});

describe('event stream', () => {
  const start = Date.UTC(2018, 9, 1);
  const end = start + 183 * 86_400_000;
  const catalog = new Catalog(1, 2000, 1600);
  const users = new Users(1, 60, start, end);
  const events = Array.from(
    (function* () {
      const s = new EventStream({ seed: 1, events: 30_000, catalog, users, matchShare: 0.6 });
      for (let e = s.next(); e; e = s.next()) yield JSON.parse(e.text) as Record<string, unknown> & { ts: number; sessionId: number; itemInSession: number; page: string };
    })(),
  );

  test('exactly the requested number of events, in timestamp order, over the whole period', () => {
    assert.equal(events.length, 30_000);
    for (let i = 1; i < events.length; i++) assert.ok(events[i]!.ts >= events[i - 1]!.ts);
    assert.ok(events[0]!.ts < start + 5 * 86_400_000 && events.at(-1)!.ts > end - 10 * 86_400_000, 'spans the period');
  });

  test('eventsim field set, in order, with eventsim types', () => {
    const keys = ['artist', 'auth', 'firstName', 'gender', 'itemInSession', 'lastName', 'length', 'level', 'location', 'method', 'page', 'registration', 'sessionId', 'song', 'status', 'ts', 'userAgent', 'userId'];
    for (const e of events.slice(0, 2000)) {
      assert.deepEqual(Object.keys(e), keys);
      assert.equal(typeof e.userId, 'string');
      if (e.page === 'NextSong') assert.ok(typeof e.song === 'string' && typeof e.length === 'number' && e.auth === 'Logged In' && e.userId !== '');
      if (e.auth === 'Logged Out') assert.ok(e.userId === '' && e.firstName === null && e.registration === null);
    }
  });

  test('sessions number their items from 0 upwards; a realistic page mix', () => {
    const lastItem = new Map<number, number>();
    const pages = new Map<string, number>();
    for (const e of events) {
      const prev = lastItem.get(e.sessionId) ?? -1;
      assert.equal(e.itemInSession, prev + 1, `session ${e.sessionId}`);
      lastItem.set(e.sessionId, e.itemInSession);
      pages.set(e.page, (pages.get(e.page) ?? 0) + 1);
    }
    const share = (p: string) => (pages.get(p) ?? 0) / events.length;
    assert.ok(share('NextSong') > 0.75 && share('NextSong') < 0.9, `NextSong ${share('NextSong')}`);
    for (const p of ['Home', 'Login', 'Logout', 'Settings', 'Save Settings', 'Help', 'About', 'Upgrade', 'Submit Upgrade', 'Downgrade', 'Error']) assert.ok((pages.get(p) ?? 0) > 0, `page ${p} appears`);
  });

  test('some users upgrade from free to paid: their first event is free, their last paid', () => {
    const levels = new Map<string, string[]>();
    for (const e of events) if (e.userId !== '') levels.set(e.userId as string, [...(levels.get(e.userId as string) ?? []), e.level as string]);
    const upgraded = [...levels.values()].filter((ls) => ls[0] === 'free' && ls.at(-1) === 'paid').length;
    const downgraded = [...levels.values()].filter((ls) => ls[0] === 'paid' && ls.at(-1) === 'free').length;
    assert.ok(upgraded >= 3, `${upgraded} users upgraded`);
    assert.equal(downgraded, 0);
    assert.ok(events.some((e) => e.page === 'Submit Upgrade' && e.level === 'free'));
  });
});
