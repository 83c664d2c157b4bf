// Reads V8 .heapsnapshot files and says where the bytes are: `node dist/bench/heapSnapshot.js A.heapsnapshot [B.heapsnapshot]
// [--top 40] [--retainers NAME[,NAME…]] [--depth 3]`.
//
// With one file: self size summed by node type and constructor name (for objects; the function name
// for closures). With two: the same side by side and the growth from A to B, largest first — the
// per-lake-job cost when A is an operator with 1 lake job and B one with 200. `--retainers` groups
// the nodes of the named constructors by the path that holds them (weak edges skipped), which
// answers "who keeps these alive" without the full dominator tree. Self sizes only: a snapshot does
// not count off-heap memory (Buffers' backing stores, code space outside the heap), so compare the
// totals with the process's heapUsed and RSS.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface RawSnapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]]; edge_fields: string[]; edge_types: [string[], ...unknown[]] }; node_count: number };
  nodes: number[];
  edges: number[];
  strings: string[];
}

export interface Snapshot {
  count: number;
  type: Uint8Array;
  name: Uint32Array;
  selfSize: Float64Array;
  firstEdge: Uint32Array;
  edgeType: Uint8Array;
  edgeName: Uint32Array;
  edgeTo: Uint32Array;
  types: string[];
  edgeTypes: string[];
  strings: string[];
}

export function loadSnapshot(path: string): Snapshot {
  const raw = JSON.parse(readFileSync(path, 'utf8')) as RawSnapshot;
  const { meta } = raw.snapshot;
  const nf = meta.node_fields.length;
  const ef = meta.edge_fields.length;
  const [nType, nName, nSize, nEdges] = ['type', 'name', 'self_size', 'edge_count'].map((f) => meta.node_fields.indexOf(f));
  const [eType, eName, eTo] = ['type', 'name_or_index', 'to_node'].map((f) => meta.edge_fields.indexOf(f));
  const count = raw.nodes.length / nf;
  const s: Snapshot = {
    count,
    type: new Uint8Array(count),
    name: new Uint32Array(count),
    selfSize: new Float64Array(count),
    firstEdge: new Uint32Array(count + 1),
    edgeType: new Uint8Array(raw.edges.length / ef),
    edgeName: new Uint32Array(raw.edges.length / ef),
    edgeTo: new Uint32Array(raw.edges.length / ef),
    types: meta.node_types[0],
    edgeTypes: meta.edge_types[0],
    strings: raw.strings,
  };
  let edge = 0;
  for (let i = 0; i < count; i++) {
    const o = i * nf;
    s.type[i] = raw.nodes[o + nType!]!;
    s.name[i] = raw.nodes[o + nName!]!;
    s.selfSize[i] = raw.nodes[o + nSize!]!;
    s.firstEdge[i] = edge;
    edge += raw.nodes[o + nEdges!]!;
  }
  s.firstEdge[count] = edge;
  for (let e = 0; e < s.edgeTo.length; e++) {
    s.edgeType[e] = raw.edges[e * ef + eType!]!;
    s.edgeName[e] = raw.edges[e * ef + eName!]!;
    s.edgeTo[e] = raw.edges[e * ef + eTo!]! / nf;
  }
  return s;
}

/** "object:Foo", "closure:bar", "string", "code", … — what a node is, for grouping. */
export function label(s: Snapshot, i: number): string {
  const t = s.types[s.type[i]!]!;
  if (t === 'object' || t === 'closure' || t === 'native') return `${t}:${s.strings[s.name[i]!]}`;
  if (t === 'hidden' || t === 'array' || t === 'object shape') return `${t}:${s.strings[s.name[i]!]!.replace(/\d+/g, '#').slice(0, 60)}`;
  return t;
}

export function bySelfSize(s: Snapshot): Map<string, { count: number; bytes: number }> {
  const out = new Map<string, { count: number; bytes: number }>();
  for (let i = 0; i < s.count; i++) {
    const k = label(s, i);
    const g = out.get(k) ?? { count: 0, bytes: 0 };
    g.count++;
    g.bytes += s.selfSize[i]!;
    out.set(k, g);
  }
  return out;
}

