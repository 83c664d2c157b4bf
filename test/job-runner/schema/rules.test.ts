// Every reject rule and coercion of docs/schema-on-read.md as a table: one hostile record each, the
// expected outcome written out by hand (and cross-checked against the JSON.parse reference).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EventParser } from '../../../job-runner/src/schema/eventParser.js';
import { SongParser } from '../../../job-runner/src/schema/songParser.js';
import type { RecordParser } from '../../../job-runner/src/schema/recordParser.js';
import type { RejectedRecord } from '../../../job-runner/src/schema/rejects.js';
import { allRows, type Row } from './batchRows.js';
import { referenceEvent, referenceSong, type RefResult } from './reference.js';

interface Case {
  name: string;
  line: string | Buffer;
  /** A reject reason, or the expected values of some columns plus the drift keys. */
  want: string | { row: Row; drift?: string[]; unknown?: string[] };
}

const EV = '"page":"NextSong","userId":"7"';

const eventCases: Case[] = [
  // Records and JSON validity
  { name: 'not JSON', line: '{"ts":1', want: 'invalid-json' },
  { name: 'trailing garbage', line: '{"ts":1} x', want: 'invalid-json' },
  { name: 'two objects on a line', line: '{"ts":1}{"ts":2}', want: 'invalid-json' },
  { name: 'trailing comma', line: '{"ts":1,}', want: 'invalid-json' },
  { name: 'single quotes', line: "{'ts':1}", want: 'invalid-json' },
  { name: 'raw tab inside a string', line: '{"ts":1,"song":"a\tb"}', want: 'invalid-json' },
  { name: 'bad escape', line: '{"ts":1,"song":"\\x41"}', want: 'invalid-json' },
  { name: 'short unicode escape', line: '{"ts":1,"song":"\\u12"}', want: 'invalid-json' },
  { name: 'leading zero', line: '{"ts":01}', want: 'invalid-json' },
  { name: 'plus sign', line: '{"ts":+1}', want: 'invalid-json' },
  { name: 'form feed is not JSON whitespace', line: '{"ts":1}\f', want: 'invalid-json' },
  { name: 'a BOM is a character JSON.parse rejects', line: '\ufeff{"ts":1}', want: 'invalid-json' },
  { name: 'non-ASCII outside strings', line: '{"ts":1}é', want: 'invalid-json' },
  { name: 'deeply nested garbage', line: `{"ts":1,"x":${'['.repeat(10000)}${']'.repeat(9999)}}`, want: 'invalid-json' },
  { name: 'array', line: '[{"ts":1}]', want: 'not-an-object' },
  { name: 'string', line: '"{\\"ts\\":1}"', want: 'not-an-object' },
  { name: 'number', line: ' 42 ', want: 'not-an-object' },
  { name: 'null', line: 'null', want: 'not-an-object' },
  { name: 'deep nesting is fine', line: `{"ts":1,"x":${'['.repeat(10000)}${']'.repeat(10000)}}`, want: { row: { ts: 1 }, unknown: ['x'] } },
  { name: 'whitespace everywhere', line: ' \t{ "ts" :\t5 , "page" : "Home" }\t ', want: { row: { ts: 5, page: 'Home' } } },
  // ts
  { name: 'ts absent', line: '{"page":"Home"}', want: 'missing-ts' },
  { name: 'ts null', line: '{"ts":null}', want: 'missing-ts' },
  { name: 'ts empty', line: '{"ts":""}', want: 'missing-ts' },
  { name: 'ts blank string is not empty', line: '{"ts":" "}', want: 'invalid-ts' },
  { name: 'ts fraction', line: '{"ts":1543537327796.5}', want: 'invalid-ts' },
  { name: 'ts negative', line: '{"ts":-1}', want: 'invalid-ts' },
  { name: 'ts past 9999-12-31', line: '{"ts":253402300800000}', want: 'invalid-ts' },
  { name: 'ts last valid ms', line: '{"ts":253402300799999}', want: { row: { ts: 253402300799999 } } },
  { name: 'ts zero', line: '{"ts":0}', want: { row: { ts: 0 } } },
  { name: 'ts -0', line: '{"ts":-0}', want: { row: { ts: 0 } } },
  { name: 'ts boolean', line: '{"ts":true}', want: 'invalid-ts' },
  { name: 'ts object', line: '{"ts":{}}', want: 'invalid-ts' },
  { name: 'ts text', line: '{"ts":"yesterday"}', want: 'invalid-ts' },
  { name: 'ts numeric string', line: '{"ts":" 1543537327796 "}', want: { row: { ts: 1543537327796 }, drift: ['ts:string->int64'] } },
  { name: 'ts integral with .0', line: '{"ts":1543537327796.0}', want: { row: { ts: 1543537327796 } } },
  { name: 'ts exponent', line: '{"ts":1.543537327796e12}', want: { row: { ts: 1543537327796 } } },
  { name: 'ts string with escapes', line: '{"ts":"\\u0031\\u0032"}', want: { row: { ts: 12 }, drift: ['ts:string->int64'] } },
  { name: 'ts duplicate: the last wins', line: '{"ts":1,"ts":"x"}', want: 'invalid-ts' },
  { name: 'ts duplicate: the last wins (valid)', line: '{"ts":"x","ts":2}', want: { row: { ts: 2 } } },
  { name: 'ts key written with an escape', line: '{"\\u0074s":3}', want: { row: { ts: 3 } } },
  { name: 'ts key in another case is unknown', line: '{"Ts":3}', want: 'missing-ts' },
  // userId and NextSong
  { name: 'NextSong without userId', line: '{"ts":1,"page":"NextSong"}', want: 'missing-user-id' },
  { name: 'NextSong with empty userId', line: '{"ts":1,"page":"NextSong","userId":""}', want: 'missing-user-id' },
  { name: 'NextSong with fractional userId', line: '{"ts":1,"page":"NextSong","userId":7.5}', want: 'missing-user-id' },
  { name: 'NextSong with userId past 2^53-1', line: '{"ts":1,"page":"NextSong","userId":"9007199254740992"}', want: 'missing-user-id' },
  { name: 'NextSong spelled with an escape', line: '{"ts":1,"page":"Next\\u0053ong","userId":null}', want: 'missing-user-id' },
  { name: 'page is compared exactly', line: '{"ts":1,"page":"nextsong","userId":null}', want: { row: { page: 'nextsong', user_id: null } } },
  { name: 'invalid ts is checked before the user id', line: '{"ts":-5,"page":"NextSong"}', want: 'invalid-ts' },
  { name: 'Home with empty userId', line: '{"ts":1,"page":"Home","userId":""}', want: { row: { user_id: null }, drift: ['userId:empty->null'] } },
  { name: 'userId as a string', line: `{"ts":1,${EV}}`, want: { row: { user_id: 7, page: 'NextSong' }, drift: ['userId:string->int64'] } },
  { name: 'userId largest exact', line: '{"ts":1,"page":"NextSong","userId":9007199254740991}', want: { row: { user_id: 9007199254740991 } } },
  { name: 'userId negative', line: '{"ts":1,"page":"NextSong","userId":-3}', want: { row: { user_id: -3 } } },
  // Coercion: integers
  { name: 'sessionId numeric string with .0', line: `{"ts":1,${EV},"sessionId":"39.0"}`, want: { row: { session_id: 39 }, drift: ['userId:string->int64', 'sessionId:string->int64'] } },
  { name: 'sessionId hex is not numeric', line: `{"ts":1,${EV},"sessionId":"0x10"}`, want: { row: { session_id: null }, drift: ['userId:string->int64', 'sessionId:string->null'] } },
  { name: 'sessionId with a vertical tab is not numeric', line: `{"ts":1,${EV},"sessionId":"39\\u000b"}`, want: { row: { session_id: null }, drift: ['userId:string->int64', 'sessionId:string->null'] } },
  { name: 'sessionId with escaped tab and newline around it', line: `{"ts":1,${EV},"sessionId":"\\t39\\n"}`, want: { row: { session_id: 39 }, drift: ['userId:string->int64', 'sessionId:string->int64'] } },
  { name: 'sessionId fraction', line: `{"ts":1,${EV},"sessionId":1.5}`, want: { row: { session_id: null }, drift: ['userId:string->int64', 'sessionId:number->null'] } },
  { name: 'itemInSession boolean', line: `{"ts":1,${EV},"itemInSession":false}`, want: { row: { item_in_session: null }, drift: ['userId:string->int64', 'itemInSession:boolean->null'] } },
  { name: 'itemInSession array', line: `{"ts":1,${EV},"itemInSession":[1]}`, want: { row: { item_in_session: null }, drift: ['userId:string->int64', 'itemInSession:array->null'] } },
  { name: 'itemInSession object', line: `{"ts":1,${EV},"itemInSession":{"n":1}}`, want: { row: { item_in_session: null }, drift: ['userId:string->int64', 'itemInSession:object->null'] } },
  { name: 'itemInSession null: no drift', line: `{"ts":1,${EV},"itemInSession":null}`, want: { row: { item_in_session: null }, drift: ['userId:string->int64'] } },
  { name: 'registration with .0 is an integer', line: `{"ts":1,${EV},"registration":1540991795796.0}`, want: { row: {}, drift: ['userId:string->int64'] } },
  { name: 'status text is drift only', line: `{"ts":1,${EV},"status":"OK"}`, want: { row: {}, drift: ['userId:string->int64', 'status:string->null'] } },
  // Coercion: doubles
  { name: 'length numeric string', line: `{"ts":1,${EV},"length":"62.5"}`, want: { row: { length: 62.5 }, drift: ['userId:string->int64', 'length:string->double'] } },
  { name: 'length overflow is not finite', line: `{"ts":1,${EV},"length":1e400}`, want: { row: { length: null }, drift: ['userId:string->int64', 'length:number->null'] } },
  { name: 'length "Infinity" is not numeric', line: `{"ts":1,${EV},"length":"Infinity"}`, want: { row: { length: null }, drift: ['userId:string->int64', 'length:string->null'] } },
  { name: 'length empty', line: `{"ts":1,${EV},"length":""}`, want: { row: { length: null }, drift: ['userId:string->int64', 'length:empty->null'] } },
  { name: 'length -0 stays -0', line: `{"ts":1,${EV},"length":-0}`, want: { row: { length: -0 }, drift: ['userId:string->int64'] } },
  { name: 'length many digits', line: `{"ts":1,${EV},"length":0.30000000000000004441}`, want: { row: { length: 0.30000000000000004 }, drift: ['userId:string->int64'] } },
  { name: 'length tiny', line: `{"ts":1,${EV},"length":5e-324}`, want: { row: { length: 5e-324 }, drift: ['userId:string->int64'] } },
  // Coercion: strings
  { name: 'number in a string field', line: `{"ts":1,${EV},"firstName":42}`, want: { row: { first_name: '42' }, drift: ['userId:string->int64', 'firstName:number->string'] } },
  { name: 'number text is JSON.stringify of the value', line: `{"ts":1,${EV},"firstName":1.50e1}`, want: { row: { first_name: '15' }, drift: ['userId:string->int64', 'firstName:number->string'] } },
  { name: 'big number text', line: `{"ts":1,${EV},"firstName":1e21}`, want: { row: { first_name: '1e+21' }, drift: ['userId:string->int64', 'firstName:number->string'] } },
  { name: 'boolean in a string field', line: `{"ts":1,${EV},"level":true}`, want: { row: { level: 'true' }, drift: ['userId:string->int64', 'level:boolean->string'] } },
  { name: 'object in a string field', line: `{"ts":1,${EV},"song":{"t":1}}`, want: { row: { song: null }, drift: ['userId:string->int64', 'song:object->null'] } },
  { name: 'array in a string field', line: `{"ts":1,${EV},"artist":[]}`, want: { row: { artist: null }, drift: ['userId:string->int64', 'artist:array->null'] } },
  { name: 'empty string stays empty', line: `{"ts":1,${EV},"location":""}`, want: { row: { location: '' }, drift: ['userId:string->int64'] } },
  { name: 'escapes are decoded', line: `{"ts":1,${EV},"userAgent":"Mozilla\\/5.0 \\"x\\" \\u00e9\\t"}`, want: { row: { user_agent: 'Mozilla/5.0 "x" é\t' }, drift: ['userId:string->int64'] } },
  { name: 'a surrogate pair from escapes', line: `{"ts":1,${EV},"song":"\\ud83c\\udfb5"}`, want: { row: { song: '🎵' }, drift: ['userId:string->int64'] } },
  { name: 'a lone surrogate stays lone', line: `{"ts":1,${EV},"song":"a\\ud800b"}`, want: { row: { song: 'a\ud800b' }, drift: ['userId:string->int64'] } },
  { name: 'non-ASCII kept', line: `{"ts":1,${EV},"firstName":"Zoé 日本 🎵"}`, want: { row: { first_name: 'Zoé 日本 🎵' }, drift: ['userId:string->int64'] } },
  {
    name: 'invalid UTF-8 becomes U+FFFD, counted once per record',
    line: Buffer.concat([Buffer.from(`{"ts":1,${EV},"firstName":"a`), Buffer.from([0xff, 0xc3]), Buffer.from('","x":"'), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('"}')]),
    want: { row: { first_name: 'a\ufffd\ufffd' }, drift: ['userId:string->int64', 'utf8:invalid->replaced'], unknown: ['x'] },
  },
  // Unknown fields
  { name: 'unknown fields are counted once per record', line: `{"ts":1,${EV},"x":1,"x":2,"__proto__":{},"":0}`, want: { row: {}, drift: ['userId:string->int64'], unknown: ['x', '__proto__', ''] } },
  { name: 'an unknown key with escapes is counted by its decoded name', line: '{"ts":1,"a\\u0062c":1,"abc":2}', want: { row: {}, unknown: ['abc'] } },
];

