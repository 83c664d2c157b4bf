// The operator image's entrypoint: `node dist/operator/src/main.js [flags]`, the same flags and the
// same start function as `sparkify-lake operator`.

// The AWS SDK warns once per process that Node 20 support ends (harmless, and noise in every
// operator pod's log). It reads this variable when its first client is made; set it before anything
// can load the SDK (static imports are hoisted, hence the dynamic import below). A value the
// environment already has wins.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const { runOperatorProcess } = await import('./process.js');

process.exitCode = await runOperatorProcess(process.argv.slice(2));
