/**
 * startWandbEmulator: two loopback HTTP servers, as W&B has two origins: the API (GraphQL, and
 * `/files/…`, which redirects to a signed URL) and the storage bucket (signed, expiring URLs).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { GenEntity } from '../generator/types.ts';
import { type Core, findProject, findRun } from './core.ts';
import { FaultInjector, type FaultConfig, type RequestClass } from './faults.ts';
import { artifactBody, artifactV2Path } from './artifacts.ts';
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
  /**
   * Status of an expired signed URL: S3 answers 403 "Request has expired", GCS answers 400
   * "ExpiredToken" (their documented presigned-URL behaviour). Default 403.
   */
  expiredUrlStatus?: 400 | 403;
  /** Port of the storage origin (0 = any free port). */
  storagePort?: number;
  /** Where parquet exports are cached; default a fresh temp dir. */
  workDir?: string;
  /** Rows per exported parquet file (default 200_000). */
  exportRowsPerFile?: number;
  /** Data pages of the export: `v2` (hyparquet-writer's, the default) or `v1` (pyarrow's default; parquet-v1.ts). */
  exportPages?: 'v1' | 'v2';
  /** Test seam: wall clock in ms (URL expiry, rate-limit windows). */
  clock?: () => number;
}

export interface EmulatorStats {
  requests: number; graphql: number; byOperation: Record<string, number>; downloads: number;
  /** Storage downloads that carried an Authorization header (the key must never go to storage). */
  downloadsWithAuth: number;
  status429: number; status5xx: number; resets: number; authFailures: number;
  /** `/files/…` requests answered with a redirect to a signed URL. */
  redirects: number;
  /** Signed URLs refused because they had expired. */
  expiredUrls: number;
  /** Storage requests a `fileStatus` fault answered, by the fault's name (faultName): what a client asked of a failing or gone file. */
  storageFaults: Record<string, number>;
  /** Storage downloads the client ended before the last byte (it cancelled them). */
  downloadsCut: number;
}

/** A storage download as it starts: `history/…` (a parquet export file), `files/…`, `artifacts/…`. */
export interface DownloadStart {
  kind: string;
  /** The storage path after the kind, decoded (`<entity>/<project>/<run>/…`). */
  path: string;
  /** Resolves when the body ended: `whole` false when the client went away before the last byte. */
  ended: Promise<{ whole: boolean }>;
}

export interface WandbEmulator {
  url: string;
  /** The storage origin signed URLs point to. */
  storageUrl: string;
  setFaults(f: FaultConfig | undefined): void;
  stats(): EmulatorStats;
  /** Tells `listener` of every storage download as it starts (tests wait on it); returns the unsubscribe. */
  onDownload(listener: (d: DownloadStart) => void): () => void;
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
  let storageUrl = '';
  const core: Core = {
    entity: opts.entity,
    viewer: opts.viewer ?? { username: 'emulator-user', defaultEntity: opts.entity.name },
    cache,
    exporter: new ParquetExporter(opts.workDir ?? mkdtempSync(join(tmpdir(), 'wandb-emulator-')), cache, { rowsPerFile: opts.exportRowsPerFile, pages: opts.exportPages }),
    signer: new UrlSigner(randomBytes(32), opts.urlTtlSeconds ?? 3600, clock),
    baseUrl: () => baseUrl,
    storageUrl: () => storageUrl,
    staleUrls: (key) => faults.staleUrls(key),
  };
  const stats: EmulatorStats = {
    requests: 0, graphql: 0, byOperation: {}, downloads: 0, downloadsWithAuth: 0, status429: 0, status5xx: 0, resets: 0, authFailures: 0, redirects: 0, expiredUrls: 0, storageFaults: {}, downloadsCut: 0,
  };
  const downloadListeners = new Set<(d: DownloadStart) => void>();
  const expiredStatus = opts.expiredUrlStatus ?? 403;

