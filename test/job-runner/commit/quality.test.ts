// The reject-ratio gate's message names the setting the reader can change: the CLI's flag for
// `sparkify-lake run`, the resource's field (unchanged wording) for the operator.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkQuality } from '../../../job-runner/src/commit/quality.js';
import { makeRunSpec } from '../../../job-runner/src/plan/runSpec.js';
import type { ScanReceipt } from '../../../job-runner/src/run/types.js';

const receipt = (read: number, rejectedByReason: Record<string, number>): ScanReceipt => {
  const rejected = Object.values(rejectedByReason).reduce((a, b) => a + b, 0);
  return { runId: 'r1', stage: 'scan', index: 0, splits: 1, records: { read, accepted: read - rejected, rejected, rejectedByReason }, drift: { unknownFields: {}, coercions: {} }, staged: [], songPartitions: [], rejects: null, seconds: 0 } as unknown as ScanReceipt;
};

test('checkQuality: verdicts, and the limit named as the caller sets it', () => {
  const cases: { name: string; origin: string; max?: number; receipts: ScanReceipt[]; want: string | null }[] = [
    { name: 'under the limit', origin: 'cli', receipts: [receipt(1000, { 'invalid-json': 10 })], want: null },
    { name: 'nothing read', origin: 'cli', receipts: [receipt(0, {})], want: null },
    {
      name: 'cli: the flag',
      origin: 'cli',
      receipts: [receipt(800, { 'invalid-json': 300 }), receipt(200, { 'missing-ts': 100 })],
      want: 'rejected 400 of 1000 records (40%), over the limit of 1% (--max-reject-ratio). Top reasons: invalid-json 300, missing-ts 100. The rejected records are in /lake/_lake/runs/r1/rejects/; fix the input, or raise the limit if these rejects are expected.',
    },
    {
      name: 'operator: the resource field, as before',
      origin: 'operator/analytics/nightly',
      max: 0.05,
      receipts: [receipt(100, { 'invalid-json': 6 })],
      want: 'rejected 6 of 100 records (6%), over the limit of 5% (quality.maxRejectRatio). Top reasons: invalid-json 6. The rejected records are in s3://lake/x/_lake/runs/r1/rejects/; fix the input, or raise the limit if these rejects are expected.',
    },
  ];
  for (const c of cases) {
    const output = c.origin === 'cli' ? '/lake' : 's3://lake/x/';
    const spec = makeRunSpec({ runId: 'r1', songs: '/raw/songs', logs: '/raw/logs', output, origin: c.origin, quality: { maxRejectRatio: c.max }, now: new Date(0) });
    const v = checkQuality(spec, c.receipts);
    assert.deepEqual(v, c.want === null ? { ok: true } : { ok: false, message: c.want }, c.name);
  }
});
