// The list of subcommands. Each one is a small module that parses its own flags and calls into
// job-runner/, operator/, devcluster/ or generator/.
import type { Command } from './command.js';
import { versionCommand } from './version.js';

export const commands: Command[] = [versionCommand];
