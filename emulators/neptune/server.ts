/**
 * Starts the emulator: one loopback HTTP server, SQLite state, and a request pipeline of
 * stats → latency → faults → auth → handler.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { mountProtocolB } from '../neptune-b/mount.ts';
import { Auth } from './auth.ts';
import { Faults } from './faults.ts';
import { HttpError, readBody, sendJson } from './http-util.ts';
import { makeInspect } from './inspect.ts';
import { buildRoutes, type Ctx, type ServerState } from './routes.ts';
import { ensureWorkspace, getMeta, metaOrCreate, openDb, randomSecret, setMeta } from './store.ts';
import { resolveLimits, type NeptuneEmulator, type NeptuneEmulatorOptions, type NeptuneStats } from './types.ts';

function emptyStats(): NeptuneStats {
  return { requests: 0, byEndpoint: {}, status429: 0, status5xx: 0, resets: 0, rejectedOperations: 0, authFailures: 0, bodyBytes: 0 };
}

/** API keys: the given ones, else the key remembered in the SQLite file, else a new random one. */
function resolveKeys(db: ReturnType<typeof openDb>, given: string[] | undefined): Map<string, string> {
  let keys = given;
  if (!keys || keys.length === 0) {
    const stored = getMeta(db, 'default_api_key');
    keys = [stored ?? randomUUID()];
    if (!stored) setMeta(db, 'default_api_key', keys[0]);
  }
  return new Map(keys.map((k, i) => [k, i === 0 ? 'emulator-user' : `emulator-user-${i + 1}`]));
}

export async function startNeptuneEmulator(opts: NeptuneEmulatorOptions = {}): Promise<NeptuneEmulator> {
  const db = openDb(opts.storage ?? ':memory:');
  for (const ws of opts.workspaces ?? ['demo']) ensureWorkspace(db, ws);
  const keys = resolveKeys(db, opts.apiKeys);
  const secret = metaOrCreate(db, 'jwt_secret', randomSecret);
  const limits = resolveLimits(opts.limits);
  const faults = new Faults(opts.faults);
  // Protocol B (emulators/neptune-b) shares this store, auth and pipeline; its routes sit beside A's.
  const b = mountProtocolB(db, opts.protocolB, () => state?.baseUrl ?? '', secret);
  const routes = b.withRoutes(buildRoutes());
  let stats = emptyStats();
  let state: ServerState | undefined;

  const server = createServer((req, res) => {
    void handle(req, res);
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://emulator');
    const key = `${req.method ?? 'GET'} ${url.pathname.replace(/\/+$/, '') || '/'}`;
    const route = routes[key];
    stats.requests += 1;
    const name = route?.name ?? 'unknown';
    stats.byEndpoint[name] = (stats.byEndpoint[name] ?? 0) + 1;
    res.on('finish', () => {
      if (res.statusCode === 429) stats.status429 += 1;
      if (res.statusCode >= 500) stats.status5xx += 1;
      if (res.statusCode === 401) stats.authFailures += 1;
      const rejected = Number(res.getHeader('x-emulator-rejected-operations') ?? 0);
      if (rejected > 0) stats.rejectedOperations += rejected;
    });
    try {
      if (faults.latencyMs > 0) await sleep(faults.latencyMs);
      const fate = faults.decide();
      if (fate.kind === 'reset') {
        stats.resets += 1;
        req.socket.destroy();
        return;
      }
      if (fate.kind === '503') throw new HttpError(503, 'Service temporarily unavailable (injected)');
      if (fate.kind === '429') {
        throw new HttpError(429, 'Too many requests (injected)', {}, { 'retry-after': String(fate.retryAfterSeconds) });
      }
      if (!route || !state) throw new HttpError(404, `No such endpoint: ${key}`);
      const st = state;
      const user = route.auth === 'bearer' ? st.auth.verifyBearer(req.headers.authorization) : '';
      const ctx: Ctx = {
        req, res, q: url.searchParams, state: st, user,
        body: async (max = limits.maxBodyBytes) => {
          const b = await readBody(req, max);
          stats.bodyBytes += b.length;
          return b;
        },
      };
      await route.handle(ctx);
    } catch (e) {
      if (res.headersSent) { res.destroy(); return; }
      if (e instanceof HttpError) {
        // Refused bodies may be half-read: close the connection instead of draining it.
        const extra: Record<string, string> = e.status === 413 ? { connection: 'close' } : {};
        sendJson(res, e.status, e.body(), { ...e.headers, ...extra });
        return;
      }
      // Never echo internals (they could include request data); keep a generic 500.
      sendJson(res, 500, { code: 500, message: 'Internal emulator error' });
    }
  }

  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const baseUrl = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const auth = new Auth({ baseUrl, secret, ttlSeconds: opts.accessTokenTtlSeconds ?? 3600, keys });
  state = { db, limits, auth, baseUrl };
  const firstKey = [...keys.keys()][0];

  return {
    url: baseUrl,
    apiToken: (key = firstKey) => auth.apiToken(key),
    setFaults: (f) => faults.set(f),
    expireAccessTokens: () => auth.expireAll(),
    stats: () => ({ ...stats, byEndpoint: { ...stats.byEndpoint } }),
    inspect: b.wrapInspect(makeInspect(db)),
    b: b.handle,
    close: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      b.close();
      db.close();
      stats = emptyStats();
    },
  };
}
