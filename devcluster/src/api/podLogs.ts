// GET pods/<name>/log — the kubelet contract.
//
// A real apiserver proxies this to the kubelet, which reads /var/log/pods. Here the kubelet (a
// separate component, talking to the server only over HTTP) writes each container run's output to
//
//     <podLogRoot>/<namespace>_<pod>_<pod uid>/<container>/<restartCount>.log
//
// and the server reads it: the highest restart count is the current run, the one before is
// `previous=true`. `follow=true` streams new bytes until the container has terminated (per the pod's
// status) and no newer run has started, the pod is gone, or the client disconnects.
import { existsSync, openSync, readSync, closeSync, readdirSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { badRequest, notFound } from './errors.js';
import { isObject, type JsonObject, type KObject } from './types.js';

export interface PodLogDeps {
  podLogRoot?: string;
  getPod(namespace: string, name: string): KObject | undefined;
  pollMs: number;
  open: Set<() => void>;
}

export function podLogDir(root: string, namespace: string, pod: string, uid: string, container: string): string {
  return join(root, `${namespace}_${pod}_${uid}`, container);
}

function runs(dir: string): number[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .map((f) => f.match(/^(\d+)\.log$/))
    .filter((m): m is RegExpMatchArray => m !== null)
    .map((m) => Number(m[1]))
    .sort((a, b) => a - b);
}

function containerStatus(pod: KObject, container: string): JsonObject | undefined {
  const status = isObject(pod.status) ? pod.status : {};
  const all = [...((status.containerStatuses as JsonObject[]) ?? []), ...((status.initContainerStatuses as JsonObject[]) ?? [])];
  return all.find((c) => c.name === container);
}

function readRange(file: string, from: number, to: number): Buffer {
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(Math.max(0, to - from));
    const n = readSync(fd, buf, 0, buf.length, from);
    return buf.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}

function tail(buf: Buffer, lines: number): Buffer {
  if (lines < 0) return buf;
  let end = buf.length;
  if (end > 0 && buf[end - 1] === 0x0a) end--;
  let count = 0;
  for (let i = end - 1; i >= 0; i--) {
    if (buf[i] === 0x0a && ++count === lines) return buf.subarray(i + 1);
  }
  return lines === 0 ? Buffer.alloc(0) : buf;
}

export function servePodLog(d: PodLogDeps, namespace: string, name: string, query: URLSearchParams, req: IncomingMessage, res: ServerResponse): void {
  const pod = d.getPod(namespace, name);
  if (!pod) throw notFound({ group: '', resource: 'pods' }, name);
  const spec = isObject(pod.spec) ? pod.spec : {};
  const names = [...((spec.initContainers as JsonObject[]) ?? []), ...((spec.containers as JsonObject[]) ?? [])].map((c) => String(c.name));
  const regular = ((spec.containers as JsonObject[]) ?? []).map((c) => String(c.name));
  let container = query.get('container') ?? '';
  if (!container) {
    if (regular.length !== 1) throw badRequest(`a container name must be specified for pod ${name}, choose one of: [${regular.join(' ')}]`);
    container = regular[0]!;
  }
  if (!names.includes(container)) throw badRequest(`container ${container} is not valid for pod ${name}`);
  if (!d.podLogRoot) throw badRequest(`container "${container}" in pod "${name}" is waiting to start: no kubelet publishes logs to this server (podLogRoot is not set)`);
  const dir = podLogDir(d.podLogRoot, namespace, name, pod.metadata.uid!, container);
  const all = runs(dir);
  const previous = query.get('previous') === 'true';
  const run = previous ? all[all.length - 2] : all[all.length - 1];
  if (run === undefined) {
    if (previous) throw badRequest(`previous terminated container "${container}" in pod "${name}" not found`);
    const waiting = containerStatus(pod, container)?.state;
    const reason = isObject(waiting) && isObject(waiting.waiting) ? String(waiting.waiting.reason ?? 'ContainerCreating') : 'ContainerCreating';
    throw badRequest(`container "${container}" in pod "${name}" is waiting to start: ${reason}`);
  }
  const file = join(dir, `${run}.log`);
  const size = statSync(file).size;
  let content = readRange(file, 0, size);
  const tailLines = query.get('tailLines');
  if (tailLines !== null && tailLines !== '') content = tail(content, Number(tailLines));
  const limit = query.get('limitBytes');
  let budget = limit ? Number(limit) : Infinity;
  const emit = (b: Buffer) => {
    if (budget <= 0) return;
    const part = b.length > budget ? b.subarray(0, budget) : b;
    budget -= part.length;
    res.write(part);
  };
  res.writeHead(200, { 'Content-Type': 'text/plain', 'Cache-Control': 'no-cache, private', 'Transfer-Encoding': 'chunked' });
  emit(content);
  if (query.get('follow') !== 'true' || previous) {
    res.end();
    return;
  }
  // follow: poll the file for growth until the run is over.
  let offset = size;
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  const stop = () => {
    if (closed) return;
    closed = true;
    if (timer) clearTimeout(timer);
    d.open.delete(stop);
    if (!res.writableEnded) res.end();
  };
  d.open.add(stop);
  req.on('close', stop);
  const poll = () => {
    if (closed) return;
    const now = existsSync(file) ? statSync(file).size : offset;
    if (now > offset) {
      emit(readRange(file, offset, now));
      offset = now;
    }
    const current = d.getPod(namespace, name);
    const state = current ? containerStatus(current, container)?.state : undefined;
    const terminated = isObject(state) && isObject(state.terminated);
    const newer = runs(dir).some((r) => r > run);
    if (!current || current.metadata.uid !== pod.metadata.uid || (terminated && !newer) || newer || budget <= 0) {
      // One last read so nothing written just before termination is lost.
      const last = existsSync(file) ? statSync(file).size : offset;
      if (last > offset) emit(readRange(file, offset, last));
      stop();
      return;
    }
    timer = setTimeout(poll, d.pollMs);
  };
  timer = setTimeout(poll, d.pollMs);
}
