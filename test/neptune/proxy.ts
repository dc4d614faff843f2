/**
 * A loopback HTTP proxy in front of the Neptune emulator, for CLI tests that must see or shape the
 * wire: it records every request the product sends (method, path, query, headers, body) and lets a
 * test decide, per request, to forward it, answer it itself, or forward it and then drop the answer
 * (the server applied the write, the client never hears so). The product under test only gets a
 * token pointing at the proxy; the client config's `apiUrl` is rewritten so every later call comes
 * through the proxy too.
 */
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { NeptuneEmulator } from '../../emulators/neptune/index.ts';

export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

export type ProxyAction =
  /** Forward, with another body when given (a server rule the product does not know). */
  | { kind: 'forward'; body?: Buffer }
  /** Answer without reaching the emulator. */
  | { kind: 'respond'; status: number; json: unknown }
  /** Forward, let the emulator apply it, then destroy the connection instead of answering. */
  | { kind: 'drop-response' };

export interface NeptuneProxy {
  url: string;
  /** A Neptune API token whose address is the proxy (same key as the emulator's). */
  apiToken(): string;
  recorded: RecordedRequest[];
  /** Decides what happens to each request; `forward` when unset. */
  decide: ((r: RecordedRequest) => ProxyAction | Promise<ProxyAction>) | undefined;
  close(): Promise<void>;
}

function readAll(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function forward(target: URL, req: IncomingMessage, body: Buffer): Promise<{ status: number; headers: IncomingMessage['headers']; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const headers = { ...req.headers, host: target.host, 'content-length': String(body.length) };
    delete headers['transfer-encoding'];
    const up = httpRequest(new URL(req.url ?? '/', target), { method: req.method, headers }, (res) => {
      void readAll(res).then((b) => resolve({ status: res.statusCode ?? 502, headers: res.headers, body: b }), reject);
    });
    up.on('error', reject);
    up.end(body);
  });
}

export async function startNeptuneProxy(emu: NeptuneEmulator): Promise<NeptuneProxy> {
  const target = new URL(emu.url);
  const apiKey = (JSON.parse(Buffer.from(emu.apiToken(), 'base64').toString('utf8')) as { api_key: string }).api_key;
  const recorded: RecordedRequest[] = [];
  let url = '';
  const proxy: NeptuneProxy = {
    url: '',
    apiToken: () => Buffer.from(JSON.stringify({ api_address: url, api_url: url, api_key: apiKey }), 'utf8').toString('base64'),
    recorded,
    decide: undefined,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readAll(req);
    const u = new URL(req.url ?? '/', 'http://proxy');
    const rec: RecordedRequest = { method: req.method ?? 'GET', path: u.pathname, query: u.searchParams, headers: req.headers, body };
    recorded.push(rec);
    const action = (await proxy.decide?.(rec)) ?? { kind: 'forward' };
    if (action.kind === 'respond') {
      res.writeHead(action.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(action.json));
      return;
    }
    const up = await forward(target, req, action.kind === 'forward' && action.body ? action.body : body);
    if (action.kind === 'drop-response') {
      req.socket.destroy();
      return;
    }
    let out = up.body;
    // The client config names where every later call goes: here, not the emulator.
    if (u.pathname === '/api/backend/v1/clients/config') out = Buffer.from(out.toString('utf8').split(emu.url).join(url), 'utf8');
    const headers = { ...up.headers, 'content-length': String(out.length) };
    delete headers['transfer-encoding'];
    delete headers.connection;
    res.writeHead(up.status, headers);
    res.end(out);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch(() => res.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  proxy.url = url;
  return proxy;
}
