// The dev cluster's Kubernetes API server: composition and the request pipeline.
//
//   connection ─▶ TLS or plain HTTP (one port, sniffed) ─▶ pause gate ─▶ authenticate (bearer token)
//     ─▶ impersonation ─▶ injected faults ─▶ RBAC ─▶ discovery / OpenAPI / resource handlers
//
// State lives in the store (objects, one resourceVersion counter) and the watch hub (bounded event
// history + live watchers). The server's own controllers (CRD establishing, namespace lifecycle) are
// subscribers of the hub; everything else (Jobs, pods, garbage collection) is a client over HTTP.
import { randomBytes } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import net, { type AddressInfo, type Socket } from 'node:net';
import { Authenticator } from './auth.js';
import { bootstrapObjects } from './bootstrap.js';
import { builtinResourceTypes } from './builtins.js';
import { CrdController, crdStrategy } from './crds.js';
import { apiGroup, apiGroupList, apiResourceList, apiVersions, SERVER_VERSION } from './discovery.js';
import { ApiError, forbidden, unauthorized } from './errors.js';
import { Faults, type ApiFaults } from './faults.js';
import { handleResource, pathNotFound, type HandlerDeps } from './handlers.js';
import { sendError, sendJson } from './http.js';
import { NamespaceLifecycle } from './namespaceLifecycle.js';
import { Objects } from './objects.js';
import { openApiV3 } from './openapi.js';
import { forbiddenReason, RbacAuthorizer, type Attributes } from './rbac.js';
import { Registry } from './registry.js';
import { parseRequestInfo, type RequestInfo } from './requestInfo.js';
import { Store } from './store.js';
import { makeServingCertificates } from './tls.js';
import type { ApiUser, KObject } from './types.js';
import { WatchHub } from './watchHub.js';

export type { ApiUser } from './types.js';
export type { ApiFaults, FailRule } from './faults.js';

export interface ApiServerOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** 0 (default) = a free port. */
  port?: number;
  /** Static bearer tokens (admin: groups ['system:masters']). */
  users?: { token: string; user: ApiUser }[];
  clock?: () => Date;
  log?: (line: string) => void;
  /** Events kept for watches that resume from a resourceVersion (default 10000); older ones get 410 Gone. */
  watchHistory?: number;
  /** Where the kubelet writes container logs (`<root>/<ns>_<pod>_<uid>/<container>/<restart>.log`), for pods/log. */
  podLogRoot?: string;
  /** Interval of BOOKMARK events on watches that allow them (default 60 s). */
  bookmarkIntervalMs?: number;
}

export interface ApiServer {
  /** The HTTPS endpoint (https://127.0.0.1:PORT); kubeconfigs point here, with `caPem` as their CA. */
  url: string;
  httpsUrl: string;
  /** The same port spoken as plain HTTP (curl, debugging). client-node refuses plain http, kubectl accepts it. */
  httpUrl: string;
  port: number;
  /** PEM of the CA that signed the serving certificate (SANs: the host, 127.0.0.1, ::1, localhost). */
  caPem: string;
  addToken(token: string, user: ApiUser): void;
  /** Mints a ServiceAccount token as TokenRequest does (tests; the kubelet uses the API). */
  serviceAccountToken(namespace: string, name: string, expirationSeconds?: number): string;
  faults: ApiFaults;
  /** Forgets the watch history up to now: a watch from any earlier resourceVersion gets 410 Gone. */
  compactWatchHistory(): void;
  stop(): Promise<void>;
}

const PUBLIC_PATHS = new Set(['/healthz', '/livez', '/readyz', '/version', '/version/']);

