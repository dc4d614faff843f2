/** startWandbEmulator: the loopback HTTP server (GraphQL, signed storage URLs, `/files`, faults, stats). */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { GenEntity } from '../generator/types.ts';
import { type Core, findProject, findRun } from './core.ts';
import { FaultInjector, type FaultConfig, type RequestClass } from './faults.ts';
import { loadSchema, runGraphql } from './graphql.ts';
import { ParquetExporter } from './parquet-export.ts';
import { RunDataCache } from './run-data.ts';
import { type BodySource, chunkSource, diskSource, sendBody, UrlSigner } from './storage.ts';

export interface WandbEmulatorOptions {
  port?: number;
  host?: string;
  /** Valid keys; Basic auth `api:<key>`. */
  apiKeys: string[];
  entity: GenEntity;
  viewer?: { username: string; defaultEntity: string };
  faults?: FaultConfig;
  /** Signed-URL lifetime, default 3600. */
  urlTtlSeconds?: number;
  /** Where parquet exports are cached; default a fresh temp dir. */
  workDir?: string;
  /** Rows per exported parquet file (default 200_000). */
  exportRowsPerFile?: number;
  /** Test seam: wall clock in ms (URL expiry, rate-limit windows). */
  clock?: () => number;
}

export interface EmulatorStats {
  requests: number; graphql: number; byOperation: Record<string, number>; downloads: number;
  /** Storage downloads that carried an Authorization header (the key must never go to storage). */
  downloadsWithAuth: number;
  status429: number; status5xx: number; resets: number; authFailures: number;
}

export interface WandbEmulator {
  url: string;
  setFaults(f: FaultConfig | undefined): void;
  stats(): EmulatorStats;
  close(): Promise<void>;
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(text)), ...headers }).end(text);
}

function keyOf(req: IncomingMessage): string | undefined {
  const m = /^Basic\s+(.+)$/i.exec(req.headers.authorization ?? '');
  if (!m) return undefined;
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon >= 0 ? decoded.slice(colon + 1) : undefined;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function startWandbEmulator(opts: WandbEmulatorOptions): Promise<WandbEmulator> {
  const clock = opts.clock ?? Date.now;
  const keys = new Set(opts.apiKeys);
  const faults = new FaultInjector(opts.faults, clock);
  const schema = loadSchema();
  const cache = new RunDataCache();
  let baseUrl = '';
  const core: Core = {
    entity: opts.entity,
    viewer: opts.viewer ?? { username: 'emulator-user', defaultEntity: opts.entity.name },
    cache,
    exporter: new ParquetExporter(opts.workDir ?? mkdtempSync(join(tmpdir(), 'wandb-emulator-')), cache, { rowsPerFile: opts.exportRowsPerFile }),
    signer: new UrlSigner(randomBytes(32), opts.urlTtlSeconds ?? 3600, clock),
    baseUrl: () => baseUrl,
  };
  const stats: EmulatorStats = { requests: 0, graphql: 0, byOperation: {}, downloads: 0, downloadsWithAuth: 0, status429: 0, status5xx: 0, resets: 0, authFailures: 0 };

  /** Resolves a storage or /files path to a body; undefined = 404. */
  async function bodyFor(kind: string, parts: string[]): Promise<BodySource | undefined> {
    const [e, p, r, ...rest] = parts.map(decodeURIComponent);
    if (e !== core.entity.name || !p || !r) return undefined;
    const project = findProject(core, e, p);
    const run = project && findRun(project, r);
    if (!project || !run) return undefined;
    if (kind === 'history') {
      const i = Number(/^(\d+)\.parquet$/.exec(rest[0] ?? '')?.[1] ?? NaN);
      const path = (await core.exporter.files(e, p, run))[i];
      return path ? diskSource(path, statSync(path).size) : undefined;
    }
    const f = run.files.find((x) => x.name === rest.join('/'));
    return f && chunkSource(f.sizeBytes, f.mimetype ?? 'application/octet-stream', f.content);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    stats.requests++;
    if (faults.latencyMs > 0) await sleep(faults.latencyMs);
    const [rawPath, query = ''] = (req.url ?? '/').split('?', 2);
    const path = rawPath.replace(/\/+$/, '') || '/';
    const cls: RequestClass | undefined = path === '/graphql' ? 'graphql' : path.startsWith('/files/') ? 'files' : path.startsWith('/_storage/') ? 'storage' : undefined;
    if (!cls) return sendJson(res, 404, { errors: [{ message: 'not found' }] });

    if (cls !== 'storage') {
      const key = keyOf(req);
      if (!key || !keys.has(key)) {
        stats.authFailures++;
        return sendJson(res, 401, { errors: [{ message: 'user is not logged in' }] });
      }
    }
    const decision = faults.decide(cls);
    if (decision.kind === 'reset') {
      stats.resets++;
      req.socket.destroy();
      return;
    }
    if (decision.kind === 'status') {
      stats.status5xx++;
      return sendJson(res, decision.status, { errors: [{ message: 'injected server error' }] });
    }
    if (decision.kind === '429') {
      stats.status429++;
      return sendJson(res, 429, { errors: [{ message: 'Rate limit exceeded' }] }, decision.headers);
    }
    const rateHeaders = decision.rateHeaders ?? {};

    if (cls === 'graphql') {
      if (req.method !== 'POST') return sendJson(res, 405, { errors: [{ message: 'use POST' }] });
      stats.graphql++;
      let parsed: unknown;
      try {
        parsed = JSON.parse(await readBody(req));
      } catch {
        return sendJson(res, 400, { errors: [{ message: 'request body is not JSON' }] });
      }
      const out = await runGraphql(schema, core, (parsed ?? {}) as Record<string, unknown>);
      stats.byOperation[out.operation] = (stats.byOperation[out.operation] ?? 0) + 1;
      return sendJson(res, 200, out.body, rateHeaders);
    }

    if (req.method !== 'GET' && req.method !== 'HEAD') return sendJson(res, 405, { errors: [{ message: 'use GET' }] });
    let kind = 'files';
    let parts = path.slice('/files/'.length).split('/');
    if (cls === 'storage') {
      const params = new URLSearchParams(query);
      const verdict = core.signer.verify(rawPath, params.get('exp'), params.get('sig'));
      if (verdict !== 'ok') return sendJson(res, 403, { errors: [{ message: verdict === 'expired' ? 'Request has expired' : 'SignatureDoesNotMatch' }] });
      [kind, ...parts] = path.slice('/_storage/'.length).split('/');
      if (req.method === 'GET' && req.headers.authorization) stats.downloadsWithAuth++;
    }
    const src = await bodyFor(kind, parts);
    if (!src) return sendJson(res, 404, { errors: [{ message: 'file not found' }] });
    if (req.method === 'GET') stats.downloads++;
    await sendBody(req, res, src, { bytesPerSecond: faults.downloadBytesPerSecond, truncate: req.method === 'GET' && faults.truncateDownload() });
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { errors: [{ message: `emulator failure: ${(e as Error).message}` }] });
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  baseUrl = `http://${host}:${addr.port}`;

  return {
    url: baseUrl,
    setFaults: (f) => faults.set(f),
    stats: () => ({ ...stats, byOperation: { ...stats.byOperation } }),
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}
