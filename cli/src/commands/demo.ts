// `sparkify-lake demo` — what `npm start` runs. Flags and signals here; the demo itself is in
// cli/src/demo/runDemo.ts.
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DemoError } from '../demo/kubeTools.js';
import { DEMO_S3_PORT, runDemo } from '../demo/runDemo.js';
import { packageRoot } from '../devclusterImages.js';
import { onShutdownSignals } from '../shutdownSignals.js';
import type { Command } from './command.js';

const HELP = `usage: sparkify-lake demo [--dir DIR] [--s3-port N] [--exit] [--timeout SEC]

Runs the product end to end on a local Kubernetes (the dev cluster; pods are local processes):
starts it with an embedded S3, generates a sample dataset, installs the Helm chart (CRD, RBAC,
operator), applies examples/lakejob.yaml with kubectl, shows the lake job's progress live, and ends
with a summary of the lake, a DuckDB query and how to point kubectl at the cluster.

On a terminal the cluster then keeps running until Ctrl-C (or SIGTERM, or the terminal closing:
SIGHUP), which stops every pod and the S3 server. When standard input is not a terminal or
CI is set, the demo stops the cluster and exits 0 after the summary.

  --dir DIR       where the cluster, S3 data, kubeconfig and the lake copy live (default .cache/demo)
  --s3-port N     port of the embedded S3 (default ${DEMO_S3_PORT}, the one examples/lakejob.yaml names;
                  0 = any free port, and the lake job is pointed at it)
  --exit          stop after the summary even on a terminal
  --timeout SEC   give up when the lake job has not finished after SEC seconds (default 300)`;

export const demoCommand: Command = {
  name: 'demo',
  summary: 'the product end to end on a local cluster: helm install, kubectl apply, a live run (npm start)',
  async run(argv) {
    let values: { dir?: string; 's3-port'?: string; exit?: boolean; timeout?: string; help?: boolean };
    try {
      ({ values } = parseArgs({ args: argv, strict: true, options: { dir: { type: 'string' }, 's3-port': { type: 'string' }, exit: { type: 'boolean' }, timeout: { type: 'string' }, help: { type: 'boolean', short: 'h' } } }));
    } catch (e) {
      console.error(`sparkify-lake demo: ${(e as Error).message}\n\n${HELP}`);
      return 2;
    }
    if (values.help) {
      console.log(HELP);
      return 0;
    }
    const s3Port = values['s3-port'] === undefined ? DEMO_S3_PORT : Number(values['s3-port']);
    const timeout = values.timeout === undefined ? 300 : Number(values.timeout);
    if (!Number.isInteger(s3Port) || s3Port < 0 || s3Port > 65535) {
      console.error(`sparkify-lake demo: --s3-port wants a port number (0-65535), got ${JSON.stringify(values['s3-port'])}`);
      return 2;
    }
    if (!(timeout > 0)) {
      console.error(`sparkify-lake demo: --timeout wants a number of seconds > 0, got ${JSON.stringify(values.timeout)}`);
      return 2;
    }
    const stay = Boolean(process.stdin.isTTY) && !process.env.CI && !values.exit;
    const controller = new AbortController();
    let signals = 0;
    const onSignal = (sig: NodeJS.Signals) => {
      // The first Ctrl-C cleans up; a second one means "now".
      if (++signals > 1) process.exit(130);
      process.stdout.write(`\n${sig} received\n`);
      controller.abort();
    };
    const offSignals = onShutdownSignals(onSignal);
    try {
      const code = await runDemo({
        packageRoot,
        dir: resolve(values.dir ?? resolve(packageRoot, '.cache', 'demo')),
        s3Port,
        stay,
        timeoutMs: timeout * 1000,
        out: process.stdout,
        signal: controller.signal,
      });
      return controller.signal.aborted && !stay ? 130 : code;
    } catch (e) {
      if (controller.signal.aborted) return 130;
      console.error(`sparkify-lake demo: ${e instanceof DemoError ? e.message : ((e as Error).stack ?? String(e))}`);
      return 1;
    } finally {
      offSignals();
    }
  },
};
