// The XML of the S3 operations the embedded server answers itself: error documents, ListObjectsV2
// results, DeleteObjects requests and results. A small, strict element parser is enough for the
// request bodies (no DTDs, no namespaces beyond ignoring the default xmlns).
import { S3Error } from './errors.js';

const XML_DECL = '<?xml version="1.0" encoding="UTF-8"?>\n';
export const S3_XMLNS = 'http://s3.amazonaws.com/doc/2006-03-01/';

/**
 * Text content escaped for XML. Control characters become character references: a literal CR
 * would be normalised away by the reader, and some readers trim literal whitespace.
 */
export function escapeXml(s: string): string {
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  return s.replace(/[&<>"'\u0000-\u001f]/g, (c) => {
    switch (c) {
      case '&':
        return '&amp;';
      case '<':
        return '&lt;';
      case '>':
        return '&gt;';
      case '"':
        return '&quot;';
      case "'":
        return '&apos;';
      default:
        return `&#x${c.charCodeAt(0).toString(16).toUpperCase()};`;
    }
  });
}

/** `<a>x</a><b>y</b>` for each defined field, in order. */
export function elements(fields: [string, string | number | boolean | undefined][]): string {
  return fields
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `<${k}>${escapeXml(String(v))}</${k}>`)
    .join('');
}

export function errorDocument(code: string, message: string, detail: Record<string, string | number>, requestId: string): string {
  return `${XML_DECL}<Error>${elements([['Code', code], ['Message', message], ...Object.entries(detail), ['RequestId', requestId]])}</Error>`;
}

export function document(root: string, inner: string): string {
  return `${XML_DECL}<${root} xmlns="${S3_XMLNS}">${inner}</${root}>`;
}

export interface XmlElement {
  name: string;
  children: XmlElement[];
  text: string;
}

/** Parses a whole document into elements; MalformedXML on anything unexpected. */
export function parseXml(xml: string): XmlElement {
  const malformed = () => new S3Error('MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema.');
  let i = 0;
  const skipMisc = () => {
    for (;;) {
      while (i < xml.length && /\s/.test(xml[i]!)) i++;
      if (xml.startsWith('<?', i)) {
        const end = xml.indexOf('?>', i);
        if (end < 0) throw malformed();
        i = end + 2;
      } else if (xml.startsWith('<!--', i)) {
        const end = xml.indexOf('-->', i);
        if (end < 0) throw malformed();
        i = end + 3;
      } else return;
    }
  };
  const parseElement = (depth: number): XmlElement => {
    if (depth > 32 || xml[i] !== '<') throw malformed();
    const open = /^<([A-Za-z_][\w.-]*(?::[A-Za-z_][\w.-]*)?)((?:\s+[^\s=/>]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*(\/?)>/.exec(xml.slice(i, i + 4096));
    if (!open) throw malformed();
    i += open[0].length;
    const el: XmlElement = { name: open[1]!.replace(/^.*:/, ''), children: [], text: '' };
    if (open[3] === '/') return el;
    let text = '';
    for (;;) {
      if (i >= xml.length) throw malformed();
      if (xml.startsWith('</', i)) {
        const close = /^<\/([^\s>]+)\s*>/.exec(xml.slice(i, i + 512));
        if (!close || close[1] !== open[1]) throw malformed();
        i += close[0].length;
        el.text = decodeEntities(text, malformed);
        return el;
      }
      if (xml.startsWith('<![CDATA[', i)) {
        const end = xml.indexOf(']]>', i);
        if (end < 0) throw malformed();
        text += xml.slice(i + 9, end).replace(/&/g, '&amp;').replace(/</g, '&lt;');
        i = end + 3;
      } else if (xml.startsWith('<!--', i)) {
        const end = xml.indexOf('-->', i);
        if (end < 0) throw malformed();
        i = end + 3;
      } else if (xml[i] === '<') {
        if (xml.startsWith('<!', i) || xml.startsWith('<?', i)) throw malformed();
        el.children.push(parseElement(depth + 1));
      } else {
        const next = xml.indexOf('<', i);
        if (next < 0) throw malformed();
        text += xml.slice(i, next);
        i = next;
      }
    }
  };
  skipMisc();
  if (xml.startsWith('<!', i)) throw malformed(); // DOCTYPE: never expand entities from a request
  const root = parseElement(0);
  skipMisc();
  if (i !== xml.length) throw malformed();
  return root;
}

function decodeEntities(s: string, malformed: () => Error): string {
  return s.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|amp|lt|gt|quot|apos);?/g, (m, name: string) => {
    if (!m.endsWith(';')) throw malformed();
    switch (name) {
      case 'amp':
        return '&';
      case 'lt':
        return '<';
      case 'gt':
        return '>';
      case 'quot':
        return '"';
      case 'apos':
        return "'";
      default: {
        const cp = name[1] === 'x' ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10);
        if (!(cp >= 0 && cp <= 0x10ffff)) throw malformed();
        return String.fromCodePoint(cp);
      }
    }
  });
}

export interface DeleteRequest {
  keys: string[];
  quiet: boolean;
}

/** A DeleteObjects body: up to 1000 <Object><Key>, and <Quiet>. */
export function parseDeleteRequest(xml: string): DeleteRequest {
  const root = parseXml(xml);
  const malformed = new S3Error('MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema.');
  if (root.name !== 'Delete') throw malformed;
  const objects = root.children.filter((c) => c.name === 'Object');
  if (objects.length === 0 || objects.length > 1000) throw malformed;
  const keys = objects.map((o) => {
    const key = o.children.find((c) => c.name === 'Key');
    if (!key) throw malformed;
    return key.text;
  });
  const quiet = root.children.find((c) => c.name === 'Quiet')?.text.trim().toLowerCase() === 'true';
  return { keys, quiet };
}
