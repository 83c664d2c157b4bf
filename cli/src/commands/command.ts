export interface Command {
  name: string;
  summary: string;
  /** Returns the exit code: 0 success, 1 failure of the work, 2 bad usage. */
  run(argv: string[]): Promise<number>;
}
