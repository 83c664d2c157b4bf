// The operator as a process: flags → startOperator → wait for SIGTERM/SIGINT → clean stop. Shared by
// `sparkify-lake operator` (cli/src/commands/operator.ts) and the image entrypoint (main.ts).
import { parseArgs } from 'node:util';
import { renderCrdYaml } from './crd/crd.js';
import type { StorageDefaults } from './run/storage.js';
import { runnerImagePatternError, s3EndpointOriginError } from './run/validity.js';
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
  --allowed-runner-images PATTERNS
                           runner images a lake job's spec.runner.image may name, comma-separated
                           (repeatable): repo:tag or repo@digest exactly, repo for any tag or digest
                           of it, or a prefix ending in * ("*" alone: any image). Other images make
                           the lake job Invalid (RunnerImageNotAllowed). Default: the repository of
                           --runner-image. The default image itself is always allowed.
  --allowed-s3-endpoints ORIGINS
                           S3 endpoints (URL origins such as https://minio.storage:9000,
                           comma-separated, repeatable) a lake job's spec.storage.endpoint may name;
                           others make it Invalid (S3EndpointNotAllowed) and get no request.
                           Default: any. --s3-endpoint and AWS are always allowed.
  --s3-endpoint URL        S3 endpoint for lake jobs whose spec.storage names none (default: AWS)
  --s3-region REGION       region for lake jobs whose spec.storage names none (default us-east-1)
  --s3-force-path-style    path-style addressing for lake jobs whose spec.storage does not say
  --s3-credentials-secret NAME
                           the Secret (in each lake job's own namespace) for lake jobs whose
                           spec.storage names none; without it such lake jobs are Invalid
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
      'allowed-runner-images': { type: 'string', multiple: true },
      'allowed-s3-endpoints': { type: 'string', multiple: true },
      's3-endpoint': { type: 'string' },
      's3-region': { type: 'string' },
      's3-force-path-style': { type: 'boolean' },
      's3-credentials-secret': { type: 'string' },
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
  const storageDefaults = parseStorageDefaults(values);
  const allowedRunnerImages = policyList('allowed-runner-images', values['allowed-runner-images'], runnerImagePatternError);
  const allowedS3Endpoints = policyList('allowed-s3-endpoints', values['allowed-s3-endpoints'], s3EndpointOriginError);
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
    ...(allowedRunnerImages ? { allowedRunnerImages } : {}),
    ...(allowedS3Endpoints ? { allowedS3Endpoints } : {}),
    storageDefaults,
    ...(values.workers ? { workers: num('workers', values.workers, 1)! } : {}),
    decide: { ...(poll ? { pollIntervalMs: poll * 1000 } : {}), ...(invalidRetry ? { invalidRetryMs: invalidRetry * 1000 } : {}) },
  };
  if (level) process.env.SPARKIFY_LOG_LEVEL = level;
  return opts;
}

/**
 * A policy flag: comma-separated entries, the flag repeatable; every entry checked now, since a typo
 * would otherwise refuse (or allow) lake jobs much later. Absent: undefined (the built-in default).
 */
function policyList(flag: string, values: string[] | undefined, error: (entry: string) => string | null): string[] | undefined {
  if (values === undefined) return undefined;
  const entries = values.flatMap((v) => v.split(',')).map((e) => e.trim()).filter(Boolean);
  if (!entries.length) throw new Error(`--${flag} wants at least one entry, got ${JSON.stringify(values.join(','))}`);
  for (const e of entries) {
    const why = error(e);
    if (why) throw new Error(`--${flag}: ${why}`);
  }
  return [...new Set(entries)];
}

/**
 * The S3 defaults, checked like the CRD checks spec.storage: a typo here would otherwise surface
 * only as a failing run of some lake job much later.
 */
function parseStorageDefaults(v: { 's3-endpoint'?: string; 's3-region'?: string; 's3-force-path-style'?: boolean; 's3-credentials-secret'?: string }): StorageDefaults {
  const endpoint = v['s3-endpoint'];
  const region = v['s3-region'];
  const secret = v['s3-credentials-secret'];
  if (endpoint !== undefined && !/^https?:\/\/[^\s/]+(\/.*)?$/.test(endpoint)) throw new Error(`--s3-endpoint wants an http(s) URL such as http://minio.storage:9000, got ${JSON.stringify(endpoint)}`);
  if (region !== undefined && !/^[a-z0-9-]{1,64}$/.test(region)) throw new Error(`--s3-region wants a region name such as us-east-1, got ${JSON.stringify(region)}`);
  if (secret !== undefined && (secret.length > 253 || !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(secret))) {
    throw new Error(`--s3-credentials-secret wants the name of a Secret (lowercase DNS subdomain), got ${JSON.stringify(secret)}`);
  }
  return {
    ...(endpoint ? { endpoint } : {}),
    ...(region ? { region } : {}),
    ...(v['s3-force-path-style'] ? { forcePathStyle: true } : {}),
    ...(secret ? { credentialsSecret: secret } : {}),
  };
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
  // Listen before starting: a SIGTERM while the caches are still listing (an API server that is down
  // or slow) must end the process cleanly too, not through Node's default handler.
  const signalled = new Promise<string>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  const started = startOperator(parsed).then(
    (op) => ({ op }),
    (err: unknown) => ({ err }),
  );
  const first = await Promise.race([started, signalled.then((signal) => ({ signal }))]);
  if ('signal' in first) {
    // Nothing to hand over yet: the lease is campaigned for only once the caches are synced, and
    // no reconcile has run. The informers' retry timers would keep the process alive: leave now.
    console.log(JSON.stringify({ level: 'info', message: `${first.signal} before the start completed: exiting (no lease held, nothing to release)`, component: 'operator', timestamp: new Date().toISOString() }));
    process.exit(0);
  }
  if ('err' in first) {
    console.error(`sparkify-lake operator: ${(first.err as Error).message}`);
    return 1;
  }
  await signalled;
  await first.op.stop();
  // Everything is closed; an idle keep-alive socket of an S3 client must not hold the exit up.
  setTimeout(() => process.exit(process.exitCode ?? 0), 2000).unref();
  return 0;
}
