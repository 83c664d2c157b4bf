// `sparkify-lake devcluster up`: a local Kubernetes (API server, controllers, a kubelet running pods
// as processes) in the foreground until SIGINT/SIGTERM/SIGHUP, with the product's images mapped to this
// checkout's entry points, and optionally the embedded S3 server.
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { startDevCluster, type ImageMap } from '../../../devcluster/src/index.js';
import { devclusterImages } from '../devclusterImages.js';
import { onShutdownSignals } from '../shutdownSignals.js';
import { checkBucketName, createBuckets } from '../devclusterBuckets.js';
import type { Command } from './command.js';

const HELP = `usage: sparkify-lake devcluster up --kubeconfig FILE [--s3 DIR [--bucket NAME]…] [--port N] [--data-dir DIR] [--images FILE] [--verbose]

Runs a local Kubernetes API server, the Job/Deployment/garbage-collection controllers and a kubelet
that runs pods as local processes, until SIGINT, SIGTERM or SIGHUP (the terminal closing), which stop every pod cleanly.

  --kubeconfig FILE   write the admin kubeconfig here (kubectl, helm and client-node read it)
  --s3 DIR            also run the embedded S3 server with its data in DIR, and write FILE.env with
                      AWS_ENDPOINT_URL, AWS_REGION, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY
  --bucket NAME       with --s3: create this bucket at start if it does not exist (repeatable), so
                      that e.g. \`sparkify-lake generate --out s3://raw/\` works at once
  --port N            API server port (default: a free one)
  --data-dir DIR      pod folders and container logs (default: a temporary folder, removed at exit)
  --images FILE       more images as JSON: {"<image name or glob>": {"command": ["…"], "args": [],
                      "env": {}, "cwd": "…", "user": 1000, "allowCommand": true}}
                      (ghcr.io/sparkify/sparkify-lake-job-runner and -operator are built in)
  --verbose           log the runtime's activity to stderr

Prints "devcluster ready" once kubectl can use it.`;

export const devclusterCommand: Command = {
  name: 'devcluster',
  summary: 'run a local Kubernetes (pods as processes) in the foreground: `devcluster up`',
  async run(argv) {
    let values: { kubeconfig?: string; s3?: string; bucket?: string[]; port?: string; 'data-dir'?: string; images?: string; verbose?: boolean; help?: boolean };
    let positionals: string[];
    try {
      ({ values, positionals } = parseArgs({
        args: argv,
        allowPositionals: true,
        options: { kubeconfig: { type: 'string' }, s3: { type: 'string' }, bucket: { type: 'string', multiple: true }, port: { type: 'string' }, 'data-dir': { type: 'string' }, images: { type: 'string' }, verbose: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
      }));
    } catch (e) {
      console.error(`sparkify-lake devcluster: ${(e as Error).message}\n\n${HELP}`);
      return 2;
    }
    if (values.help) {
      console.log(HELP);
      return 0;
    }
    if (positionals[0] !== 'up' || positionals.length !== 1) {
      console.error(`sparkify-lake devcluster: expected the subcommand "up"\n\n${HELP}`);
      return 2;
    }
    if (!values.kubeconfig) {
      console.error(`sparkify-lake devcluster up: --kubeconfig FILE is required\n\n${HELP}`);
      return 2;
    }
    const buckets = [...new Set(values.bucket ?? [])];
    if (buckets.length > 0 && !values.s3) {
      console.error(`sparkify-lake devcluster up: --bucket needs --s3 DIR (the embedded S3 holds the buckets)\n\n${HELP}`);
      return 2;
    }
    try {
      for (const b of buckets) checkBucketName(b);
    } catch (e) {
      console.error(`sparkify-lake devcluster up: --bucket ${(e as Error).message}`);
      return 2;
    }
    const port = values.port === undefined ? undefined : Number(values.port);
    if (port !== undefined && !(Number.isInteger(port) && port >= 0 && port <= 65535)) {
      console.error(`sparkify-lake devcluster up: --port wants a port number (0-65535), got ${JSON.stringify(values.port)}`);
      return 2;
    }
    let images: ImageMap = devclusterImages();
    if (values.images) {
      try {
        images = { ...images, ...parseImageMap(readFileSync(values.images, 'utf8')) };
      } catch (e) {
        console.error(`sparkify-lake devcluster up: --images ${values.images}: ${(e as Error).message}`);
        return 2;
      }
    }
    const log = values.verbose ? (line: string) => console.error(line) : undefined;
    let cluster;
    try {
      cluster = await startDevCluster({ images, kubeconfigPath: values.kubeconfig, s3Dir: values.s3, port, dataDir: values['data-dir'], log });
    } catch (e) {
      console.error(`sparkify-lake devcluster up: could not start: ${(e as Error).message}`);
      return 1;
    }
    if (cluster.s3) {
      const env = Object.entries(cluster.s3.env).map(([k, v]) => `${k}=${v}`);
      writeFileSync(`${cluster.kubeconfigPath}.env`, env.join('\n') + '\n', { mode: 0o600 });
      try {
        await createBuckets(cluster.s3.env, buckets);
      } catch (e) {
        console.error(`sparkify-lake devcluster up: ${(e as Error).message}`);
        await cluster.stop();
        return 1;
      }
    }
    // The first SIGINT/SIGTERM/SIGHUP stops everything cleanly; a second one does not wait (pod processes
    // are still killed on exit).
    let received = 0;
    let stop: (signal: string) => void = () => undefined;
    const stopped = new Promise<string>((resolve) => (stop = resolve));
    const onSignal = (signal: NodeJS.Signals) => {
      if (++received === 1) return stop(signal);
      console.log('devcluster: second signal, exiting now');
      process.exit(130);
    };
    const offSignals = onShutdownSignals(onSignal);
    console.log(`API server: ${cluster.url}`);
    console.log(`kubeconfig: ${cluster.kubeconfigPath}`);
    if (cluster.s3) console.log(`S3 endpoint: ${cluster.s3.endpoint} (settings in ${cluster.kubeconfigPath}.env)${buckets.length ? `, buckets: ${buckets.join(', ')}` : ''}`);
    console.log(`pod data: ${cluster.dataDir}`);
    console.log('devcluster ready');
    const signal = await stopped;
    console.log(`devcluster: ${signal} received, stopping pods${cluster.s3 ? ' and S3' : ''}`);
    await cluster.stop();
    offSignals();
    console.log('devcluster stopped');
    return 0;
  },
};

/** Checks an image map read from JSON, so a typo fails here with its path rather than in a pod. */
export function parseImageMap(text: string): ImageMap {
  const raw = JSON.parse(text) as unknown;
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new Error('expected a JSON object of image name → entry');
  for (const [name, entry] of Object.entries(raw as Record<string, unknown>)) {
    const e = entry as Record<string, unknown>;
    if (!e || typeof e !== 'object' || !Array.isArray(e.command) || e.command.length === 0 || !e.command.every((c) => typeof c === 'string')) {
      throw new Error(`${name}.command must be a non-empty array of strings`);
    }
    if (e.args !== undefined && (!Array.isArray(e.args) || !e.args.every((a) => typeof a === 'string'))) throw new Error(`${name}.args must be an array of strings`);
    if (e.user !== undefined && !Number.isInteger(e.user)) throw new Error(`${name}.user must be an integer uid`);
  }
  return raw as ImageMap;
}