export async function startApiServer(opts: ApiServerOptions = {}): Promise<ApiServer> {
  const host = opts.host ?? '127.0.0.1';
  const clock = opts.clock ?? (() => new Date());
  const log = opts.log ?? (() => {});

  const certs = makeServingCertificates([...new Set([host, '127.0.0.1', '::1', 'localhost'])]);
  const hub = new WatchHub(opts.watchHistory ?? 10_000);
  const store = new Store(hub);
  const registry = new Registry();
  for (const rt of builtinResourceTypes()) registry.register(rt);
  registry.lookup('apiextensions.k8s.io', 'v1', 'customresourcedefinitions')!.strategy = crdStrategy;
  let nextIp = 1;
  const objects = new Objects({
    registry,
    store,
    clock,
    strategyContext: {
      now: clock,
      allocateClusterIP: () => {
        nextIp++;
        return `10.96.${Math.floor(nextIp / 250) % 256}.${(nextIp % 250) + 1}`;
      },
    },
  });
  const authn = new Authenticator(clock, {
    serviceAccountUid: (ns, name) => store.get('/serviceaccounts', ns, name)?.metadata.uid,
    podUid: (ns, name) => store.get('/pods', ns, name)?.metadata.uid,
  });
  for (const u of opts.users ?? []) authn.addToken(u.token, u.user);
  const listAll = (key: string, ns?: string) => store.list(key, ns).map((x) => x.object);
  const rbac = new RbacAuthorizer({
    clusterRoleBindings: () => listAll('rbac.authorization.k8s.io/clusterrolebindings'),
    roleBindings: (ns) => listAll('rbac.authorization.k8s.io/rolebindings', ns),
    clusterRoles: () => listAll('rbac.authorization.k8s.io/clusterroles'),
    role: (ns, name) => store.get('rbac.authorization.k8s.io/roles', ns, name),
  });
  const faults = new Faults();
  const crds = new CrdController(objects, registry, hub, log);
  const stopCrds = crds.start();
  const namespaces = new NamespaceLifecycle(objects, hub, log, certs.caPem);
  const stopNamespaces = namespaces.start();
  for (const o of bootstrapObjects()) {
    const [group, version] = o.apiVersion!.includes('/') ? o.apiVersion!.split('/') : ['', o.apiVersion!];
    const rt = registry.resources(group!, version!).find((r) => r.kind === o.kind)!;
    objects.create(rt, o.metadata.namespace, o);
  }
  const openapi = openApiV3(registry);
  const open = new Set<() => void>();
  const deps: HandlerDeps = {
    objects,
    crds,
    faults,
    watch: { objects, hub, faults, bookmarkIntervalMs: opts.bookmarkIntervalMs ?? 60_000, maxBacklogBytes: 16 * 1024 * 1024, open },
    reviews: { authn, rbac, now: clock, lookup: (key, ns, name) => store.get(key, ns, name) },
    podLogs: { podLogRoot: opts.podLogRoot, getPod: (ns, name) => store.get('/pods', ns, name), pollMs: 200, open },
  };

  let serverAddress = '';
  const authorizeOrThrow = (user: ApiUser, info: RequestInfo) => {
    const attrs: Attributes = {
      user,
      verb: info.verb,
      isResourceRequest: info.isResourceRequest,
      path: info.path,
      apiGroup: info.group,
      resource: info.resource,
      subresource: info.subresource,
      namespace: info.resource === 'namespaces' && !info.namespace ? info.name : info.namespace,
      name: info.name,
    };
    if (rbac.authorize(attrs)) return;
    throw forbidden(info.isResourceRequest ? { group: info.group, resource: info.resource } : undefined, info.name, forbiddenReason(attrs));
  };

  const impersonate = (user: ApiUser, req: IncomingMessage): ApiUser => {
    const as = req.headers['impersonate-user'];
    if (typeof as !== 'string' || !as) return user;
    const groups = ([] as string[]).concat(req.headers['impersonate-group'] ?? []);
    const sa = as.match(/^system:serviceaccount:([^:]+):([^:]+)$/);
    const check = (resource: string, name: string, namespace = '') => {
      const attrs: Attributes = { user, verb: 'impersonate', isResourceRequest: true, path: '', apiGroup: '', resource, subresource: '', namespace, name };
      if (!rbac.authorize(attrs)) throw forbidden({ group: '', resource }, name, forbiddenReason(attrs));
    };
    if (sa) check('serviceaccounts', sa[2]!, sa[1]!);
    else check('users', as);
    for (const g of groups) check('groups', g);
    const implied = sa ? ['system:serviceaccounts', `system:serviceaccounts:${sa[1]}`] : [];
    return { username: as, groups: [...new Set([...groups, ...implied, 'system:authenticated'])] };
  };

  const route = async (req: IncomingMessage, res: ServerResponse, info: RequestInfo, url: URL, user: ApiUser) => {
    if (info.isResourceRequest) return handleResource(deps, req, res, info, url, user);
    const p = url.pathname.replace(/\/+$/, '') || '/';
    if (info.verb !== 'get' && info.verb !== 'head') throw pathNotFound();
    if (p === '/version') return sendJson(res, 200, SERVER_VERSION);
    if (/^\/(healthz|livez|readyz)(\/.*)?$/.test(p)) {
      res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' });
      return void res.end('ok');
    }
    if (p === '/api') return sendJson(res, 200, apiVersions(serverAddress));
    if (p === '/apis') return sendJson(res, 200, apiGroupList(registry));
    const parts = p.split('/').filter(Boolean);
    if (parts[0] === 'api' && parts.length === 2) {
      const list = apiResourceList(registry, '', parts[1]!);
      if (list) return sendJson(res, 200, list);
    }
    if (parts[0] === 'apis' && parts.length === 2) {
      const g = apiGroup(registry, parts[1]!);
      if (g) return sendJson(res, 200, g);
    }
    if (parts[0] === 'apis' && parts.length === 3) {
      const list = apiResourceList(registry, parts[1]!, parts[2]!);
      if (list) return sendJson(res, 200, list);
    }
    if (p === '/openapi/v2') {
      // An empty Swagger 2.0 document. kubectl falls back to v2 for kinds v3 does not know yet (a
      // custom resource applied in the same file as its CRD) and only accepts protobuf there; with no
      // definitions it skips client-side validation and reports the unknown kind itself, as against a
      // real cluster. Its strategic-merge fallback then uses the compiled-in Go types.
      if (String(req.headers.accept ?? '').includes('protobuf')) {
        const doc = Buffer.from([0x0a, 0x03, ...Buffer.from('2.0')]);
        res.writeHead(200, { 'Content-Type': 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf', 'Content-Length': doc.length });
        return void res.end(doc);
      }
      return sendJson(res, 200, { swagger: '2.0', info: { title: 'Kubernetes', version: SERVER_VERSION.gitVersion }, paths: {}, definitions: {} });
    }
    if (p === '/openapi/v3') return sendJson(res, 200, openapi.root());
    if (parts[0] === 'openapi' && parts[1] === 'v3') {
      const doc = openapi.doc(parts.slice(2).join('/'));
      if (doc) {
        res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'public, immutable', 'Content-Length': Buffer.byteLength(doc) });
        return void res.end(doc);
      }
    }
    throw pathNotFound();
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://devcluster');
    try {
      const gate = faults.gate();
      if (gate) await gate;
      const info = parseRequestInfo(req.method ?? 'GET', url);
      let user = authn.authenticate(req.headers.authorization);
      if (!user) {
        if (!(!info.isResourceRequest && PUBLIC_PATHS.has(url.pathname))) throw unauthorized();
        user = { username: 'system:anonymous', groups: ['system:unauthenticated'] };
      } else user = impersonate(user, req);
      const injected = faults.check(info);
      if (injected) throw injected;
      authorizeOrThrow(user, info);
      await route(req, res, info, url, user);
    } catch (e) {
      if (!(e instanceof ApiError) || e.code >= 500) log(`${req.method} ${url.pathname}${url.search}: ${(e as Error).message}`);
      sendError(res, e, log);
    }
  };

  // One port for both protocols: a TLS ClientHello starts with 0x16, anything else is plain HTTP.
  const onRequest = (req: IncomingMessage, res: ServerResponse) => void handle(req, res);
  const tlsServer = https.createServer({ key: certs.keyPem, cert: certs.certPem }, onRequest);
  const plainServer = http.createServer(onRequest);
  for (const s of [tlsServer, plainServer]) {
    s.keepAliveTimeout = 65_000;
    s.headersTimeout = 70_000;
    s.requestTimeout = 0;
  }
  const sockets = new Set<Socket>();
  const listener = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.once('readable', () => {
      const first = socket.read(1) as Buffer | null;
      if (!first) return void socket.destroy();
      socket.unshift(first);
      (first[0] === 0x16 ? tlsServer : plainServer).emit('connection', socket);
    });
  });
  await new Promise<void>((resolve, reject) => {
    listener.once('error', reject);
    listener.listen(opts.port ?? 0, host, () => resolve());
  });
  const port = (listener.address() as AddressInfo).port;
  const hostInUrl = host.includes(':') ? `[${host}]` : host;
  serverAddress = `${hostInUrl}:${port}`;
  const httpsUrl = `https://${hostInUrl}:${port}`;
  for (const o of apiServerService(host, port)) {
    const [group, version] = o.apiVersion!.includes('/') ? o.apiVersion!.split('/') : ['', o.apiVersion!];
    objects.create(registry.resources(group!, version!).find((r) => r.kind === o.kind)!, o.metadata.namespace, o);
  }

  let stopping: Promise<void> | undefined;
  return {
    url: httpsUrl,
    httpsUrl,
    httpUrl: `http://${hostInUrl}:${port}`,
    port,
    caPem: certs.caPem,
    faults,
    addToken: (token, user) => authn.addToken(token, user),
    serviceAccountToken(namespace, name, expirationSeconds = 3600) {
      const sa = store.get('/serviceaccounts', namespace, name);
      if (!sa) throw new Error(`serviceaccount ${namespace}/${name} not found`);
      return authn.mintServiceAccountToken({
        aud: ['https://kubernetes.default.svc.cluster.local'],
        exp: Math.floor(clock().getTime() / 1000) + expirationSeconds,
        'kubernetes.io': { namespace, serviceaccount: { name, uid: sa.metadata.uid! } },
      });
    },
    compactWatchHistory: () => store.compactHistory(),
    stop() {
      stopping ??= (async () => {
        faults.clear();
        stopCrds();
        stopNamespaces();
        for (const close of [...open]) close();
        await new Promise<void>((resolve) => {
          listener.close(() => resolve());
          for (const s of sockets) s.destroy();
        });
        tlsServer.close();
        plainServer.close();
      })();
      return stopping;
    },
  };
}

