// Turns a URL and method into Kubernetes request attributes (k8s.io/apiserver RequestInfoFactory):
// resource requests get verb/group/version/namespace/resource/subresource/name, everything else is
// a non-resource request authorized by path.

export interface RequestInfo {
  isResourceRequest: boolean;
  path: string;
  /** Kubernetes verb: get list watch create update patch delete deletecollection (or the lower-case HTTP method for non-resource paths). */
  verb: string;
  group: string;
  version: string;
  namespace: string;
  resource: string;
  subresource: string;
  name: string;
  /** Path segments after the subresource (proxy paths); never served here. */
  extra: string[];
}

const namespaceSubresources = new Set(['status', 'finalize']);

export function parseRequestInfo(method: string, url: URL): RequestInfo {
  const path = url.pathname;
  const parts = path.split('/').filter((p) => p.length > 0).map(decodeURIComponent);
  const m = method.toUpperCase();
  const nonResource: RequestInfo = { isResourceRequest: false, path, verb: m.toLowerCase(), group: '', version: '', namespace: '', resource: '', subresource: '', name: '', extra: [] };
  let rest: string[];
  let group = '';
  let version = '';
  if (parts[0] === 'api' && parts.length >= 3) {
    version = parts[1]!;
    rest = parts.slice(2);
  } else if (parts[0] === 'apis' && parts.length >= 4) {
    group = parts[1]!;
    version = parts[2]!;
    rest = parts.slice(3);
  } else {
    return nonResource;
  }
  let watchPath = false;
  if (rest[0] === 'watch') {
    watchPath = true;
    rest = rest.slice(1);
  }
  let namespace = '';
  if (rest[0] === 'namespaces' && rest.length > 1) {
    namespace = rest[1]!;
    if (rest.length > 2 && !namespaceSubresources.has(rest[2]!)) rest = rest.slice(2);
  }
  const [resource = '', name = '', subresource = '', ...extra] = rest;
  let verb: string;
  const watchParam = url.searchParams.get('watch');
  const watch = watchPath || watchParam === 'true' || watchParam === '1';
  switch (m) {
    case 'GET':
    case 'HEAD':
      verb = watch ? 'watch' : name ? 'get' : 'list';
      break;
    case 'POST':
      verb = 'create';
      break;
    case 'PUT':
      verb = 'update';
      break;
    case 'PATCH':
      verb = 'patch';
      break;
    case 'DELETE':
      verb = name ? 'delete' : 'deletecollection';
      break;
    default:
      verb = m.toLowerCase();
  }
  return { isResourceRequest: resource !== '', path, verb, group, version, namespace, resource, subresource, name, extra };
}
