/**
 * Mounts Protocol B on the emulator's server: B's tables in the same SQLite store, B's routes beside
 * A's, and a handle for tests. The only hook in emulators/neptune is the call to this function.
 */
import type { Db } from '../neptune/store.ts';
import type { Route } from '../neptune/routes.ts';
import { BFaults } from './faults.ts';
import { makeInspectB } from './inspect.ts';
import { IngestQueue } from './queue.ts';
import { buildBRoutes } from './routes.ts';
import { StorageBridge } from './storage.ts';
import { openBTables } from './store.ts';
import type { ProtocolBHandle, ProtocolBOptions } from './types.ts';

export interface MountedB { routes: Record<string, Route>; handle: ProtocolBHandle; close(): void }

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
  return {
    routes: buildBRoutes({ queue, storage, faults, maxRequestBytes: opts.maxRequestBytes ?? 16 * 1024 * 1024 }),
    handle: {
      inspect: makeInspectB(db, () => queue.pendingIds()),
      setFaults: (f) => faults.set(f),
      processReady: () => queue.processReady(),
      stats: () => ({ ...queue.counters }),
    },
    close: () => queue.stop(),
  };
}
