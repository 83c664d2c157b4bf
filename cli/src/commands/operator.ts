import { runOperatorProcess } from '../../../operator/src/process.js';
import type { Command } from './command.js';

export const operatorCommand: Command = {
  name: 'operator',
  summary: 'run the SparkifyLakeJob operator against a cluster (`operator crd` prints the CRD)',
  run: (argv) => runOperatorProcess(argv),
};
