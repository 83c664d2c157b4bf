// The drift report: unknown fields by name and values that needed coercion, with counts.
//
// Drift is noted while a record is coerced but only counted when the record is accepted: a rejected
// record is quarantined whole, and none of its values were used. Notes are small integer codes kept
// in a per-record list, so the hot path never builds a `field:from->to` string.
import type { DriftReport } from '../run/types.js';
import { StringInterner } from './stringInterner.js';

// What a value was, and what it became (docs/schema-on-read.md, "Coercion").
export const FROM_EMPTY = 0;
export const FROM_STRING = 1;
export const FROM_NUMBER = 2;
export const FROM_BOOLEAN = 3;
export const FROM_OBJECT = 4;
export const FROM_ARRAY = 5;
const FROM_NAMES = ['empty', 'string', 'number', 'boolean', 'object', 'array'];

export const TO_NULL = 0;
export const TO_INT64 = 1;
export const TO_DOUBLE = 2;
export const TO_STRING = 3;
const TO_NAMES = ['null', 'int64', 'double', 'string'];

/** Drift key of a record whose bytes held ill-formed UTF-8 (replaced by U+FFFD). */
export const UTF8_REPLACED = 'utf8:invalid->replaced';
/**
 * Unknown field names are tracked up to this many distinct names per parser; further names are
 * counted together under OTHER_UNKNOWN_FIELDS, so hostile input (a fresh key per record) cannot
 * grow the report, or a receipt, without bound.
 */
export const MAX_UNKNOWN_FIELD_NAMES = 1000;
export const OTHER_UNKNOWN_FIELDS = '(other unknown fields)';

const SLOTS_PER_FIELD = 32; // from (6) * 4 + to (4) fits

export class DriftCounter {
  private readonly fields: readonly string[];
  private readonly counts: Float64Array;
  private pending = new Int32Array(64);
  private pendingCount = 0;
  private badUtf8 = false;
  private badUtf8Records = 0;
  // Unknown field names, interned by raw key bytes; OTHER is the code past the cap.
  private readonly unknownNames = new StringInterner();
  private unknownCounts: number[] = [];
  private otherUnknown = 0;
  private pendingUnknown = new Int32Array(16);
  private pendingUnknownCount = 0;
  private unknownStamp = new Int32Array(64);
  private stamp = 0;

  constructor(fields: readonly string[]) {
    this.fields = fields;
    this.counts = new Float64Array(fields.length * SLOTS_PER_FIELD);
  }

  /** Field `f` (index into the schema's field names) went from `from` to `to`. */
  note(f: number, from: number, to: number): void {
    if (this.pendingCount === this.pending.length) this.pending = grow(this.pending);
    this.pending[this.pendingCount++] = f * SLOTS_PER_FIELD + from * 4 + to;
  }

  /** An unknown key whose validated JSON content is buf[s, e). */
  noteUnknownKey(buf: Buffer, s: number, e: number, flags: number): void {
    if (this.pendingUnknownCount === this.pendingUnknown.length) this.pendingUnknown = grow(this.pendingUnknown);
    const names = this.unknownNames;
    const code = names.size < MAX_UNKNOWN_FIELD_NAMES ? names.intern(buf, s, e, flags) : names.find(buf, s, e, flags);
    this.pendingUnknown[this.pendingUnknownCount++] = code < 0 ? MAX_UNKNOWN_FIELD_NAMES : code;
  }

  noteBadUtf8(): void {
    this.badUtf8 = true;
  }

  /** The record was accepted: count its notes. A key repeated within one record counts once. */
  commit(): void {
    for (let i = 0; i < this.pendingCount; i++) this.counts[this.pending[i]]++;
    if (this.pendingUnknownCount > 0) this.commitUnknown();
    if (this.badUtf8) this.badUtf8Records++;
    this.discard();
  }

  /** The record was rejected: forget its notes. */
  discard(): void {
    this.pendingCount = 0;
    this.pendingUnknownCount = 0;
    this.badUtf8 = false;
  }

  report(): DriftReport {
    const unknownFields: Record<string, number> = Object.create(null);
    const names = this.unknownNames.strings();
    for (let code = 0; code < this.unknownCounts.length && code < MAX_UNKNOWN_FIELD_NAMES; code++) {
      if (this.unknownCounts[code] > 0) unknownFields[names[code]] = this.unknownCounts[code];
    }
    if (this.otherUnknown > 0) unknownFields[OTHER_UNKNOWN_FIELDS] = this.otherUnknown;
    const coercions: Record<string, number> = Object.create(null);
    for (let i = 0; i < this.counts.length; i++) {
      if (this.counts[i] === 0) continue;
      const f = Math.floor(i / SLOTS_PER_FIELD);
      const r = i % SLOTS_PER_FIELD;
      coercions[`${this.fields[f]}:${FROM_NAMES[r >> 2]}->${TO_NAMES[r & 3]}`] = this.counts[i];
    }
    if (this.badUtf8Records > 0) coercions[UTF8_REPLACED] = this.badUtf8Records;
    return { unknownFields: sortKeys(unknownFields), coercions: sortKeys(coercions) };
  }

  private commitUnknown(): void {
    this.stamp++;
    let other = false;
    for (let i = 0; i < this.pendingUnknownCount; i++) {
      const code = this.pendingUnknown[i];
      if (code >= MAX_UNKNOWN_FIELD_NAMES) {
        other = true;
        continue;
      }
      while (code >= this.unknownStamp.length) this.unknownStamp = grow(this.unknownStamp);
      if (this.unknownStamp[code] === this.stamp) continue;
      this.unknownStamp[code] = this.stamp;
      while (this.unknownCounts.length <= code) this.unknownCounts.push(0);
      this.unknownCounts[code]++;
    }
    if (other) this.otherUnknown++;
  }
}

/** Sum of drift reports (per shard, per run). */
export function mergeDrift(a: DriftReport, b: DriftReport): DriftReport {
  const add = (x: Record<string, number>, y: Record<string, number>): Record<string, number> => {
    const out: Record<string, number> = Object.create(null);
    for (const [k, v] of Object.entries(x)) out[k] = v;
    for (const [k, v] of Object.entries(y)) out[k] = (out[k] ?? 0) + v;
    return sortKeys(out);
  };
  return { unknownFields: add(a.unknownFields, b.unknownFields), coercions: add(a.coercions, b.coercions) };
}

export function emptyDrift(): DriftReport {
  return { unknownFields: Object.create(null), coercions: Object.create(null) };
}

// Keys in UTF-16 order, so a report serializes deterministically (receipts must be byte-identical).
function sortKeys(r: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = Object.create(null);
  for (const k of Object.keys(r).sort()) out[k] = r[k];
  return out;
}

function grow(a: Int32Array): Int32Array<ArrayBuffer> {
  const b = new Int32Array(a.length * 2);
  b.set(a);
  return b;
}
