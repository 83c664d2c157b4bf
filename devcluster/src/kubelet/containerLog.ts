// Container output, kept where the API server serves `pods/log` from (the contract of
// devcluster/src/api/podLogs.ts): one file per container run,
//
//   <logRoot>/<namespace>_<pod>_<pod uid>/<container>/<restartCount>.log
//
// holding stdout and stderr interleaved as written, like `kubectl logs` shows them. The newest run is
// the current one; the one before is what `kubectl logs --previous` reads.
import { createWriteStream, type WriteStream } from 'node:fs';

export interface ContainerLogWriter {
  write(chunk: Buffer): void;
  /** Flushes and closes the file. */
  close(): Promise<void>;
}

export function openLogWriter(path: string): ContainerLogWriter {
  const out: WriteStream = createWriteStream(path, { flags: 'a' });
  let closed: Promise<void> | undefined;
  return {
    write(chunk) {
      if (!closed) out.write(chunk);
    },
    close() {
      closed ??= new Promise((resolve) => out.end(resolve));
      return closed;
    },
  };
}
