// The Argo CD health check, run as real Lua (fengari, a Lua VM in JavaScript) on the fixtures of
// examples/argocd/health_test.yaml (Argo CD's own test format) and on statuses decide() produces.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';
import { decide } from '../../operator/src/run/decide.js';
import { repoRoot } from '../helpers/paths.js';
import { buildPlan, buildReceipts, CONFIG, jobView, lakeJob, observed, range, run, runOf, scanPlan, scanReceipts, statusAt, withStatus } from './fixtures.js';

interface Fengari {
  lua: { LUA_OK: number; lua_getglobal(L: unknown, name: Uint8Array): number; lua_tojsstring(L: unknown, i: number): string; lua_pop(L: unknown, n: number): void };
  lauxlib: { luaL_newstate(): unknown; luaL_dostring(L: unknown, s: Uint8Array): number };
  lualib: { luaL_openlibs(L: unknown): void };
  to_luastring(s: string): Uint8Array;
}
const fengari = createRequire(import.meta.url)('fengari') as Fengari;
const dir = join(repoRoot, 'examples', 'argocd');
const script = readFileSync(join(dir, 'health.lua'), 'utf8');

/** A JSON value as a Lua table constructor (arrays 1-indexed, as Argo CD's conversion gives). */
function toLua(v: unknown): string {
  if (v === null || v === undefined) return 'nil';
  if (typeof v === 'boolean' || typeof v === 'number') return String(v);
  if (typeof v === 'string') return `"${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/[^ -~\u0080-\uffff]/g, (c) => `\\${c.charCodeAt(0)}`)}"`;
  if (Array.isArray(v)) return `{${v.map(toLua).join(', ')}}`;
  return `{${Object.entries(v as Record<string, unknown>)
    .map(([k, x]) => `[${toLua(k)}] = ${toLua(x)}`)
    .join(', ')}}`;
}

function health(obj: unknown): { status: string; message: string } {
  const { lua, lauxlib, lualib, to_luastring } = fengari;
  const L = lauxlib.luaL_newstate();
  lualib.luaL_openlibs(L);
  const src = `obj = ${toLua(obj)}\nlocal function check()\n${script}\nend\nlocal hs = check()\nresult_status = hs.status\nresult_message = hs.message\n`;
  if (lauxlib.luaL_dostring(L, to_luastring(src)) !== lua.LUA_OK) throw new Error(`Lua error: ${lua.lua_tojsstring(L, -1)}`);
  const get = (name: string) => {
    lua.lua_getglobal(L, to_luastring(name));
    const s = lua.lua_tojsstring(L, -1);
    lua.lua_pop(L, 1);
    return s;
  };
  return { status: get('result_status'), message: get('result_message') };
}

test('health_test.yaml: every fixture gets the expected health', () => {
  const spec = parse(readFileSync(join(dir, 'health_test.yaml'), 'utf8')) as { tests: { healthStatus: { status: string; message: string }; inputPath: string }[] };
  assert.ok(spec.tests.length >= 8);
  for (const t of spec.tests) {
    const obj = parse(readFileSync(join(dir, t.inputPath), 'utf8'));
    assert.deepEqual(health(obj), t.healthStatus, t.inputPath);
  }
});

test('argocd-cm.yaml embeds health.lua verbatim', () => {
  const cm = parse(readFileSync(join(dir, 'argocd-cm.yaml'), 'utf8')) as { data: Record<string, string> };
  assert.equal(cm.data['resource.customizations.health.lake.sparkify.io_SparkifyLakeJob'], script);
});

test('statuses decide() writes through a run map to the expected health', () => {
  const j = lakeJob();
  const R = runOf(j);
  const cases: [string, ReturnType<typeof decide>, string][] = [
    ['planning', decide(j, observed(), CONFIG), 'Progressing'],
    ['scanning', decide(withStatus(j, statusAt(j, 'Scanning')), observed({ jobs: [jobView(R, 'scan')], run: run(R, { scanPlan, scanReceipts: scanReceipts([0]) }) }), CONFIG), 'Progressing'],
    ['invalid', decide(j, observed({ secret: { state: 'incomplete', missingKeys: ['AWS_ACCESS_KEY_ID'] } }), CONFIG), 'Degraded'],
    ['failed', decide(withStatus(j, statusAt(j, 'Scanning')), observed({ jobs: [jobView(R, 'scan', { failedIndexes: [0], failure: { reason: 'FailedIndexes', message: 'm' } })], run: run(R, { scanPlan }) }), CONFIG), 'Degraded'],
  ];
  const commit = decide(withStatus(j, statusAt(j, 'Building')), observed({ jobs: [], run: run(R, { scanPlan, scanReceipts: scanReceipts(range(8)), quality: { ok: true }, buildPlan, buildReceipts: buildReceipts(range(4)) }) }), CONFIG);
  const then = commit.actions.find((a) => a.type === 'commit');
  assert.ok(then && then.type === 'commit');
  for (const [name, d, want] of cases) assert.equal(health({ ...j, status: d.status }).status, want, name);
  const ok = health({ ...j, status: then.then.status });
  assert.equal(ok.status, 'Healthy');
  assert.match(ok.message, new RegExp(`run ${R} committed`));
});
