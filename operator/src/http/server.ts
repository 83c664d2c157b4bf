// /healthz, /readyz and /metrics on one small HTTP server (the Deployment's probes and Prometheus).
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface HealthSource {
  /** Alive: the process is not wedged (informers restart themselves; only a fatal error flips this). */
  healthy(): { ok: boolean; detail: string };
  /** Ready: caches synced. A standby replica is ready too: it serves as soon as it leads. */
  ready(): { ok: boolean; detail: string };
  metrics(): string;
}

export interface ProbeServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

export async function startProbeServer(source: HealthSource, port: number, host = '0.0.0.0'): Promise<ProbeServer> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const send = (code: number, body: string, type = 'text/plain; charset=utf-8') => {
      res.writeHead(code, { 'Content-Type': type, 'Cache-Control': 'no-store' });
      res.end(body);
    };
    try {
      if (path === '/healthz' || path === '/livez') {
        const h = source.healthy();
        return send(h.ok ? 200 : 500, `${h.ok ? 'ok' : 'unhealthy'}: ${h.detail}\n`);
      }
      if (path === '/readyz') {
        const r = source.ready();
        return send(r.ok ? 200 : 503, `${r.ok ? 'ok' : 'not ready'}: ${r.detail}\n`);
      }
      if (path === '/metrics') return send(200, source.metrics(), 'text/plain; version=0.0.4; charset=utf-8');
      send(404, 'not found: try /healthz, /readyz or /metrics\n');
    } catch (err) {
      send(500, `error: ${(err as Error).message}\n`);
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const addr = server.address() as AddressInfo;
  const shownHost = host === '0.0.0.0' ? '127.0.0.1' : host;
  return {
    url: `http://${shownHost}:${addr.port}`,
    port: addr.port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