const songCases: Case[] = [
  { name: 'song_id absent', line: '{"title":"x"}', want: 'missing-song_id' },
  { name: 'song_id null', line: '{"song_id":null}', want: 'missing-song_id' },
  { name: 'song_id empty', line: '{"song_id":""}', want: 'missing-song_id' },
  { name: 'song_id boolean', line: '{"song_id":true}', want: 'missing-song_id' },
  { name: 'song_id object', line: '{"song_id":{"id":1}}', want: 'missing-song_id' },
  { name: 'song_id array', line: '{"song_id":["SO1"]}', want: 'missing-song_id' },
  { name: 'song_id number', line: '{"song_id":123}', want: { row: { song_id: '123' }, drift: ['song_id:number->string'] } },
  { name: 'song_id "0"', line: '{"song_id":"0"}', want: { row: { song_id: '0' } } },
  { name: 'not an object', line: '["SO1"]', want: 'not-an-object' },
  { name: 'year as a string', line: '{"song_id":"S","year":"2005"}', want: { row: { year: 2005 }, drift: ['year:string->int64'] } },
  { name: 'year 0 is kept', line: '{"song_id":"S","year":0}', want: { row: { year: 0 } } },
  { name: 'year beyond int32 is null', line: '{"song_id":"S","year":3000000000}', want: { row: { year: null }, drift: ['year:number->null'] } },
  { name: 'year fraction is null', line: '{"song_id":"S","year":2005.5}', want: { row: { year: null }, drift: ['year:number->null'] } },
  { name: 'latitude empty', line: '{"song_id":"S","artist_latitude":""}', want: { row: { artist_latitude: null }, drift: ['artist_latitude:empty->null'] } },
  { name: 'latitude null: no drift', line: '{"song_id":"S","artist_latitude":null}', want: { row: { artist_latitude: null } } },
  { name: 'duration numeric string', line: '{"song_id":"S","duration":" 337.68444"}', want: { row: { duration: 337.68444 }, drift: ['duration:string->double'] } },
  { name: 'num_songs is drift only', line: '{"song_id":"S","num_songs":"one"}', want: { row: {}, drift: ['num_songs:string->null'] } },
  { name: 'artist fields are strings', line: '{"song_id":"S","artist_id":"AR1","artist_name":"Chase & Status","artist_location":""}', want: { row: { artist_id: 'AR1', artist_name: 'Chase & Status', artist_location: '' } } },
  { name: 'unknown song field', line: '{"song_id":"S","tempo":120}', want: { row: {}, unknown: ['tempo'] } },
  // partition-value-too-long: `artist_id=<escaped>` must fit a 255-byte file name.
  { name: 'artist_id making a 255-byte folder name fits', line: `{"song_id":"S","artist_id":"${'A'.repeat(245)}"}`, want: { row: { artist_id: 'A'.repeat(245) } } },
  { name: 'artist_id making a 256-byte folder name', line: `{"song_id":"S","artist_id":"${'A'.repeat(246)}"}`, want: 'partition-value-too-long' },
  { name: 'escaping counts: 81 slashes fit', line: `{"song_id":"S","artist_id":"${'/'.repeat(81)}"}`, want: { row: { artist_id: '/'.repeat(81) } } },
  { name: 'escaping counts: 82 slashes do not', line: `{"song_id":"S","artist_id":"${'/'.repeat(82)}"}`, want: 'partition-value-too-long' },
  { name: 'JSON escapes count decoded: 82 \\u002f', line: `{"song_id":"S","artist_id":"${'\\u002f'.repeat(82)}"}`, want: 'partition-value-too-long' },
  { name: 'JSON escapes count decoded: 200 \\u0041 fit', line: `{"song_id":"S","artist_id":"${'\\u0041'.repeat(200)}"}`, want: { row: { artist_id: 'A'.repeat(200) } } },
  { name: 'non-ASCII counts its UTF-8 bytes: 122 é fit', line: `{"song_id":"S","artist_id":"${'é'.repeat(122)}"}`, want: { row: { artist_id: 'é'.repeat(122) } } },
  { name: 'non-ASCII counts its UTF-8 bytes: 123 é do not', line: `{"song_id":"S","artist_id":"${'é'.repeat(123)}"}`, want: 'partition-value-too-long' },
  {
    name: 'an invalid byte counts as U+FFFD (3 bytes)',
    line: Buffer.concat([Buffer.from('{"song_id":"S","artist_id":"'), Buffer.alloc(82, 0xff), Buffer.from('"}')]),
    want: 'partition-value-too-long',
  },
  { name: 'a lone surrogate counts as U+FFFD (3 bytes): 81 and AB fit', line: `{"song_id":"S","artist_id":"${'\\ud800'.repeat(81)}AB"}`, want: { row: { artist_id: '\ud800'.repeat(81) + 'AB' } } },
  { name: 'a lone surrogate counts as U+FFFD (3 bytes): 82 do not', line: `{"song_id":"S","artist_id":"${'\\udc00'.repeat(82)}"}`, want: 'partition-value-too-long' },
  { name: 'a surrogate pair counts 4 bytes: 61 emoji and A fit', line: `{"song_id":"S","artist_id":"${'\\ud83d\\ude00'.repeat(61)}A"}`, want: { row: { artist_id: '😀'.repeat(61) + 'A' } } },
  { name: 'a surrogate pair counts 4 bytes: 62 emoji and A do not', line: `{"song_id":"S","artist_id":"${'😀'.repeat(62)}A"}`, want: 'partition-value-too-long' },
  { name: 'missing-song_id is checked first', line: `{"song_id":"","artist_id":"${'A'.repeat(300)}"}`, want: 'missing-song_id' },
  { name: 'a long artist_id that is not a string is null, not too long', line: `{"song_id":"S","artist_id":[${'1,'.repeat(200)}1]}`, want: { row: { artist_id: null }, drift: ['artist_id:array->null'] } },
];

