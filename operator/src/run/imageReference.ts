// Container image references, parsed the way the container runtimes read them (the grammar of
// distribution/reference), so the runner image policy compares what will actually be pulled:
// `nginx`, `docker.io/nginx` and `index.docker.io/library/nginx` are one repository, and
// `ghcr.io/a/b` is not `ghcr.io/a/b-evil`. Pure.

export interface ImageReference {
  /** The fully qualified repository: `docker.io/library/nginx`, `ghcr.io/sparkify/x`, `localhost:5000/x`. */
  repository: string;
  tag?: string;
  digest?: string;
}

const DOMAIN = /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]{1,5})?$/;
const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$/;
const MAX_NAME = 255;

/** The reference's parts, fully qualified; null when the runtime could not pull it as written. */
export function parseImageReference(ref: string): ImageReference | null {
  let rest = ref;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) return null;
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) return null;
  }
  if (!rest || rest.length > MAX_NAME) return null;
  const parts = rest.split('/');
  // The first component is a registry when it looks like a host: a dot, a port, or localhost
  // (docker's rule); otherwise the name lives on Docker Hub.
  const first = parts[0]!;
  let domain = 'docker.io';
  if (parts.length > 1 && (first.includes('.') || first.includes(':') || first === 'localhost' || first !== first.toLowerCase())) {
    if (!DOMAIN.test(first)) return null;
    // Host names are case-insensitive: GHCR.IO is where ghcr.io patterns point.
    domain = first.toLowerCase() === 'index.docker.io' ? 'docker.io' : first.toLowerCase();
    parts.shift();
  }
  if (!parts.length || !parts.every((p) => COMPONENT.test(p))) return null;
  if (domain === 'docker.io' && parts.length === 1) parts.unshift('library');
  return { repository: `${domain}/${parts.join('/')}`, ...(tag ? { tag } : {}), ...(digest ? { digest } : {}) };
}

/** `repository[:tag][@digest]`, fully qualified: two spellings of one image give one string. */
export function canonicalImage(r: ImageReference): string {
  return `${r.repository}${r.tag ? `:${r.tag}` : ''}${r.digest ? `@${r.digest}` : ''}`;
}

/** The repository of an image as written (tag and digest dropped, host kept as written). */
export function repositoryAsWritten(ref: string): string {
  const noDigest = ref.split('@')[0]!;
  const colon = noDigest.lastIndexOf(':');
  return colon > noDigest.lastIndexOf('/') ? noDigest.slice(0, colon) : noDigest;
}
