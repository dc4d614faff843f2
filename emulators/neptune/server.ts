/**
 * Starts the emulator: one loopback HTTP server, SQLite state, and a request pipeline of
 * stats → latency → faults → auth → handler.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { mountProtocolB } from '../neptune-b/mount.ts';
import { Auth, DEFAULT_ACCESS_TTL_S } from './auth.ts';
import { Downloads } from './downloads.ts';
import { Faults } from './faults.ts';
import { HttpError, HttpTextError, readBody, sendJson } from './http-util.ts';
import { makeInspect } from './inspect.ts';
import { Signals } from './signals.ts';
import { makeTls } from './tls.ts';
import { checkParams } from './openapi.ts';
import { makeRouter } from './router.ts';
import { buildRoutes, type Ctx, type ServerState } from './routes.ts';
import { ensureWorkspace, getMeta, metaOrCreate, openDb, randomSecret, setMeta } from './store.ts';
import { resolveLimits, type NeptuneEmulator, type NeptuneEmulatorOptions, type NeptuneStats } from './types.ts';

function emptyStats(): NeptuneStats {
  return { requests: 0, byEndpoint: {}, status429: 0, status5xx: 0, resets: 0, droppedResponses: 0, signalChannels: 0, rejectedOperations: 0, authFailures: 0, bodyBytes: 0 };
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

/**
 * Lets the handler apply the request, then destroys the connection instead of answering a success:
 * headers are only sent at `end`, so not one byte of the response leaves. Refusals (4xx/5xx) are
 * still answered, as nothing was applied.
 */
function dropAfterApply(req: IncomingMessage, res: ServerResponse, counted: () => void): void {
  const end = res.end.bind(res) as (...a: unknown[]) => ServerResponse;
  res.end = ((...args: unknown[]) => {
    if (res.statusCode >= 400) return end(...args);
    counted();
    req.socket.destroy();
    return res;
  }) as typeof res.end;
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
  const findRoute = makeRouter(routes);
  let stats = emptyStats();
  let state: ServerState | undefined;

  const host = opts.host ?? '127.0.0.1';
  const tls = opts.tls ? await makeTls(host, typeof opts.tls === 'object' ? opts.tls.caFile : undefined) : undefined;
  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    void handle(req, res);
  };
  const server = tls ? createHttpsServer({ key: tls.key, cert: tls.cert }, onRequest) : createServer(onRequest);
  const signals = new Signals(() => db, () => {
    if (!state) throw new Error('not started');
    return state.auth;
  });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex) => {
    if (!signals.upgrade(req, socket, () => { stats.signalChannels += 1; })) socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://emulator');
    const key = `${req.method ?? 'GET'} ${url.pathname.replace(/\/+$/, '') || '/'}`;
    const match = findRoute(req.method ?? 'GET', url.pathname.replace(/\/+$/, '') || '/');
    const route = match?.route;
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
      // Spring checks parameters after the security filter: 401 first, then 400.
      if (route.spec) checkParams(route.spec, req, url.searchParams, match.params);
      const ctx: Ctx = {
        req, res, q: url.searchParams, state: st, user, params: match.params,
        body: async (max = limits.maxBodyBytes, pool) => {
          const b = await readBody(req, max, pool);
          stats.bodyBytes += b.length;
          return b;
        },
      };
      if (faults.dropAfterApply(route.name, req.method ?? 'GET')) dropAfterApply(req, res, () => { stats.droppedResponses += 1; });
      await route.handle(ctx);
    } catch (e) {
      if (res.headersSent) { res.destroy(); return; }
      if (e instanceof HttpTextError) {
        const text = e.message;
        res.writeHead(e.status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(text), ...e.headers });
        res.end(text);
        return;
      }
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

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const baseUrl = `${tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const auth = new Auth({ baseUrl, secret, ttlSeconds: opts.accessTokenTtlSeconds ?? DEFAULT_ACCESS_TTL_S, keys });
  state = { db, limits, auth, baseUrl, downloads: new Downloads(), legacy: opts.legacy === true };
  const firstKey = [...keys.keys()][0];

  return {
    url: baseUrl,
    ...(tls ? { caFile: tls.caFile } : {}),
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
        signals.closeAll();
      });
      b.close();
      db.close();
      stats = emptyStats();
    },
  };
}
