import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startNeptuneEmulator } from '../../emulators/neptune/index.ts';
import { detectProtocol } from '../../src/sinks/neptune-b/auto.ts';
import { createNeptuneSession } from '../../src/sinks/neptune/client.ts';
import { encodeNeptuneToken } from '../../src/sinks/neptune/token.ts';

/**
 * `--protocol auto`: a 2.x-style server (the shared backend endpoints, no 3.x ingest routes) is told
 * apart from one that serves the 3.x status endpoint. The 2.x stand-in answers only what neptune-api.md
 * §1 and §2.2 document; everything else is 404, as on a server without the route.
 */
let server: Server | undefined;
afterEach(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

function protocolAServer(): Promise<string> {
  server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (path === '/api/backend/v1/clients/config') return json(200, { apiUrl: `http://127.0.0.1:${(server!.address() as AddressInfo).port}`, applicationUrl: 'x', pyLibVersions: {} });
    if (path === '/api/backend/v1/authorization/oauth-token') return json(200, { accessToken: 'a.e30.b', refreshToken: 'r', username: 'u' });
    if (path === '/api/backend/v1/projects/get') return json(200, { id: 'p-1', name: 'proj', organizationName: 'ws', version: 2 });
    json(404, { code: 404, message: 'not found' });
  });
  return new Promise((resolve) => server!.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server!.address() as AddressInfo).port}`)));
}

describe('--protocol auto', () => {
  it('a server without the 3.x ingest routes speaks Protocol A', async () => {
    const url = await protocolAServer();
    const session = createNeptuneSession({ token: encodeNeptuneToken({ api_address: url, api_key: 'k' }) });
    try {
      expect(await detectProtocol(session, 'ws', 'proj', 'd')).toBe('a');
    } finally {
      await session.http.close();
    }
  });

  it('a server answering /api/client/v1/ingest/check speaks Protocol B', async () => {
    const emu = await startNeptuneEmulator({ workspaces: ['demo'] });
    const session = createNeptuneSession({ token: emu.apiToken() });
    try {
      expect(await detectProtocol(session, 'demo', 'detect-me', 'd')).toBe('b');
    } finally {
      await session.http.close();
      await emu.close();
    }
  });
});
