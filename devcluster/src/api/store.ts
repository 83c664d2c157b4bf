// The object store: one map per storage key, one global resourceVersion counter (like etcd's
// revision), and every write published to the watch hub with the revision it created.
//
// Stored objects are never mutated in place: a write stores a new object, so readers (lists in
// flight, watch history, informers' events) always see a consistent snapshot of one revision.
import { WatchHub, type StoreEvent } from './watchHub.js';
import type { KObject } from './types.js';

const keyOf = (ns: string | undefined, name: string): string => (ns ? `${ns}/${name}` : name);

export class Store {
  private rv = 0;
  private readonly tables = new Map<string, Map<string, KObject>>();
  /** Sorted keys per table, rebuilt lazily after a create or delete. */
  private readonly sortedKeys = new Map<string, string[]>();

  constructor(readonly hub: WatchHub) {}

  get resourceVersion(): number {
    return this.rv;
  }

  /**
   * Forgets the watch history: a fresh revision is taken and every earlier one becomes too old to
   * watch from (410 Gone), while lists from now on carry the new revision and can be watched from.
   */
  compactHistory(): void {
    this.rv++;
    this.hub.compact(this.rv);
  }

  get(storageKey: string, namespace: string | undefined, name: string): KObject | undefined {
    return this.tables.get(storageKey)?.get(keyOf(namespace, name));
  }

  /** Objects in key order (namespace, then name), optionally after `afterKey` (list paging). */
  list(storageKey: string, namespace?: string, afterKey?: string): { key: string; object: KObject }[] {
    const table = this.tables.get(storageKey);
    if (!table) return [];
    let keys = this.sortedKeys.get(storageKey);
    if (!keys) {
      keys = [...table.keys()].sort();
      this.sortedKeys.set(storageKey, keys);
    }
    // First index whose key is > bound (or >= bound when inclusive), by binary search.
    const firstAfter = (bound: string, inclusive: boolean) => {
      let lo = 0;
      let hi = keys!.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (inclusive ? keys![mid]! < bound : keys![mid]! <= bound) lo = mid + 1;
        else hi = mid;
      }
      return lo;
    };
    const prefix = namespace ? `${namespace}/` : undefined;
    let start = afterKey !== undefined ? firstAfter(afterKey, false) : 0;
    // A namespace's keys are contiguous: start at its first key, stop at the first one past it.
    if (prefix) start = Math.max(start, firstAfter(prefix, true));
    const out: { key: string; object: KObject }[] = [];
    for (let i = start; i < keys.length; i++) {
      const k = keys[i]!;
      if (prefix && !k.startsWith(prefix)) break;
      out.push({ key: k, object: table.get(k)! });
    }
    return out;
  }

  count(storageKey: string, namespace?: string): number {
    const table = this.tables.get(storageKey);
    if (!table) return 0;
    if (!namespace) return table.size;
    let n = 0;
    for (const o of table.values()) if (o.metadata.namespace === namespace) n++;
    return n;
  }

  /** Storage keys holding at least one object in `namespace`. */
  keysWithObjectsIn(namespace: string): string[] {
    const out: string[] = [];
    for (const [k, table] of this.tables) {
      for (const o of table.values()) {
        if (o.metadata.namespace === namespace) {
          out.push(k);
          break;
        }
      }
    }
    return out;
  }

  create(storageKey: string, obj: KObject): KObject {
    let table = this.tables.get(storageKey);
    if (!table) this.tables.set(storageKey, (table = new Map()));
    const stored = this.stamp(obj);
    table.set(keyOf(obj.metadata.namespace, obj.metadata.name!), stored);
    this.sortedKeys.delete(storageKey);
    this.hub.publish({ type: 'ADDED', rv: this.rv, storageKey, object: stored });
    return stored;
  }

  update(storageKey: string, obj: KObject, previous: KObject): KObject {
    const table = this.tables.get(storageKey)!;
    const stored = this.stamp(obj);
    table.set(keyOf(obj.metadata.namespace, obj.metadata.name!), stored);
    this.hub.publish({ type: 'MODIFIED', rv: this.rv, storageKey, object: stored, previous });
    return stored;
  }

  /** Removes the object; the DELETED event carries it with a fresh resourceVersion, as etcd's delete revision. */
  remove(storageKey: string, obj: KObject): KObject {
    const table = this.tables.get(storageKey);
    const key = keyOf(obj.metadata.namespace, obj.metadata.name!);
    if (!table?.has(key)) return obj;
    table.delete(key);
    this.sortedKeys.delete(storageKey);
    const gone = this.stamp(obj);
    this.hub.publish({ type: 'DELETED', rv: this.rv, storageKey, object: gone, previous: obj });
    return gone;
  }

  private stamp(obj: KObject): KObject {
    this.rv++;
    return { ...obj, metadata: { ...obj.metadata, resourceVersion: String(this.rv) } };
  }
}

export type { StoreEvent };
