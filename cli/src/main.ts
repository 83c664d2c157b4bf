// The `sparkify-lake` command: the composition root. Only the CLI (and the tests) put the engine,
// the operator and the dev cluster together; each subcommand lives in its own file under commands/.
import { commands } from './commands/index.js';

export function usage(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    'usage: sparkify-lake <command> [options]',
    '',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Run `sparkify-lake <command> --help` for a command\'s options.',
  ].join('\n');
}

/** Returns the process exit code. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return name ? 0 : 2;
  }
  const command = commands.find((c) => c.name === name);
  if (!command) {
    console.error(`sparkify-lake: unknown command ${JSON.stringify(name)}\n\n${usage()}`);
    return 2;
  }
  return command.run(rest);
}
