/**
 * Mounts Protocol B on the emulator's server: B's tables in the same SQLite store, B's routes beside
 * A's, and a handle for tests. The only hook in emulators/neptune is the call to this function.
 */
import type { Db } from '../neptune/store.ts';
import type { Route } from '../neptune/routes.ts';
import { materialize } from './chunks.ts';
import { BFaults } from './faults.ts';
import { makeInspectB } from './inspect.ts';
import { IngestQueue } from './queue.ts';
import { buildBRoutes } from './routes.ts';
import { StorageBridge } from './storage.ts';
import { openBTables } from './store.ts';
import type { ProtocolBHandle, ProtocolBOptions } from './types.ts';

export interface MountedB {
  /** A's routes with B's beside them; every route but B's ingest side first moves pending float chunks into series_points. */
  withRoutes(aRoutes: Record<string, Route>): Record<string, Route>;
  /** A's inspect, reading only after pending float chunks are in series_points. */
  wrapInspect<T extends object>(inspect: T): T;
  handle: ProtocolBHandle;
  close(): void;
}

/**
 * Routes that never read series points (B's write side, auth, projects): they must stay fast while a
 * B client writes — a token refresh in the middle of a run must not move every pending chunk.
 */
const NO_MATERIALIZE = new Set(['ingest', 'bulkCheckStatus', 'checkStatus', 'checkDetails', 'signedUrlGeneric', 'signedUrlAzure', 'completeMultipartUpload',
  'storagePutObject', 'storageGetObject', 'storagePutPart', 'storageGcsStart', 'storageGcsChunk',
  'getClientConfig', 'exchangeApiToken', 'openIdDiscovery', 'refreshToken', 'listOrganizations', 'listProjects', 'createProject', 'getProject']);

function materializing<T extends object>(db: Db, target: T): T {
  return new Proxy(target, {
    get(t, prop, recv) {
      const v = Reflect.get(t, prop, recv) as unknown;
      if (typeof v !== 'function') return v;
      return (...args: unknown[]) => {
        materialize(db);
        return (v as (...a: unknown[]) => unknown).apply(t, args);
      };
    },
  });
}

export function mountProtocolB(db: Db, opts: ProtocolBOptions = {}, baseUrl: () => string, secret: string): MountedB {
  openBTables(db);
  const now = opts.now ?? (() => Date.now());
  const queue = new IngestQueue(db, {
    statusDelayMs: opts.statusDelayMs ?? 0, unavailableChecks: opts.unavailableChecks ?? 0, now,
    rules: { nanInf: opts.nanInf ?? 'refuse' },
  });
  const faults = new BFaults(opts.faults, (v) => queue.setStuck(v));
  const storage = new StorageBridge(db, {
    get baseUrl() { return baseUrl(); },
    secret, now, provider: opts.storageProvider ?? 'aws', ttlSeconds: opts.signedUrlTtlSeconds ?? 3600,
    multipartThreshold: opts.multipartThreshold ?? 5 * 1024 * 1024, partSize: opts.multipartPartSize ?? 5 * 1024 * 1024,
  });
  queue.start();
  const bRoutes = buildBRoutes({ queue, storage, faults, maxRequestBytes: opts.maxRequestBytes ?? 16 * 1024 * 1024 });
  return {
    withRoutes(aRoutes) {
      const all = { ...aRoutes, ...bRoutes };
      return Object.fromEntries(Object.entries(all).map(([k, r]) => [k, NO_MATERIALIZE.has(r.name) ? r : {
        ...r, handle: (ctx: Parameters<Route['handle']>[0]) => { materialize(db); return r.handle(ctx); },
      }]));
    },
    wrapInspect: (i) => materializing(db, i),
    handle: {
      inspect: materializing(db, makeInspectB(db, () => queue.pendingIds())),
      setFaults: (f) => faults.set(f),
      processReady: () => queue.processReady(),
      stats: () => ({ ...queue.counters, ...storage.counters }),
      onStored: (listener) => storage.onStored(listener),
    },
    close: () => queue.stop(),
  };
}
