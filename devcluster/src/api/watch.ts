// WATCH streams: newline-delimited `{"type":…,"object":…}` events over a chunked 200 response.
//
//   resourceVersion unset or "0" ──▶ synthetic ADDED for every matching object, then live events
//   resourceVersion N           ──▶ retained events after N, then live; N too old ──▶ ERROR 410 Expired, end
//
// With selectors an update that moves an object into (out of) the selection is sent as ADDED
// (DELETED), as the apiserver's watch cache does. allowWatchBookmarks adds periodic BOOKMARK events;
// timeoutSeconds ends the stream cleanly; a client that reads too slowly is cut off.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { badRequest, tooOldResourceVersion } from './errors.js';
import type { Faults } from './faults.js';
import type { Negotiated } from './http.js';
import { objectFilter } from './list.js';
import type { Objects } from './objects.js';
import { groupVersion, type ResourceType } from './registry.js';
import { toTable, type IncludeObject } from './table.js';
import type { KObject } from './types.js';
import type { StoreEvent, WatchHub } from './watchHub.js';

/** Serialized watch lines per served type and stored object (both immutable, so a line never goes stale). */
const encoded = new WeakMap<ResourceType, WeakMap<KObject, Map<string, string>>>();

export interface WatchDeps {
  objects: Objects;
  hub: WatchHub;
  faults: Faults;
  bookmarkIntervalMs: number;
  /** Close streams whose unsent backlog exceeds this many bytes. */
  maxBacklogBytes: number;
  /** Every open stream, so stop() can end them. */
  open: Set<() => void>;
}

export function serveWatch(d: WatchDeps, rt: ResourceType, namespace: string | undefined, query: URLSearchParams, req: IncomingMessage, res: ServerResponse, neg: Negotiated): void {
  const filter = objectFilter(rt, { namespace, labelSelector: query.get('labelSelector'), fieldSelector: query.get('fieldSelector') });
  const rvParam = query.get('resourceVersion') ?? '';
  const bookmarks = query.get('allowWatchBookmarks') === 'true';
  const sendInitial = query.get('sendInitialEvents');
  const timeoutSeconds = query.get('timeoutSeconds');
  const includeObject = (query.get('includeObject') as IncludeObject | null) ?? 'Metadata';
  if (rvParam !== '' && !/^\d+$/.test(rvParam)) throw badRequest(`resourceVersion: Invalid value: "${rvParam}": must be a non-negative integer`);
  if (sendInitial === 'true' && !bookmarks) throw badRequest('allowWatchBookmarks: Forbidden: sendInitialEvents requires setting allowWatchBookmarks=true');

  const contentType = neg.as === 'Table' ? 'application/json;as=Table;v=v1;g=meta.k8s.io' : 'application/json';
  res.writeHead(200, { 'Content-Type': contentType, 'Cache-Control': 'no-cache, private', 'Transfer-Encoding': 'chunked' });
  res.flushHeaders();

  let closed = false;
  const timers: NodeJS.Timeout[] = [];
  let unsubscribe = () => {};
  const close = () => {
    if (closed) return;
    closed = true;
    unsubscribe();
    for (const t of timers) clearTimeout(t);
    d.faults.watches.delete(handle);
    d.open.delete(close);
    if (!res.writableEnded) res.end();
  };
  const handle = { resource: rt.plural, close };
  d.faults.watches.add(handle);
  d.open.add(close);
  req.on('close', close);
  res.on('close', close);

  const encode = (o: KObject): unknown => {
    if (neg.as === 'Table') return toTable(rt, [o], { now: d.objects.now(), includeObject });
    if (neg.as === 'PartialObjectMetadata' || neg.as === 'PartialObjectMetadataList') return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata };
    return o;
  };
  const write = (type: string, object: unknown) => {
    if (closed) return;
    res.write(JSON.stringify({ type, object }) + '\n');
    if (res.writableLength > d.maxBacklogBytes) close();
  };
  const send = (type: string, stored: KObject) => {
    if (closed) return;
    if (neg.as !== 'object') return write(type, encode(d.objects.toExternal(rt, stored)));
    // Fan-out: watchers of one type share the serialized event instead of encoding it each.
    let perType = encoded.get(rt);
    if (!perType) encoded.set(rt, (perType = new WeakMap()));
    let perObject = perType.get(stored);
    if (!perObject) perType.set(stored, (perObject = new Map()));
    let line = perObject.get(type);
    if (line === undefined) perObject.set(type, (line = JSON.stringify({ type, object: d.objects.toExternal(rt, stored) }) + '\n'));
    res.write(line);
    if (res.writableLength > d.maxBacklogBytes) close();
  };
  const bookmark = (annotations?: Record<string, string>) => {
    const metadata: Record<string, unknown> = { resourceVersion: String(d.objects.store.resourceVersion) };
    if (annotations) metadata.annotations = annotations;
    write('BOOKMARK', { kind: rt.kind, apiVersion: groupVersion(rt), metadata });
  };

  const deliver = (ev: StoreEvent) => {
    const now = filter(ev.object);
    const before = ev.previous ? filter(ev.previous) : false;
    if (ev.type === 'ADDED') {
      if (now) send('ADDED', ev.object);
    } else if (ev.type === 'DELETED') {
      if (before || now) send('DELETED', ev.object);
    } else if (now && before) send('MODIFIED', ev.object);
    else if (now) send('ADDED', ev.object);
    else if (before) send('DELETED', ev.object);
  };

  const initial = rvParam === '' || rvParam === '0' || sendInitial === 'true';
  if (initial && sendInitial !== 'false') {
    for (const { object } of d.objects.store.list(rt.storageKey, rt.namespaced ? namespace : undefined)) if (filter(object)) send('ADDED', object);
    if (sendInitial === 'true') bookmark({ 'k8s.io/initial-events-end': 'true' });
  } else {
    const from = Number(rvParam || d.objects.store.resourceVersion);
    const replay = d.hub.since(rt.storageKey, from);
    if (!replay) {
      write('ERROR', tooOldResourceVersion(from, d.hub.oldestWatchableRv + 1).status);
      close();
      return;
    }
    for (const ev of replay) deliver(ev);
  }
  if (closed) return;
  unsubscribe = d.hub.subscribe(rt.storageKey, deliver);

  if (timeoutSeconds && Number(timeoutSeconds) > 0) {
    timers.push(
      setTimeout(() => {
        if (bookmarks) bookmark();
        close();
      }, Number(timeoutSeconds) * 1000),
    );
  }
  if (bookmarks) {
    const tick = () => {
      if (closed) return;
      bookmark();
      timers.push(setTimeout(tick, d.bookmarkIntervalMs));
    };
    timers.push(setTimeout(tick, d.bookmarkIntervalMs));
  }
}
