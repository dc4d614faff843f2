import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { HttpError } from '../core/errors.ts';
import { HttpClient } from './client.ts';

type Handler = (req: IncomingMessage, res: ServerResponse, n: number) => void;

async function serve(handler: Handler) {
  let n = 0;
  const server = createServer((req, res) => handler(req, res, ++n));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, count: () => n, close: () => new Promise<void>((r) => server.close(() => r())) };
}

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
});

function client() {
  const c = new HttpClient({ service: 'Test', retry: { baseDelayMs: 5, retries: 4 }, secrets: () => ['supersecret-key'] });
  closers.push(() => c.close());
  return c;
}

describe('HttpClient', () => {
  it('retries 503 and a reset socket, then succeeds', async () => {
    const s = await serve((req, res, n) => {
      if (n === 1) return void res.writeHead(503).end();
      if (n === 2) return void req.socket.destroy();
      res.end('ok');
    });
    closers.push(s.close);
    const r = await client().request({ method: 'GET', url: `${s.url}/x` });
    expect(r.body.toString()).toBe('ok');
    expect(s.count()).toBe(3);
  });

  it('does not retry 404 and names the request without its query string or secrets', async () => {
    const s = await serve((_req, res) => void res.writeHead(404).end('no run supersecret-key here'));
    closers.push(s.close);
    const err = await client()
      .request({ method: 'GET', url: `${s.url}/files/a?sig=abc`, what: 'file a of e/p/r' })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HttpError);
    const msg = (err as HttpError).message;
    expect(msg).toContain('file a of e/p/r');
    expect(msg).not.toContain('sig=abc');
    expect(msg).not.toContain('supersecret-key');
    expect(s.count()).toBe(1);
  });

  it('waits the Retry-After the server asks for', async () => {
    const s = await serve((_req, res, n) => {
      if (n === 1) return void res.writeHead(429, { 'retry-after': '1' }).end();
      res.end('ok');
    });
    closers.push(s.close);
    const started = Date.now();
    await client().request({ method: 'GET', url: s.url });
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
  });

  it('stops waiting when aborted', async () => {
    const s = await serve((_req, res) => void res.writeHead(429, { 'retry-after': '30' }).end());
    closers.push(s.close);
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 50);
    const started = Date.now();
    await expect(client().request({ method: 'GET', url: s.url, signal: ac.signal })).rejects.toThrow(/abort/i);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('retries a status the caller asks to retry (e.g. after refreshing a token)', async () => {
    let refreshed = false;
    const s = await serve((req, res) => {
      if (req.headers.authorization !== 'Bearer new') return void res.writeHead(401).end('expired');
      res.end('ok');
    });
    closers.push(s.close);
    let token = 'old';
    const r = await client().request({
      method: 'GET',
      url: s.url,
      headers: () => ({ authorization: `Bearer ${token}` }),
      retryStatus: (status) => {
        if (status !== 401 || refreshed) return false;
        refreshed = true;
        token = 'new';
        return true;
      },
    });
    expect(r.body.toString()).toBe('ok');
  });

  it('tells the display about each retry and about a request left unanswered; --timeout bounds the wait', async () => {
    const held: ServerResponse[] = [];
    const s = await serve((_req, res, n) => {
      if (n === 1) return void res.writeHead(503).end();
      held.push(res); // accepts and never answers
    });
    closers.push(async () => {
      for (const r of held) r.destroy();
      await s.close();
    });
    const retries: Array<{ attempt: number; attempts: number; reason: string; what: string }> = [];
    const waits: number[] = [];
    const c = new HttpClient({
      service: 'Test', retry: { baseDelayMs: 1, retries: 1 }, timeoutMs: 300, waitNoticeMs: 100,
      onRetry: (r) => retries.push(r), onWaiting: (w) => waits.push(w.waitedMs),
    });
    closers.push(() => c.close());
    const error = await c.request({ method: 'GET', url: `${s.url}/slow`, what: 'the slow thing' }).catch((e: unknown) => e);
    expect(String(error)).toMatch(/Test the slow thing \(GET http:\/\/127\.0\.0\.1:\d+\/slow\) failed after 2 attempts: Headers Timeout Error/);
    expect(retries).toEqual([expect.objectContaining({ attempt: 1, attempts: 2, reason: 'HTTP 503', what: expect.stringContaining('the slow thing') })]);
    expect(waits[0]).toBe(100);
  });
});

describe('HttpClient: what a retry costs', () => {
  it('a retry after the caller fixed the cause (a refreshed token) does not use up the retry budget', async () => {
    // 4 retries allowed; 4 failures and 3 expired tokens interleaved would be 7 bad answers.
    const script = ['503', '401', '503', '401', '503', '401', '503', 'ok'];
    const s = await serve((_req, res, n) => {
      const what = script[n - 1];
      if (what === '503') return void res.writeHead(503).end();
      if (what === '401') return void res.writeHead(401).end('AUTHORIZATION_TOKEN_EXPIRED');
      res.end('ok');
    });
    closers.push(s.close);
    let renewed = 0;
    const r = await client().request({ method: 'GET', url: `${s.url}/x`, retryStatus: (status) => status === 401 && ++renewed > 0 });
    expect(r.body.toString()).toBe('ok');
    expect([s.count(), renewed]).toEqual([8, 3]);
  });

  it('renewals are bounded: a server refusing every new token still ends', async () => {
    const s = await serve((_req, res) => void res.writeHead(401).end('AUTHORIZATION_TOKEN_EXPIRED'));
    closers.push(s.close);
    const err = await client().request({ method: 'GET', url: `${s.url}/x`, retryStatus: () => true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HttpError);
    expect(s.count()).toBe(11);
  });

  it('after an attempt the server may have applied, asks the caller first and sends the body it rebuilt', async () => {
    const bodies: string[] = [];
    const s = await serve((req, res, n) => {
      let b = '';
      req.on('data', (c: Buffer) => (b += c));
      req.on('end', () => {
        bodies.push(b);
        if (n === 1) return void req.socket.destroy();
        res.end('ok');
      });
    });
    closers.push(s.close);
    let left = 'points 1-10';
    const order: string[] = [];
    await client().request({
      method: 'POST', url: `${s.url}/x`, body: () => left,
      beforeAmbiguousRetry: async () => {
        order.push('asked');
        left = 'points 6-10';
      },
    });
    expect(bodies).toEqual(['points 1-10', 'points 6-10']);
    expect(order).toEqual(['asked']);
  });

  it('a refused request (4xx other than a fixed cause) is not ambiguous: nothing to ask', async () => {
    const s = await serve((_req, res, n) => void (n === 1 ? res.writeHead(429, { 'retry-after': '0' }).end() : res.end('ok')));
    closers.push(s.close);
    let asked = 0;
    await client().request({ method: 'POST', url: `${s.url}/x`, body: 'b', beforeAmbiguousRetry: async () => void asked++ });
    expect(asked).toBe(0);
  });
});
