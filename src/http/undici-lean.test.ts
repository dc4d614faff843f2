import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as undici from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent, request } from './undici-lean.ts';

describe('undici-lean', () => {
  let server: ReturnType<typeof createServer>;
  let base = '';
  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => res.writeHead(201, { 'x-seen': `${req.method} ${req.url} ${req.headers['x-h']} ${body}` }).end('answer'));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('is the Agent undici exports', () => {
    expect(Agent).toBe(undici.Agent);
  });

  it('sends what undici.request sends and gives its answer', async () => {
    const agent = new Agent();
    try {
      const url = `${base}/a/b%20c?x=1&y=%2F`;
      const opts = { method: 'POST' as const, headers: { 'x-h': 'v' }, body: 'payload' };
      const ours = await request(agent, url, opts);
      const theirs = await undici.request(url, { ...opts, dispatcher: agent });
      for (const r of [ours, theirs]) expect(r.statusCode).toBe(201);
      expect(ours.headers['x-seen']).toBe('POST /a/b%20c?x=1&y=%2F v payload');
      expect(ours.headers['x-seen']).toBe(theirs.headers['x-seen']);
      expect(await ours.body.text()).toBe(await theirs.body.text());
    } finally {
      await agent.close();
    }
  });
});
