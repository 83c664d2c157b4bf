// The JSONPath subset Kubernetes uses in CRD additionalPrinterColumns and selectableFields
// (k8s.io/client-go/util/jsonpath): `.a.b`, `['a.b']`, `[0]`, `[-1]`, `[1:3]`, `[*]`, `..a`,
// `[?(@.type=="Ready")]` with == != < > <= >= and bare existence, and `\.` inside field names.

type Step =
  | { kind: 'field'; name: string }
  | { kind: 'recursive'; name: string }
  | { kind: 'index'; index: number }
  | { kind: 'slice'; start?: number; end?: number }
  | { kind: 'wildcard' }
  | { kind: 'filter'; path: Step[]; op?: string; value?: unknown };

export class JsonPathError extends Error {}

function parseFieldName(s: string, i: number): [string, number] {
  let name = '';
  while (i < s.length) {
    const ch = s[i]!;
    if (ch === '\\' && i + 1 < s.length) {
      name += s[i + 1];
      i += 2;
      continue;
    }
    if (ch === '.' || ch === '[') break;
    name += ch;
    i++;
  }
  return [name, i];
}

function parseLiteral(raw: string): unknown {
  const t = raw.trim();
  if ((t.startsWith('"') && t.endsWith('"')) || (t.startsWith("'") && t.endsWith("'"))) return t.slice(1, -1);
  if (t === 'true' || t === 'false') return t === 'true';
  if (t === 'null') return null;
  if (/^-?\d+(\.\d+)?$/.test(t)) return Number(t);
  throw new JsonPathError(`unrecognized literal ${raw}`);
}

export function parseJsonPath(expr: string): Step[] {
  let s = expr.trim();
  if (s.startsWith('{') && s.endsWith('}')) s = s.slice(1, -1).trim();
  if (s.startsWith('$')) s = s.slice(1);
  if (s.startsWith('@')) s = s.slice(1);
  const steps: Step[] = [];
  let i = 0;
  while (i < s.length) {
    const ch = s[i]!;
    if (ch === '.') {
      if (s[i + 1] === '.') {
        const [name, j] = parseFieldName(s, i + 2);
        steps.push({ kind: 'recursive', name });
        i = j;
      } else {
        const [name, j] = parseFieldName(s, i + 1);
        if (name === '*') steps.push({ kind: 'wildcard' });
        else if (name) steps.push({ kind: 'field', name });
        i = j;
      }
    } else if (ch === '[') {
      const close = findClose(s, i);
      const inner = s.slice(i + 1, close).trim();
      i = close + 1;
      if (inner === '*') steps.push({ kind: 'wildcard' });
      else if (inner.startsWith('?(') && inner.endsWith(')')) steps.push(parseFilter(inner.slice(2, -1)));
      else if (/^['"].*['"]$/.test(inner)) steps.push({ kind: 'field', name: inner.slice(1, -1) });
      else if (/^-?\d+$/.test(inner)) steps.push({ kind: 'index', index: Number(inner) });
      else if (/^-?\d*:-?\d*$/.test(inner)) {
        const [a, b] = inner.split(':');
        steps.push({ kind: 'slice', start: a ? Number(a) : undefined, end: b ? Number(b) : undefined });
      } else throw new JsonPathError(`unrecognized character in action: ${inner}`);
    } else {
      const [name, j] = parseFieldName(s, i);
      if (!name) throw new JsonPathError(`unrecognized character in action: ${ch}`);
      steps.push({ kind: 'field', name });
      i = j;
    }
  }
  return steps;
}

function findClose(s: string, open: number): number {
  let depth = 0;
  let quote: string | undefined;
  for (let i = open; i < s.length; i++) {
    const ch = s[i]!;
    if (quote) {
      if (ch === quote) quote = undefined;
      continue;
    }
    if (ch === '"' || ch === "'") quote = ch;
    else if (ch === '[' || ch === '(') depth++;
    else if (ch === ']' || ch === ')') {
      depth--;
      if (depth === 0 && ch === ']') return i;
    }
  }
  throw new JsonPathError(`unterminated array in ${s}`);
}

function parseFilter(expr: string): Step {
  const m = expr.match(/^\s*(@[^=!<>\s]*)\s*(==|!=|<=|>=|<|>)\s*(.+?)\s*$/);
  if (!m) return { kind: 'filter', path: parseJsonPath(expr.trim()) };
  return { kind: 'filter', path: parseJsonPath(m[1]!), op: m[2], value: parseLiteral(m[3]!) };
}

function compare(a: unknown, op: string, b: unknown): boolean {
  switch (op) {
    case '==':
      return a === b || (typeof a === 'number' && typeof b === 'string' && String(a) === b);
    case '!=':
      return a !== b;
    case '<':
      return typeof a === 'number' && typeof b === 'number' && a < b;
    case '>':
      return typeof a === 'number' && typeof b === 'number' && a > b;
    case '<=':
      return typeof a === 'number' && typeof b === 'number' && a <= b;
    case '>=':
      return typeof a === 'number' && typeof b === 'number' && a >= b;
  }
  return false;
}

function children(v: unknown): unknown[] {
  if (Array.isArray(v)) return v;
  if (v && typeof v === 'object') return Object.values(v);
  return [];
}

function apply(values: unknown[], step: Step): unknown[] {
  const out: unknown[] = [];
  for (const v of values) {
    switch (step.kind) {
      case 'field':
        if (v && typeof v === 'object' && !Array.isArray(v) && step.name in v) out.push((v as Record<string, unknown>)[step.name]);
        break;
      case 'recursive': {
        const visit = (x: unknown) => {
          if (x && typeof x === 'object') {
            if (!Array.isArray(x) && step.name in x) out.push((x as Record<string, unknown>)[step.name]);
            for (const c of children(x)) visit(c);
          }
        };
        visit(v);
        break;
      }
      case 'index':
        if (Array.isArray(v)) {
          const i = step.index < 0 ? v.length + step.index : step.index;
          if (i >= 0 && i < v.length) out.push(v[i]);
        }
        break;
      case 'slice':
        if (Array.isArray(v)) out.push(...v.slice(step.start, step.end));
        break;
      case 'wildcard':
        out.push(...children(v));
        break;
      case 'filter':
        for (const el of Array.isArray(v) ? v : []) {
          const found = evaluate(step.path, el);
          if (step.op === undefined ? found.length > 0 : found.some((f) => compare(f, step.op!, step.value))) out.push(el);
        }
        break;
    }
  }
  return out;
}

export function evaluate(steps: Step[], root: unknown): unknown[] {
  return steps.reduce<unknown[]>((vals, step) => apply(vals, step), [root]);
}

const cache = new Map<string, Step[]>();

/** All values `expr` selects in `root` (empty when nothing matches or the path is malformed). */
export function jsonPathValues(expr: string, root: unknown): unknown[] {
  let steps = cache.get(expr);
  if (!steps) {
    try {
      steps = parseJsonPath(expr);
    } catch {
      return [];
    }
    cache.set(expr, steps);
  }
  return evaluate(steps, root);
}
