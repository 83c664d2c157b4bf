// Event lines (eventsim style) → ColumnBatches of accepted events.
//
// Rules (docs/schema-on-read.md): an event needs a valid `ts` (missing-ts, invalid-ts) and a
// `NextSong` event a valid integer `userId` (missing-user-id); every known field is coerced, the
// ones without a column (auth, method, registration, status) only for the drift report.
import type { BatchSchema } from '../columnar/batch.js';
import { BatchBuilder, F64Builder, I32Builder, StrBuilder } from './columnBuilders.js';
import { coerceDouble, coerceInt, coerceString, stringEquals } from './coerce.js';
import { ABSENT, NULL, STRING, type JsonScanner } from './jsonScanner.js';
import { DEFAULT_BATCH_ROWS, RecordParser, type ParserOptions } from './recordParser.js';
import type { RejectReason } from './rejects.js';

/** Known event fields; a field's index is its position here. */
export const EVENT_FIELDS = [
  'artist',
  'auth',
  'firstName',
  'gender',
  'itemInSession',
  'lastName',
  'length',
  'level',
  'location',
  'method',
  'page',
  'registration',
  'sessionId',
  'song',
  'status',
  'ts',
  'userAgent',
  'userId',
] as const;

const field = (name: (typeof EVENT_FIELDS)[number]): number => EVENT_FIELDS.indexOf(name);
const ARTIST = field('artist');
const AUTH = field('auth');
const FIRST_NAME = field('firstName');
const GENDER = field('gender');
const ITEM_IN_SESSION = field('itemInSession');
const LAST_NAME = field('lastName');
const LENGTH = field('length');
const LEVEL = field('level');
const LOCATION = field('location');
const METHOD = field('method');
const PAGE = field('page');
const REGISTRATION = field('registration');
const SESSION_ID = field('sessionId');
const SONG = field('song');
const STATUS = field('status');
const TS = field('ts');
const USER_AGENT = field('userAgent');
const USER_ID = field('userId');

/** Largest valid `ts`: 9999-12-31T23:59:59.999Z. */
export const MAX_TS = 253402300799999;
const NEXT_SONG = Buffer.from('NextSong', 'latin1');

/** Columns of an event batch, in order. */
export const EVENT_SCHEMA: BatchSchema = [
  { name: 'ts', kind: 'ts-ms' },
  { name: 'user_id', kind: 'i64' },
  { name: 'first_name', kind: 'str' },
  { name: 'last_name', kind: 'str' },
  { name: 'gender', kind: 'str' },
  { name: 'level', kind: 'str' },
  { name: 'page', kind: 'str' },
  { name: 'song', kind: 'str' },
  { name: 'artist', kind: 'str' },
  { name: 'length', kind: 'f64' },
  { name: 'session_id', kind: 'i64' },
  { name: 'item_in_session', kind: 'i64' },
  { name: 'location', kind: 'str' },
  { name: 'user_agent', kind: 'str' },
  { name: 'src', kind: 'i32' },
  { name: 'offset', kind: 'i64' },
  { name: 'line', kind: 'i32' },
];

export class EventParser extends RecordParser {
  private readonly tsCol = new F64Builder('ts-ms');
  private readonly userIdCol = new F64Builder('i64');
  private readonly firstNameCol = new StrBuilder();
  private readonly lastNameCol = new StrBuilder();
  private readonly genderCol = new StrBuilder();
  private readonly levelCol = new StrBuilder();
  private readonly pageCol = new StrBuilder();
  private readonly songCol = new StrBuilder();
  private readonly artistCol = new StrBuilder();
  private readonly lengthCol = new F64Builder('f64');
  private readonly sessionIdCol = new F64Builder('i64');
  private readonly itemInSessionCol = new F64Builder('i64');
  private readonly locationCol = new StrBuilder();
  private readonly userAgentCol = new StrBuilder();
  private readonly srcCol = new I32Builder();
  private readonly offsetCol = new F64Builder('i64');
  private readonly lineCol = new I32Builder();

  constructor(opts: ParserOptions) {
    const batch = new BatchBuilder(opts.batchRows ?? DEFAULT_BATCH_ROWS);
    super(EVENT_FIELDS, batch, opts);
    // Field initializers run after super(), so the builders are attached here.
    const builders = [
      this.tsCol, this.userIdCol, this.firstNameCol, this.lastNameCol, this.genderCol, this.levelCol, this.pageCol, this.songCol, this.artistCol,
      this.lengthCol, this.sessionIdCol, this.itemInSessionCol, this.locationCol, this.userAgentCol, this.srcCol, this.offsetCol, this.lineCol,
    ];
    batch.attach(EVENT_SCHEMA.map((c, i) => ({ name: c.name, builder: builders[i] })));
  }

  protected acceptRecord(sc: JsonScanner, buf: Buffer, line: number | null, offset: number): RejectReason | null {
    const drift = this.drift;
    const tsType = sc.typeOf(TS);
    if (tsType === ABSENT || tsType === NULL || (tsType === STRING && sc.start[TS] === sc.end[TS])) return 'missing-ts';
    const ts = coerceInt(sc, buf, TS, drift);
    if (!(ts >= 0 && ts <= MAX_TS)) return 'invalid-ts';
    const userId = coerceInt(sc, buf, USER_ID, drift);
    if (userId !== userId && stringEquals(sc, buf, PAGE, NEXT_SONG)) return 'missing-user-id';

    const row = this.batch.beginRow();
    this.tsCol.set(row, ts);
    this.userIdCol.set(row, userId);
    this.firstNameCol.set(row, coerceString(sc, buf, FIRST_NAME, this.firstNameCol.dict, drift));
    this.lastNameCol.set(row, coerceString(sc, buf, LAST_NAME, this.lastNameCol.dict, drift));
    this.genderCol.set(row, coerceString(sc, buf, GENDER, this.genderCol.dict, drift));
    this.levelCol.set(row, coerceString(sc, buf, LEVEL, this.levelCol.dict, drift));
    this.pageCol.set(row, coerceString(sc, buf, PAGE, this.pageCol.dict, drift));
    this.songCol.set(row, coerceString(sc, buf, SONG, this.songCol.dict, drift));
    this.artistCol.set(row, coerceString(sc, buf, ARTIST, this.artistCol.dict, drift));
    this.lengthCol.set(row, coerceDouble(sc, buf, LENGTH, drift));
    this.sessionIdCol.set(row, coerceInt(sc, buf, SESSION_ID, drift));
    this.itemInSessionCol.set(row, coerceInt(sc, buf, ITEM_IN_SESSION, drift));
    this.locationCol.set(row, coerceString(sc, buf, LOCATION, this.locationCol.dict, drift));
    this.userAgentCol.set(row, coerceString(sc, buf, USER_AGENT, this.userAgentCol.dict, drift));
    this.srcCol.set(row, this.ordinal);
    this.offsetCol.set(row, offset);
    if (line === null) this.lineCol.setNull(row);
    else this.lineCol.set(row, line);
    // Known fields without a column still report their drift.
    coerceString(sc, buf, AUTH, null, drift);
    coerceString(sc, buf, METHOD, null, drift);
    coerceInt(sc, buf, REGISTRATION, drift);
    coerceInt(sc, buf, STATUS, drift);
    this.batch.commitRow();
    return null;
  }
}
