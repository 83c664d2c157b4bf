// The job-runner image's entrypoint: `node dist/job-runner/src/main.js shard --out <uri> --run-id <id>
// --stage scan|build [--index N]` (the index defaults to JOB_COMPLETION_INDEX, set by an Indexed Job);
// `--help` prints the usage and exits 0.
// The local runner forks this same file, so pods and `sparkify-lake run` execute the same code.
//
// SIGTERM (pod deletion, Job suspension, the local runner stopping) aborts the shard between blocks:
// it writes no receipt and exits 1, so the index is retried or abandoned cleanly. Exit codes and the
// JSON logs are described in stages/shardCommand.ts.

// The AWS SDK warns once per process that Node 20 support ends (harmless, and noise in every pod's
// log). It reads this variable when it loads, so set it before the dynamic import below pulls the
// SDK in; a value the environment already has wins.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const { shardEntrypoint } = await import('./stages/shardCommand.js');

const code = await shardEntrypoint(process.argv.slice(2));
process.exitCode = code;
// Keep-alive sockets of the S3 client or the IPC channel may hold the event loop: leave anyway.
if (process.connected) process.disconnect();
setTimeout(() => process.exit(code), 50).unref();
