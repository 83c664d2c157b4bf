// Throughput of the API server for the load the product puts on it (many pods and their status
// writes, dozens of informers): create/get/list rates over HTTPS with keep-alive, and watch fan-out.
// Client and server share one Node process here, so the numbers are lower bounds; they are printed
// as test diagnostics and recorded in docs/devcluster.md. The asserted floors only catch collapses.
import assert from 'node:assert/strict';
import https from 'node:https';
import { after, before, describe, test } from 'node:test';
import { startTestCluster, type TestCluster } from './harness.js';

describe('devcluster API server throughput', () => {
  let c: TestCluster;
  let agent: https.Agent;
  before(async () => {
    c = await startTestCluster();
    agent = new https.Agent({ keepAlive: true, maxSockets: 8, ca: c.api.caPem });
    await call('POST', '/api/v1/namespaces', { metadata: { name: 'load' } });
  });
  after(async () => {
    agent.destroy();
    await c.stop();
  });

  function call(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<{ code: number; text: string }> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = https.request(`${c.api.url}${path}`, {
        method,
        agent,
        headers: { Authorization: `Bearer ${c.adminToken}`, Accept: 'application/json', ...(payload ? { 'Content-Type': contentType, 'Content-Length': String(Buffer.byteLength(payload)) } : {}) },
      }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('end', () => resolve({ code: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      });
      req.on('error', reject);
      req.end(payload);
    });
  }

  async function rate(n: number, concurrency: number, one: (i: number) => Promise<{ code: number }>, okCode: number): Promise<number> {
    let next = 0;
    const start = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < n) {
          const i = next++;
          const r = await one(i);
          assert.equal(r.code, okCode);
        }
      }),
    );
    return n / ((performance.now() - start) / 1000);
  }

  test('create, get, list and watch fan-out rates', async (t) => {
    const pod = (i: number) => ({ metadata: { name: `p-${i}`, labels: { app: 'load', shard: String(i % 10) } }, spec: { nodeName: 'node-1', containers: [{ name: 'c', image: 'job-runner:dev', env: [{ name: 'JOB_COMPLETION_INDEX', value: String(i) }] }] } });
    const creates = await rate(500, 8, (i) => call('POST', '/api/v1/namespaces/load/pods', pod(i)), 201);
    const gets = await rate(1000, 8, (i) => call('GET', `/api/v1/namespaces/load/pods/p-${i % 500}`), 200);
    const statuses = await rate(500, 8, (i) => call('PATCH', `/api/v1/namespaces/load/pods/p-${i}/status`, { status: { phase: 'Running', podIP: `10.0.0.${i % 250}` } }, 'application/merge-patch+json'), 200);
    const lists = await rate(20, 4, () => call('GET', '/api/v1/namespaces/load/pods'), 200);
    const selected = await rate(100, 8, (i) => call('GET', `/api/v1/namespaces/load/pods?labelSelector=shard%3D${i % 10}`), 200);

    // Watch fan-out: 40 watchers, 400 writes; every watcher must see every write.
    const watchers = 40;
    const writes = 200;
    const counts = new Array<number>(watchers).fill(0);
    const rv = JSON.parse((await call('GET', '/api/v1/namespaces/load/configmaps')).text).metadata.resourceVersion;
    const reqs: ReturnType<typeof https.request>[] = [];
    const done = Promise.all(
      Array.from(
        { length: watchers },
        (_, w) =>
          new Promise<void>((resolve, reject) => {
            const req = https.request(`${c.api.url}/api/v1/namespaces/load/configmaps?watch=true&resourceVersion=${rv}`, { ca: c.api.caPem, headers: { Authorization: `Bearer ${c.adminToken}` } }, (res) => {
              res.on('data', (d: Buffer) => {
                for (const b of d) if (b === 0x0a) counts[w]!++;
                if (counts[w]! >= writes) resolve();
              });
            });
            req.on('error', (e) => (counts[w]! >= writes ? resolve() : reject(e)));
            req.end();
            reqs.push(req);
          }),
      ),
    );
    const start = performance.now();
    await rate(writes, 8, (i) => call('POST', '/api/v1/namespaces/load/configmaps', { metadata: { name: `cm-${i}` }, data: { i: String(i) } }), 201);
    await done;
    const fanoutSeconds = (performance.now() - start) / 1000;
    for (const r of reqs) r.destroy();
    const delivered = (watchers * writes) / fanoutSeconds;

    const lines = [
      `create pods: ${creates.toFixed(0)}/s`,
      `get pod: ${gets.toFixed(0)}/s`,
      `patch pod status (merge patch): ${statuses.toFixed(0)}/s`,
      `list 500 pods: ${lists.toFixed(1)}/s (${((lists * 500) / 1000).toFixed(1)}k objects/s)`,
      `list with label selector (50 of 500): ${selected.toFixed(0)}/s`,
      `watch fan-out: ${watchers} watchers x ${writes} creates in ${fanoutSeconds.toFixed(2)} s = ${delivered.toFixed(0)} events/s delivered`,
    ];
    for (const l of lines) t.diagnostic(l);
    assert.ok(creates > 100, lines[0]);
    assert.ok(gets > 200, lines[1]);
    assert.ok(lists > 2, lines[3]);
    assert.ok(statuses > 100, lines[2]);
    assert.ok(delivered > 2000, lines[5]);
  });
});
