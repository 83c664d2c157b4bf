// Throughput of the API server for the load the product puts on it (many pods and their status
// writes, dozens of informers): create/get/list rates over HTTPS with keep-alive, watch fan-out, and an
// operator's status churn (custom resources written at a steady rate, followed by several watchers).
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
    // Floors a tenth of the slowest rates seen at load 22 (docs/devcluster.md): only a collapse fails.
    assert.ok(creates > 20, lines[0]);
    assert.ok(gets > 40, lines[1]);
    assert.ok(lists > 2, lines[3]);
    assert.ok(statuses > 30, lines[2]);
    assert.ok(delivered > 300, lines[5]);
  });

  test('status churn: 200 custom resources written at 200/s reach every watcher, complete, in order, promptly', async (t) => {
    const crd = {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: 'gauges.churn.test' },
      spec: {
        group: 'churn.test',
        scope: 'Namespaced',
        names: { kind: 'Gauge', plural: 'gauges' },
        versions: [{ name: 'v1', served: true, storage: true, subresources: { status: {} }, schema: { openAPIV3Schema: { type: 'object', properties: { status: { type: 'object', properties: { seq: { type: 'integer' }, sentAt: { type: 'integer' } } } } } } }],
      },
    };
    assert.equal((await call('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', crd)).code, 201);
    const base = '/apis/churn.test/v1/namespaces/load/gauges';
    for (let i = 0; (await call('GET', base)).code !== 200; i++) {
      assert.ok(i < 400, 'gauges served');
      await new Promise((r) => setTimeout(r, 25));
    }
    const n = 200;
    for (let i = 0; i < n; i++) assert.equal((await call('POST', base, { apiVersion: 'churn.test/v1', kind: 'Gauge', metadata: { name: `g-${i}` } })).code, 201);
    const rv = JSON.parse((await call('GET', base)).text).metadata.resourceVersion;

    const watchers = 3;
    const writes = 600;
    const seen = Array.from({ length: watchers }, () => ({ count: 0, outOfOrder: 0, last: new Map<string, number>(), latencies: [] as number[] }));
    const reqs = Array.from({ length: watchers }, (_, w) => {
      const req = https.request(`${c.api.url}${base}?watch=true&resourceVersion=${rv}`, { ca: c.api.caPem, headers: { Authorization: `Bearer ${c.adminToken}` } }, (res) => {
        let buf = '';
        res.on('data', (d: Buffer) => {
          const now = Date.now();
          buf += d.toString('utf8');
          let nl;
          while ((nl = buf.indexOf('\n')) >= 0) {
            const ev = JSON.parse(buf.slice(0, nl)) as { type: string; object: { metadata: { name: string }; status?: { seq: number; sentAt: number } } };
            buf = buf.slice(nl + 1);
            if (ev.type !== 'MODIFIED' || !ev.object.status) continue;
            const s = seen[w]!;
            s.count++;
            s.latencies.push(now - ev.object.status.sentAt);
            if ((s.last.get(ev.object.metadata.name) ?? 0) >= ev.object.status.seq) s.outOfOrder++;
            s.last.set(ev.object.metadata.name, ev.object.status.seq);
          }
        });
      });
      req.on('error', () => undefined);
      req.end();
      return req;
    });
    // 200 writes a second, evenly spaced, as an operator reporting progress on 200 resources each second.
    const start = Date.now();
    const pending: Promise<{ code: number }>[] = [];
    for (let k = 0; k < writes; k++) {
      const wait = start + k * 5 - Date.now();
      if (wait > 1) await new Promise((r) => setTimeout(r, wait));
      pending.push(call('PATCH', `${base}/g-${k % n}/status`, { status: { seq: k + 1, sentAt: Date.now() } }, 'application/merge-patch+json'));
    }
    assert.deepEqual([...new Set((await Promise.all(pending)).map((r) => r.code))], [200]);
    const deadline = Date.now() + 20_000;
    while (seen.some((s) => s.count < writes) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    for (const r of reqs) r.destroy();

    const all = seen.flatMap((s) => s.latencies).sort((a, b) => a - b);
    const pct = (p: number) => all[Math.min(all.length - 1, Math.floor(p * all.length))];
    const line = `watch latency (write sent → event at watcher), ${watchers} watchers × ${writes} writes: p50 ${pct(0.5)} ms, p99 ${pct(0.99)} ms, max ${all[all.length - 1]} ms`;
    t.diagnostic(line);
    assert.deepEqual(seen.map((s) => s.count), [writes, writes, writes], 'every watcher saw every write');
    assert.deepEqual(seen.map((s) => s.outOfOrder), [0, 0, 0], 'in the order written');
    assert.ok(pct(0.99)! < 2000, line);
  });
});