  /** Resolves a storage path (`history/…` or `files/…`) to a body; undefined = 404. */
  async function bodyFor(kind: string, parts: string[]): Promise<BodySource | undefined> {
    if (kind === 'artifacts') return artifactBody(core, parts);
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

  async function handle(origin: 'api' | 'storage', req: IncomingMessage, res: ServerResponse): Promise<void> {
    stats.requests++;
    if (faults.latencyMs > 0) await sleep(faults.latencyMs);
    const [rawPath, query = ''] = (req.url ?? '/').split('?', 2);
    const path = rawPath.replace(/\/+$/, '') || '/';
    const cls: RequestClass | undefined = origin === 'storage'
      ? (path.startsWith('/_storage/') ? 'storage' : undefined)
      : path === '/graphql' ? 'graphql' : path.startsWith('/files/') || path.startsWith('/artifactsV2/') ? 'files' : undefined;
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
    if (cls === 'files' && path.startsWith('/artifactsV2/')) {
      const [, entity, birthId, md5Hex] = path.slice('/artifactsV2/'.length).split('/').map(decodeURIComponent);
      const target = artifactV2Path(core, entity ?? '', birthId ?? '', md5Hex ?? '');
      if (!target) return sendJson(res, 404, { errors: [{ message: 'file not found' }] });
      stats.redirects++;
      res.writeHead(302, { Location: storageUrl + core.signer.sign(target), 'Content-Length': '0' }).end();
      return;
    }
    if (cls === 'files') {
      // The W&B-hosted file URL answers a redirect to a signed storage URL, signed now (issue 8; the SDK's
      // `requests.get` follows it and drops the Authorization header on the new host: requests
      // `Session.rebuild_auth`). A file the run does not have is 404 here, before any redirect.
      const [e, p, r, ...rest] = path.slice('/files/'.length).split('/');
      const project = findProject(core, decodeURIComponent(e ?? ''), decodeURIComponent(p ?? ''));
      const run = project && findRun(project, decodeURIComponent(r ?? ''));
      const name = rest.map(decodeURIComponent).join('/');
      if (!run || !run.files.some((f) => f.name === name)) return sendJson(res, 404, { errors: [{ message: 'file not found' }] });
      stats.redirects++;
      const location = storageUrl + core.signer.sign(`/_storage/files/${path.slice('/files/'.length)}`);
      res.writeHead(302, { Location: location, 'Content-Length': '0' }).end();
      return;
    }
    const params = new URLSearchParams(query);
    const verdict = core.signer.verify(rawPath, params.get('exp'), params.get('sig'));
    if (verdict === 'expired') {
      stats.expiredUrls++;
      return sendJson(res, expiredStatus, { errors: [{ message: expiredStatus === 400 ? 'ExpiredToken: the provided token has expired' : 'AccessDenied: Request has expired' }] });
    }
    if (verdict !== 'ok') return sendJson(res, 403, { errors: [{ message: 'SignatureDoesNotMatch' }] });
    const [kind, ...parts] = path.slice('/_storage/'.length).split('/');
    if (req.method === 'GET' && req.headers.authorization) stats.downloadsWithAuth++;
    const name = faultName(kind, parts.map(decodeURIComponent)) ?? '';
    const failing = faults.fileStatus(name);
    if (failing) stats.storageFaults[name] = (stats.storageFaults[name] ?? 0) + 1;
    if (failing) return sendJson(res, failing, { errors: [{ message: `injected storage failure ${failing}` }] });
    const src = await bodyFor(kind, parts);
    if (!src) return sendJson(res, 404, { errors: [{ message: 'file not found' }] });
    let ended: ((e: { whole: boolean }) => void) | undefined;
    if (req.method === 'GET') {
      stats.downloads++;
      const started: DownloadStart = { kind, path: parts.map(decodeURIComponent).join('/'), ended: new Promise((resolve) => (ended = resolve)) };
      for (const l of [...downloadListeners]) l(started);
    }
    const whole = await sendBody(req, res, src, { bytesPerSecond: faults.downloadBytesPerSecond, truncate: req.method === 'GET' && faults.truncateDownload() });
    if (!whole) stats.downloadsCut++;
    ended?.({ whole });
  }

  const listen = async (origin: 'api' | 'storage', port: number): Promise<{ server: Server; url: string }> => {
    const server = createServer((req, res) => {
      handle(origin, req, res).catch((e: unknown) => {
        if (!res.headersSent) sendJson(res, 500, { errors: [{ message: `emulator failure: ${(e as Error).message}` }] });
        else res.destroy();
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, opts.host ?? '127.0.0.1', () => resolve());
    });
    const addr = server.address() as AddressInfo;
    const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
    return { server, url: `http://${host}:${addr.port}` };
  };
  const api = await listen('api', opts.port ?? 0);
  const bucket = await listen('storage', opts.storagePort ?? 0).catch(async (e: unknown) => {
    await new Promise((r) => api.server.close(r));
    throw e;
  });
  baseUrl = api.url;
  storageUrl = bucket.url;
  const closeOne = (server: Server) => new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });

  return {
    url: baseUrl,
    storageUrl,
    setFaults: (f) => faults.set(f),
    onDownload: (listener) => {
      downloadListeners.add(listener);
      return () => downloadListeners.delete(listener);
    },
    stats: () => ({ ...stats, byOperation: { ...stats.byOperation }, storageFaults: { ...stats.storageFaults } }),
    close: async () => {
      await Promise.all([closeOne(api.server), closeOne(bucket.server)]);
    },
  };
}

/**
 * The name `fileStatus` faults go by: a run file's name, an artifact file's `<name>:<version>/<path>`,
 * or a version's manifest `<name>:<version>` (storage fails the same way for all: a deleted object
 * 404, a refused URL 403, a failing bucket 5xx).
 */
function faultName(kind: string | undefined, parts: string[]): string | undefined {
  if (kind === 'files') return parts.slice(3).join('/');
  if (kind === 'artifacts' && parts[3] === 'files') return `${parts[1]}:${parts[2]}/${parts.slice(4).join('/')}`;
  if (kind === 'artifacts' && parts[3] === 'manifest' && parts.length === 4) return `${parts[1]}:${parts[2]}`;
  return undefined;
}
