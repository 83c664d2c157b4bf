// The operator as a process: flags → startOperator → wait for SIGTERM/SIGINT → clean stop. Shared by
// `sparkify-lake operator` (cli/src/commands/operator.ts) and the image entrypoint (main.ts).
import { parseArgs } from 'node:util';
import { renderCrdYaml } from './crd/crd.js';
import { startOperator, type OperatorOptions } from './start.js';

export const OPERATOR_USAGE = `usage: sparkify-lake operator [options]
       sparkify-lake operator crd        print the CustomResourceDefinition (YAML)

Runs the SparkifyLakeJob operator until SIGTERM or SIGINT.

options:
  --kubeconfig FILE        cluster to use (default: $KUBECONFIG, then the in-cluster service account)
  --namespace NS           watch only this namespace (repeatable; default: all namespaces)
  --metrics-port PORT      port of /healthz, /readyz and /metrics (default 8080; 0 = any free port)
  --metrics-host HOST      address to listen on (default 0.0.0.0)
  --leader-elect           run as one of several replicas: only the holder of a Lease acts
  --lease-namespace NS     namespace of the Lease (default: $POD_NAMESPACE, the pod's namespace, or default)
  --lease-name NAME        name of the Lease (default sparkify-lake-operator)
  --lease-duration SEC     leader lease duration (default 15; failover takes up to this long)
  --runner-image IMAGE     job-runner image for lake jobs that name none
                           (default ghcr.io/sparkify/sparkify-lake-job-runner:<version>)
  --workers N              lake jobs reconciled at once (default 4; one at a time per lake job)
  --poll SEC               how often receipts are read while a stage runs (default 1.5)
  --invalid-retry SEC      how often a missing Secret or bucket is checked again (default 30)
  --log-level LEVEL        error, warn, info (default) or debug`;

export function parseOperatorArgs(argv: string[]): OperatorOptions | { help: true } | { crd: true } {
  if (argv[0] === 'crd') return { crd: true };
  const { values } = parseArgs({
    args: argv,
    options: {
      kubeconfig: { type: 'string' },
      namespace: { type: 'string', multiple: true },
      'metrics-port': { type: 'string' },
      'metrics-host': { type: 'string' },
      'leader-elect': { type: 'boolean' },
      'lease-namespace': { type: 'string' },
      'lease-name': { type: 'string' },
      'lease-duration': { type: 'string' },
      'runner-image': { type: 'string' },
      workers: { type: 'string' },
      poll: { type: 'string' },
      'invalid-retry': { type: 'string' },
      'log-level': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) return { help: true };
  const num = (flag: string, v: string | undefined, min: number): number | undefined => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isFinite(n) || n < min) throw new Error(`--${flag} wants a number ≥ ${min}, got ${JSON.stringify(v)}`);
    return n;
  };
  const leaseSec = num('lease-duration', values['lease-duration'], 2);
  const poll = num('poll', values.poll, 0.1);
  const invalidRetry = num('invalid-retry', values['invalid-retry'], 0.1);
  const level = values['log-level'];
  if (level && !['error', 'warn', 'info', 'debug'].includes(level)) throw new Error(`--log-level wants error, warn, info or debug, got ${JSON.stringify(level)}`);
  const opts: OperatorOptions = {
    ...(values.kubeconfig ? { kubeconfig: values.kubeconfig } : {}),
    namespaces: values.namespace ?? [],
    metricsPort: hostPort(num('metrics-port', values['metrics-port'], 0) ?? 8080),
    ...(values['metrics-host'] ? { metricsHost: values['metrics-host'] } : {}),
    leaderElect: Boolean(values['leader-elect']),
    ...(values['lease-namespace'] ? { leaseNamespace: values['lease-namespace'] } : {}),
    ...(values['lease-name'] ? { leaseName: values['lease-name'] } : {}),
    // client-go's proportions: renew deadline 2/3 of the lease, retry every 2/15 of it.
    ...(leaseSec ? { leaderTimings: { leaseDurationMs: leaseSec * 1000, renewDeadlineMs: (leaseSec * 1000 * 2) / 3, retryPeriodMs: Math.max(200, (leaseSec * 1000 * 2) / 15) } } : {}),
    ...(values['runner-image'] ? { defaultImage: values['runner-image'] } : {}),
    ...(values.workers ? { workers: num('workers', values.workers, 1)! } : {}),
    decide: { ...(poll ? { pollIntervalMs: poll * 1000 } : {}), ...(invalidRetry ? { invalidRetryMs: invalidRetry * 1000 } : {}) },
  };
  if (level) process.env.SPARKIFY_LOG_LEVEL = level;
  return opts;
}

/**
 * The dev cluster runs pods as processes sharing the host's network, so it maps each containerPort
 * to a free host port and says which in DEVCLUSTER_PORT_<containerPort>; elsewhere this is a no-op.
 */
function hostPort(port: number): number {
  const mapped = Number(process.env[`DEVCLUSTER_PORT_${port}`]);
  return Number.isInteger(mapped) && mapped > 0 ? mapped : port;
}

/** Runs until a signal; returns the exit code. */
export async function runOperatorProcess(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseOperatorArgs(argv);
  } catch (err) {
    console.error(`sparkify-lake operator: ${(err as Error).message}\n\n${OPERATOR_USAGE}`);
    return 2;
  }
  if ('help' in parsed) {
    console.log(OPERATOR_USAGE);
    return 0;
  }
  if ('crd' in parsed) {
    process.stdout.write(renderCrdYaml());
    return 0;
  }
  let op;
  try {
    op = await startOperator(parsed);
  } catch (err) {
    console.error(`sparkify-lake operator: ${(err as Error).message}`);
    return 1;
  }
  const signal = await new Promise<string>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  void signal;
  await op.stop();
  // Everything is closed; an idle keep-alive socket of an S3 client must not hold the exit up.
  setTimeout(() => process.exit(process.exitCode ?? 0), 2000).unref();
  return 0;
}
