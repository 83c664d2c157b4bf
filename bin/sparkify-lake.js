#!/usr/bin/env node
// The package's command. The TypeScript sources are compiled into dist/ by `npm run build`.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const main = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'cli', 'src', 'main.js');
if (!existsSync(main)) {
  console.error('sparkify-lake is not built yet: run `npm run build` (or `npm start`, which builds first).');
  process.exit(1);
}
// The AWS SDK warns on every start that future releases need Node 22; the product supports Node 20.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const { main: run } = await import(pathToFileURL(main).href);
process.exitCode = await run(process.argv.slice(2));
