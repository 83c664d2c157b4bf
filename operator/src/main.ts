// The operator image's entrypoint: `node dist/operator/src/main.js [flags]`, the same flags and the
// same start function as `sparkify-lake operator`.
import { runOperatorProcess } from './process.js';

process.exitCode = await runOperatorProcess(process.argv.slice(2));
