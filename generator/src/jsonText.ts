// JSON text exactly as the two real producers write it. The song files come from Python's
// json.dumps (", " and ": " separators, non-ASCII as \uXXXX); eventsim's logs also escape every
// non-ASCII character and, as Java JSON writers do, the slash ("Mozilla\/5.0").

const NON_ASCII = /[\u0080-\uffff]/g;
const HAS_NON_ASCII = /[\u0080-\uffff]/; // no 'g': test() on a global regex is stateful
const toEscape = (c: string) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0');

/** A JSON string literal as Python's json.dumps(ensure_ascii=True) writes it. */
export function pythonString(s: string): string {
  const t = JSON.stringify(s);
  return HAS_NON_ASCII.test(t) ? t.replace(NON_ASCII, toEscape) : t;
}

/** A JSON string literal as eventsim writes it: ASCII only, '/' escaped. */
export function eventsimString(s: string): string {
  let t = JSON.stringify(s);
  if (t.includes('/')) t = t.replace(/\//g, '\\/');
  return HAS_NON_ASCII.test(t) ? t.replace(NON_ASCII, toEscape) : t;
}

/** A JSON number as Python's repr writes a float (an integral float keeps its ".0"). */
export function pythonFloat(x: number): string {
  const s = String(x);
  return /[.eE]/.test(s) || !Number.isFinite(x) ? s : s + '.0';
}