/**
 * `default/kubernetes`, the Service every cluster has for its API server (first address of the
 * service range), with Endpoints and an EndpointSlice naming the real listener: `kubectl get svc`
 * and clients that look the API up by Service see what they see on a real cluster.
 */
function apiServerService(host: string, port: number): KObject[] {
  const labels = { component: 'apiserver', provider: 'kubernetes' };
  const address = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return [
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'kubernetes', namespace: 'default', labels },
      spec: { type: 'ClusterIP', clusterIP: '10.96.0.1', ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: port }] },
    },
    {
      apiVersion: 'v1',
      kind: 'Endpoints',
      metadata: { name: 'kubernetes', namespace: 'default', labels: { 'endpointslice.kubernetes.io/skip-mirror': 'true' } },
      subsets: [{ addresses: [{ ip: address }], ports: [{ name: 'https', port, protocol: 'TCP' }] }],
    },
    {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: 'kubernetes', namespace: 'default', labels: { 'kubernetes.io/service-name': 'kubernetes', 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io' } },
      addressType: address.includes(':') ? 'IPv6' : 'IPv4',
      endpoints: [{ addresses: [address], conditions: { ready: true } }],
      ports: [{ name: 'https', port, protocol: 'TCP' }],
    },
  ];
}

/** A random bearer token (for admin identities of tests and `devcluster up`). */
export function newToken(): string {
  return randomBytes(24).toString('base64url');
}

export type { KObject };