/** For nodes whose label is in `names`: bytes grouped by the chain of (retainer label, edge) above them. */
export function retainerPaths(s: Snapshot, names: Set<string>, depth: number): Map<string, { count: number; bytes: number }> {
  // Reverse edges, skipping weak ones and the synthetic roots' bookkeeping.
  const weak = s.edgeTypes.indexOf('weak');
  const inCount = new Uint32Array(s.count + 1);
  for (let e = 0; e < s.edgeTo.length; e++) if (s.edgeType[e] !== weak) inCount[s.edgeTo[e]! + 1]!++;
  for (let i = 0; i < s.count; i++) inCount[i + 1]! += inCount[i]!;
  const from = new Uint32Array(inCount[s.count]!);
  const via = new Uint32Array(inCount[s.count]!);
  const fill = inCount.slice();
  for (let n = 0; n < s.count; n++) {
    for (let e = s.firstEdge[n]!; e < s.firstEdge[n + 1]!; e++) {
      if (s.edgeType[e] === weak) continue;
      const to = s.edgeTo[e]!;
      from[fill[to]!] = n;
      via[fill[to]!++] = e;
    }
  }
  const edgeLabel = (e: number) => {
    const t = s.edgeTypes[s.edgeType[e]!];
    return t === 'element' || t === 'hidden' ? `[${t}]` : `.${s.strings[s.edgeName[e]!]}`;
  };
  const out = new Map<string, { count: number; bytes: number }>();
  for (let i = 0; i < s.count; i++) {
    if (!names.has(label(s, i))) continue;
    const path: string[] = [];
    let n = i;
    for (let d = 0; d < depth && inCount[n + 1]! > inCount[n]!; d++) {
      // The first strong retainer stands for all of them: enough to see which structure holds a kind.
      const r = inCount[n]!;
      path.push(`${label(s, from[r]!)}${edgeLabel(via[r]!)}`);
      n = from[r]!;
    }
    const k = path.reverse().join(' → ');
    const g = out.get(k) ?? { count: 0, bytes: 0 };
    g.count++;
    g.bytes += s.selfSize[i]!;
    out.set(k, g);
  }
  return out;
}

function main(): void {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '40' }, retainers: { type: 'string' }, depth: { type: 'string', default: '3' } } });
  if (!positionals.length) throw new Error('usage: heapSnapshot.js A.heapsnapshot [B.heapsnapshot] [--top N] [--retainers NAME,…] [--depth N]');
  const top = Number(values.top);
  const snaps = positionals.map(loadSnapshot);
  const groups = snaps.map(bySelfSize);
  const mib = (b: number) => (b / 2 ** 20).toFixed(2);
  for (const [i, g] of groups.entries()) console.log(`${positionals[i]}: ${snaps[i]!.count} nodes, ${mib([...g.values()].reduce((t, x) => t + x.bytes, 0))} MiB self size`);
  const [a, b] = groups;
  const rows = [...new Set([...a!.keys(), ...(b?.keys() ?? [])])].map((k) => {
    const x = a!.get(k) ?? { count: 0, bytes: 0 };
    const y = b?.get(k) ?? { count: 0, bytes: 0 };
    return { k, x, y, grow: y.bytes - x.bytes };
  });
  rows.sort((p, q) => (b ? q.grow - p.grow : q.x.bytes - p.x.bytes));
  console.log(b ? 'growth MiB | A MiB (count) | B MiB (count) | what' : 'MiB (count) | what');
  for (const r of rows.slice(0, top)) console.log(b ? `${mib(r.grow).padStart(8)} | ${mib(r.x.bytes).padStart(7)} (${r.x.count}) | ${mib(r.y.bytes).padStart(7)} (${r.y.count}) | ${r.k}` : `${mib(r.x.bytes).padStart(8)} (${r.x.count}) | ${r.k}`);
  if (values.retainers) {
    const names = new Set(values.retainers.split(','));
    const last = snaps.at(-1)!;
    console.log(`\nretainers of ${[...names].join(', ')} in ${positionals.at(-1)} (depth ${values.depth}):`);
    const paths = [...retainerPaths(last, names, Number(values.depth)).entries()].sort((p, q) => q[1].bytes - p[1].bytes);
    for (const [k, g] of paths.slice(0, top)) console.log(`${mib(g.bytes).padStart(8)} (${g.count}) | ${k}`);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) main();