function runCase(c: Case, make: (onReject: (r: RejectedRecord) => void) => RecordParser, reference: (l: Buffer) => RefResult): void {
  const line = typeof c.line === 'string' ? Buffer.from(c.line) : c.line;
  const rejects: RejectedRecord[] = [];
  const parser = make((r) => rejects.push(r));
  parser.beginSource({ ordinal: 0, key: 'k', whole: false });
  const batches = [...parser.push({ type: 'lines', data: line, offset: 0, firstLine: 1 }), ...parser.endSource(), ...parser.finish()];
  const rows = allRows(batches);
  const ref = reference(line);
  const drift = parser.driftReport();
  if (typeof c.want === 'string') {
    assert.deepEqual(rows, [], c.name);
    assert.equal(rejects.length, 1, c.name);
    assert.equal(rejects[0].reason, c.want, c.name);
    assert.deepEqual(ref, { kind: 'reject', reason: c.want }, `${c.name}: the reference agrees`);
    assert.deepEqual({ ...drift.coercions }, {}, `${c.name}: a reject counts no drift`);
  } else {
    assert.equal(rejects.length, 0, `${c.name}: unexpected reject ${rejects[0]?.reason}`);
    assert.equal(rows.length, 1, c.name);
    for (const [k, v] of Object.entries(c.want.row)) assert.ok(Object.is(rows[0][k], v), `${c.name}: ${k} = ${String(rows[0][k])}, want ${String(v)}`);
    const counted = (keys: string[]) => Object.fromEntries([...new Set(keys)].map((k) => [k, keys.filter((x) => x === k).length]));
    assert.deepEqual({ ...drift.coercions }, counted(c.want.drift ?? []), `${c.name}: drift`);
    assert.deepEqual({ ...drift.unknownFields }, counted(c.want.unknown ?? []), `${c.name}: unknown fields`);
    assert.equal(ref.kind, 'accept', `${c.name}: the reference agrees`);
    if (ref.kind === 'accept') for (const [k, v] of Object.entries(c.want.row)) assert.ok(Object.is(ref.row[k], v), `${c.name}: reference ${k}`);
  }
}

for (const c of eventCases) test(`event: ${c.name}`, () => runCase(c, (onReject) => new EventParser({ onReject }), referenceEvent));
for (const c of songCases) test(`song: ${c.name}`, () => runCase(c, (onReject) => new SongParser({ onReject }), referenceSong));
