// S3 clients shared by every S3Storage of a process that has the same client configuration.
//
// An S3Client is not small (its resolved config, middleware stack, endpoint cache, credential
// provider and HTTP agents with their own keep-alive sockets: ~31 KiB of heap and ~33 KiB of RSS
// each after a request, against ~1.7 KiB for a storage without one; docs/storage.md), and a
// storage is opened per root: an operator with 200 lake jobs held 600 clients, a shard 3. The pool hands out leases on one client per configuration and
// destroys a client (closing its sockets) when its last lease is released, so a rotated Secret gets
// a new client and the old one goes as soon as no storage holds it.
//
// The key is derived from the very options the client is built with (`s3ClientPlan`), so two
// storages share a client exactly when they would have built identical ones. Retries, the retry
// clock, concurrency limits and part sizes are per storage (S3Storage): the client itself never
// retries (`maxAttempts: 1`), so they are not part of the client's configuration.
import type * as S3Sdk from '@aws-sdk/client-s3';
import { createHmac, randomBytes } from 'node:crypto';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { createRequire } from 'node:module';
import type { S3Settings } from './options.js';

/**
 * The SDK, loaded on the first client: a shard of a local run (and the operator's plain planning)
 * never needs it, and loading it costs ~0.15 s of CPU per process. `require` keeps openStorage
 * synchronous; the SDK ships CommonJS builds.
 */
let sdk: typeof S3Sdk | null = null;
export function s3Sdk(): typeof S3Sdk {
  sdk ??= createRequire(import.meta.url)('@aws-sdk/client-s3') as typeof S3Sdk;
  return sdk;
}

/** Timeouts of every client (a dead endpoint fails fast; a slow body is not cut while it flows). */
export const CONNECT_TIMEOUT_MS = 5_000;
export const SOCKET_IDLE_TIMEOUT_MS = 120_000;

/** Everything an S3Client is built from except the HTTP agents (which the pool owns). */
export interface S3ClientOptions {
  endpoint: string | undefined;
  region: string;
  forcePathStyle: boolean;
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string } | undefined;
  maxAttempts: 1;
  requestChecksumCalculation: 'WHEN_REQUIRED';
  responseChecksumValidation: 'WHEN_REQUIRED';
  connectionTimeout: number;
  socketTimeout: number;
}

/**
 * A per-process random key for hashing secrets into pool keys: a key that ends up in a log or a
 * heap dump reveals nothing, not even to someone who can guess candidate secrets offline.
 */
const SECRET_HASH_KEY = randomBytes(32);

/** The client options for a storage's settings, and the pool key naming them (pure but for the hash key). */
export function s3ClientPlan(settings: S3Settings): { key: string; options: S3ClientOptions } {
  const options: S3ClientOptions = {
    endpoint: settings.endpoint,
    region: settings.region,
    forcePathStyle: settings.forcePathStyle,
    credentials: settings.credentials,
    maxAttempts: 1,
    // s3rver (and some gateways) store streamed bodies with aws-chunked framing otherwise.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    connectionTimeout: CONNECT_TIMEOUT_MS,
    socketTimeout: SOCKET_IDLE_TIMEOUT_MS,
  };
  const { credentials, ...rest } = options;
  const identity = credentials
    ? {
        accessKeyId: credentials.accessKeyId,
        // The secret and the session token go in only as a keyed hash: never in clear, never printable.
        secret: createHmac('sha256', SECRET_HASH_KEY).update(credentials.secretAccessKey).update('\0').update(credentials.sessionToken ?? '').digest('base64url'),
        session: credentials.sessionToken !== undefined,
      }
    : 'default credential chain';
  // Fixed field order (the object literal above), so equal options give equal keys.
  return { key: JSON.stringify({ ...rest, credentials: identity }), options };
}

/** A hold on a shared client. `release` is idempotent; the client must not be used after it. */
export interface S3ClientLease {
  readonly client: S3Sdk.S3Client;
  release(): void;
}

interface Entry {
  client: S3Sdk.S3Client;
  agents: [HttpAgent, HttpsAgent];
  leases: number;
  /** Sum of the holders' concurrency limits: the agents' socket cap (see acquire). */
  sockets: number;
}

export interface S3ClientPoolStats {
  /** Live clients (one per distinct configuration in use). */
  clients: number;
  /** Leases held on them. */
  leases: number;
}

export class S3ClientPool {
  private readonly entries = new Map<string, Entry>();

  /**
   * A lease on the client for `settings`, made on first use. `maxConcurrency` is how many requests
   * the holder may have in flight: the shared agents allow the sum over all holders, so one
   * storage's open streams can never starve another storage of sockets (its own semaphore still
   * bounds it), and the total stays what it was with one client per storage.
   */
  acquire(settings: S3Settings): S3ClientLease {
    const { key, options } = s3ClientPlan(settings);
    let entry = this.entries.get(key);
    if (!entry) {
      entry = this.create(options);
      this.entries.set(key, entry);
    }
    const e = entry;
    e.leases++;
    this.resize(e, settings.maxConcurrency);
    let released = false;
    return {
      client: e.client,
      release: () => {
        if (released) return;
        released = true;
        e.leases--;
        this.resize(e, -settings.maxConcurrency);
        if (e.leases === 0) {
          // Only the entry under this key: a replaced entry must not be removed by an old lease.
          if (this.entries.get(key) === e) this.entries.delete(key);
          e.client.destroy();
          // The handler destroys agents only once it has resolved its config (first request).
          for (const a of e.agents) a.destroy();
        }
      },
    };
  }

  get stats(): S3ClientPoolStats {
    let leases = 0;
    for (const e of this.entries.values()) leases += e.leases;
    return { clients: this.entries.size, leases };
  }

  private create(options: S3ClientOptions): Entry {
    const { S3Client } = s3Sdk();
    const agentOptions = { keepAlive: true, maxSockets: 1 };
    const agents: [HttpAgent, HttpsAgent] = [new HttpAgent(agentOptions), new HttpsAgent(agentOptions)];
    const { connectionTimeout, socketTimeout, ...clientOptions } = options;
    const client = new S3Client({ ...clientOptions, requestHandler: { connectionTimeout, socketTimeout, httpAgent: agents[0], httpsAgent: agents[1] } });
    return { client, agents, leases: 0, sockets: 0 };
  }

  private resize(e: Entry, delta: number): void {
    e.sockets += delta;
    // An agent reads maxSockets on every request, so a change applies to the next one.
    for (const a of e.agents) a.maxSockets = Math.max(1, e.sockets);
  }
}

/** The process's pool: every openStorage shares it unless given another (tests, measurements). */
export const sharedS3Clients = new S3ClientPool();
