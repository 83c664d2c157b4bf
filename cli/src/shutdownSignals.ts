// The signals that mean "stop now, cleanly": Ctrl-C (SIGINT), kill/systemd/Kubernetes (SIGTERM) and
// the terminal closing (SIGHUP). SIGHUP's default kills only this process, so children that run in
// their own process groups (the dev cluster's pods, the embedded S3) would live on with parent 1.
export const SHUTDOWN_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/** Calls `handler` on each shutdown signal until the returned function removes it. */
export function onShutdownSignals(handler: (signal: NodeJS.Signals) => void): () => void {
  const listener = (signal: NodeJS.Signals) => {
    // After SIGHUP the terminal may be gone: a write to it fails (EIO, EPIPE) with an 'error' event
    // that would crash the process halfway through stopping its children. Output is dropped instead.
    if (signal === 'SIGHUP') for (const stream of [process.stdout, process.stderr]) stream.on('error', () => undefined);
    handler(signal);
  };
  for (const s of SHUTDOWN_SIGNALS) process.on(s, listener);
  return () => {
    for (const s of SHUTDOWN_SIGNALS) process.off(s, listener);
  };
}
