// `sparkify-lake shard …`: the job-runner pod entrypoint, for running one shard by hand.
import { shardEntrypoint } from '../../../job-runner/src/index.js';
import type { Command } from './command.js';

export const shardCommand: Command = {
  name: 'shard',
  summary: 'run one shard of a planned run (the job-runner pod entrypoint): --out URI --run-id ID --stage scan|build [--index N]',
  async run(argv) {
    if (argv.includes('--help') || argv.includes('-h')) {
      console.log('usage: sparkify-lake shard --out <uri> --run-id <id> --stage scan|build [--index N]\n\nThe index defaults to JOB_COMPLETION_INDEX. Exit codes: 0 done, 1 retryable failure, 3 permanent failure.');
      return 0;
    }
    return shardEntrypoint(argv);
  },
};
