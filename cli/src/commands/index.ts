// The list of subcommands. Each one is a small module that parses its own flags and calls into
// job-runner/, operator/, devcluster/ or generator/.
import type { Command } from './command.js';
import { versionCommand } from './version.js';
import { runCommand } from './run.js';
import { inspectCommand } from './inspect.js';
import { shardCommand } from './shard.js';
import { operatorCommand } from './operator.js';
import { generateCommand } from './generate.js';
import { devclusterCommand } from './devcluster.js';
import { demoCommand } from './demo.js';

export const commands: Command[] = [runCommand, inspectCommand, shardCommand, versionCommand];
commands.push(operatorCommand);
commands.push(generateCommand);
commands.push(devclusterCommand);
commands.push(demoCommand);
