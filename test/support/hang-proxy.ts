import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface HangProxy {
  url: string;
  /** Requests the proxy is holding without an answer. */
  held(): number;
  close(): Promise<void>;
}

/**
 * A loopback proxy in front of a server that forwards every request except those `hang` picks: those
 * it accepts and never answers (the "server that accepts connections and never answers" of issue 9,
 * item 17). Answers are rewritten so absolute URLs pointing at the upstream point at the proxy (the
 * Neptune client config names its API URL).
 */
export async function startHangProxy(upstream: string, hang: (req: IncomingMessage) => boolean): Promise<HangProxy> {
  const held = new Set<ServerResponse>();
  let self = '';
  const server = createServer((req, res) => {
    if (hang(req)) {
      held.add(res);
      res.on('close', () => held.delete(res));
      return;
    }
    const target = new URL(req.url ?? '/', upstream);
    const fwd = request(target, { method: req.method, headers: { ...req.headers, host: target.host } }, (up) => {
      const chunks: Buffer[] = [];
      up.on('data', (c: Buffer) => chunks.push(c));
      up.on('end', () => {
        let body = Buffer.concat(chunks);
        if (String(up.headers['content-type'] ?? '').includes('json')) body = Buffer.from(body.toString('utf8').split(upstream).join(self));
        const headers = { ...up.headers, 'content-length': String(body.length) };
        delete headers['transfer-encoding'];
        res.writeHead(up.statusCode ?? 502, headers);
        res.end(body);
      });
    });
    fwd.on('error', () => res.destroy());
    req.pipe(fwd);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  self = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: self,
    held: () => held.size,
    async close() {
      for (const r of held) r.destroy();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** A loopback port nothing listens on (taken, then released). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

/** A copy of a Neptune API token whose fields are replaced (e.g. its address pointing at a proxy). */
export function tokenWith(token: string, fields: Record<string, string>): string {
  const parsed = JSON.parse(Buffer.from(token, 'base64').toString()) as Record<string, string>;
  return Buffer.from(JSON.stringify({ ...parsed, ...fields })).toString('base64');
}
