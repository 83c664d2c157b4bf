// Authentication: static bearer tokens (the admin kubeconfig, controllers) and ServiceAccount tokens
// minted through the TokenRequest API (serviceaccounts/<name>/token), which pods mount.
//
// ServiceAccount tokens are JWTs signed with a per-server HMAC key. Like bound tokens in Kubernetes,
// one stays valid only while it has not expired, its ServiceAccount still exists with the same uid,
// and (when bound to a pod) that pod still exists with the same uid.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { ApiUser } from './types.js';

export const API_AUDIENCE = 'https://kubernetes.default.svc.cluster.local';
export const ISSUER = 'https://kubernetes.default.svc.cluster.local';

export interface TokenClaims {
  iss: string;
  sub: string;
  aud: string[];
  exp: number;
  iat: number;
  nbf: number;
  'kubernetes.io': {
    namespace: string;
    serviceaccount: { name: string; uid: string };
    pod?: { name: string; uid: string };
    secret?: { name: string; uid: string };
  };
}

/** What a token's bound objects look like now, so revoked bindings stop authenticating. */
export interface BindingLookup {
  serviceAccountUid(namespace: string, name: string): string | undefined;
  podUid(namespace: string, name: string): string | undefined;
}

const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');

export class Authenticator {
  private readonly staticTokens = new Map<string, ApiUser>();
  private readonly key = randomBytes(32);

  constructor(
    private readonly clock: () => Date,
    private readonly bindings: BindingLookup,
  ) {}

  addToken(token: string, user: ApiUser): void {
    this.staticTokens.set(token, user);
  }

  mintServiceAccountToken(claims: Omit<TokenClaims, 'iss' | 'sub' | 'iat' | 'nbf'>): string {
    const now = Math.floor(this.clock().getTime() / 1000);
    const k = claims['kubernetes.io'];
    const full: TokenClaims = { iss: ISSUER, sub: `system:serviceaccount:${k.namespace}:${k.serviceaccount.name}`, iat: now, nbf: now, ...claims };
    const head = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT', kid: 'devcluster' }));
    const body = b64url(JSON.stringify(full));
    const sig = createHmac('sha256', this.key).update(`${head}.${body}`).digest('base64url');
    return `${head}.${body}.${sig}`;
  }

  /** The claims of a valid ServiceAccount token, or undefined (also for static tokens). */
  verifyServiceAccountToken(token: string): TokenClaims | undefined {
    const parts = token.split('.');
    if (parts.length !== 3) return undefined;
    const expected = createHmac('sha256', this.key).update(`${parts[0]}.${parts[1]}`).digest();
    const got = Buffer.from(parts[2]!, 'base64url');
    if (got.length !== expected.length || !timingSafeEqual(got, expected)) return undefined;
    let claims: TokenClaims;
    try {
      claims = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as TokenClaims;
    } catch {
      return undefined;
    }
    const now = this.clock().getTime() / 1000;
    if (now >= claims.exp || now < claims.nbf - 60) return undefined;
    const k = claims['kubernetes.io'];
    if (this.bindings.serviceAccountUid(k.namespace, k.serviceaccount.name) !== k.serviceaccount.uid) return undefined;
    if (k.pod && this.bindings.podUid(k.namespace, k.pod.name) !== k.pod.uid) return undefined;
    return claims;
  }

  /** The user of an `Authorization: Bearer …` header, or undefined (anonymous). */
  authenticate(authorization: string | undefined, audiences: string[] = [API_AUDIENCE]): ApiUser | undefined {
    const m = authorization?.match(/^Bearer\s+(\S+)\s*$/i);
    if (!m) return undefined;
    const token = m[1]!;
    const fixed = this.staticTokens.get(token);
    if (fixed) return { ...fixed, groups: fixed.groups.includes('system:authenticated') ? fixed.groups : [...fixed.groups, 'system:authenticated'] };
    const claims = this.verifyServiceAccountToken(token);
    if (!claims || !claims.aud.some((a) => audiences.includes(a))) return undefined;
    return serviceAccountUser(claims);
  }
}

export function serviceAccountUser(claims: TokenClaims): ApiUser {
  const k = claims['kubernetes.io'];
  const user: ApiUser = {
    username: `system:serviceaccount:${k.namespace}:${k.serviceaccount.name}`,
    uid: k.serviceaccount.uid,
    groups: ['system:serviceaccounts', `system:serviceaccounts:${k.namespace}`, 'system:authenticated'],
  };
  if (k.pod) user.extra = { 'authentication.kubernetes.io/pod-name': [k.pod.name], 'authentication.kubernetes.io/pod-uid': [k.pod.uid] };
  return user;
}
