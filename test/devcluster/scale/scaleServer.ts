// The measured side of the scale check (scale.ts), in its own process so its CPU and memory can be
// read from /proc without the load generator's: `api` runs the API server alone, `cluster` the whole
// dev cluster (API server, controllers, kubelet; the `node` image runs this node binary, `sleep` /bin/sleep).
// Prints one JSON line {url, token, caPem} once usable; stops cleanly on SIGTERM.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { startApiServer, newToken } from '../../../devcluster/src/api/server.js';
import { startDevCluster } from '../../../devcluster/src/index.js';

const mode = process.argv[2];
if (mode !== 'api' && mode !== 'cluster') {
  console.error('usage: scaleServer.js api|cluster');
  process.exit(2);
}

let stop: () => Promise<void>;
if (mode === 'api') {
  const token = newToken();
  const api = await startApiServer({ users: [{ token, user: { username: 'admin', groups: ['system:masters'] } }] });
  stop = () => api.stop();
  console.log(JSON.stringify({ url: api.url, token, caPem: api.caPem }));
} else {
  const dc = await startDevCluster({ images: { node: { command: [process.execPath], allowCommand: true }, sleep: { command: ['/bin/sleep'] } }, jobPodBackoff: { baseMs: 200, maxMs: 2000 } });
  stop = () => dc.stop();
  console.log(JSON.stringify({ url: dc.url, token: dc.adminToken, caPem: dc.caPem }));
}
// Event-loop delay: how long a ready callback waited because the loop was busy (or the process had no CPU).
const delay = monitorEventLoopDelay({ resolution: 10 });
delay.enable();
process.once('SIGTERM', () => {
  delay.disable();
  const ms = (ns: number) => (ns / 1e6).toFixed(0);
  console.error(`scaleServer ${mode}: event-loop delay ms p50 ${ms(delay.percentile(50))} p99 ${ms(delay.percentile(99))} max ${ms(delay.max)}`);
  void stop().then(() => process.exit(0));
});
