import { afterEach, describe, expect, it, vi } from 'vitest';
import { startNeptuneEmulator } from './index.ts';
import type { NeptuneEmulator } from './types.ts';
import { call, exchange } from './test-client.ts';

const emus: NeptuneEmulator[] = [];
afterEach(async () => { while (emus.length) await emus.pop()!.close(); });
async function start(ttl?: number) {
  const e = await startNeptuneEmulator({ apiKeys: ['key-1', 'key-2'], accessTokenTtlSeconds: ttl });
  emus.push(e);
  return e;
}
const claims = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString('utf8'));
const orgs = (emu: NeptuneEmulator, token: string) =>
  call(`${emu.url}/api/backend/v1/myOrganizations`, { headers: { authorization: `Bearer ${token}` } });

describe('auth', () => {
  it('api token is base64 JSON with api_address/api_url/api_key', async () => {
    const emu = await start();
    expect(JSON.parse(Buffer.from(emu.apiToken('key-2'), 'base64').toString('utf8'))).toEqual({ api_address: emu.url, api_url: emu.url, api_key: 'key-2' });
  });

  it('client config advertises own url, multipart limits and security', async () => {
    const emu = await start();
    const r = await call(`${emu.url}/api/backend/v1/clients/config?alpha=true`, { headers: { 'X-Neptune-Api-Token': emu.apiToken() } });
    expect(r.status).toBe(200);
    expect(r.json.apiUrl).toBe(emu.url);
    expect(r.json.multiPartUpload).toEqual({ enabled: true, minChunkSize: 5242880, maxChunkSize: 1073741824, maxChunkCount: 1000, maxSinglePartSize: 5242880 });
    expect(r.json.security.clientId).toBe('neptune-cli');
  });

  it('exchanges an api token for a JWT with exp, iss and azp; bad token is 401', async () => {
    const emu = await start(120);
    const before = Math.floor(Date.now() / 1000);
    const t = await exchange(emu);
    expect(t.username).toBe('emulator-user');
    const c = claims(t.accessToken);
    expect(c.iss).toBe(`${emu.url}/auth/realms/neptune`);
    expect(c.azp).toBe('neptune-cli');
    expect(c.exp).toBeGreaterThanOrEqual(before + 120);
    expect(c.exp).toBeLessThanOrEqual(before + 121);
    expect((await orgs(emu, t.accessToken)).json.map((o: { name: string }) => o.name)).toEqual(['demo']);

    const bad = Buffer.from(JSON.stringify({ api_address: emu.url, api_key: 'nope' })).toString('base64');
    const r = await call(`${emu.url}/api/backend/v1/authorization/oauth-token`, { headers: { 'X-Neptune-Api-Token': bad } });
    expect(r.status).toBe(401);
    expect(emu.stats().authFailures).toBe(1);
  });

  it('rejects missing and forged bearer tokens', async () => {
    const emu = await start();
    expect((await call(`${emu.url}/api/backend/v1/myOrganizations`)).status).toBe(401);
    const t = await exchange(emu);
    const forged = t.accessToken.slice(0, -3) + (t.accessToken.endsWith('AAA') ? 'BBB' : 'AAA');
    expect((await orgs(emu, forged)).status).toBe(401);
  });

  it('expired token → 401 AUTHORIZATION_TOKEN_EXPIRED; refresh at <iss>/protocol/openid-connect/token works', async () => {
    const emu = await start();
    const t = await exchange(emu);
    emu.expireAccessTokens();
    const r = await orgs(emu, t.accessToken);
    expect(r.status).toBe(401);
    expect(r.json.errorType).toBe('AUTHORIZATION_TOKEN_EXPIRED');

    const c = claims(t.accessToken);
    const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: t.refreshToken, client_id: c.azp });
    const rr = await call(`${c.iss}/protocol/openid-connect/token`, {
      method: 'POST', raw: form.toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(rr.status).toBe(200);
    // Recorded 2023 traffic (issue 8): 300 s access tokens by default; an offline refresh token, no expiry.
    expect(rr.json.expires_in).toBe(300);
    expect(rr.json.refresh_expires_in).toBe(0);
    expect(claims(t.accessToken).exp - claims(t.accessToken).iat).toBe(300);
    expect(claims(t.refreshToken).exp).toBeUndefined();
    expect(claims(t.refreshToken).typ).toBe('Offline');
    expect((await orgs(emu, rr.json.access_token)).status).toBe(200);

    const badGrant = await call(`${c.iss}/protocol/openid-connect/token`, {
      method: 'POST', raw: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: 'x.y.z', client_id: c.azp }).toString(),
    });
    expect(badGrant.status).toBe(400);
    expect(badGrant.json.error).toBe('invalid_grant');
  });

  it('a token past its exp claim is refused as expired', async () => {
    const emu = await start(1);
    const t = await exchange(emu);
    const exp = claims(t.accessToken).exp as number;
    // The clock moved past exp (only Date is faked: sockets and timers run for real), no sleep.
    vi.useFakeTimers({ toFake: ['Date'] });
    let r;
    try {
      vi.setSystemTime(exp * 1000 + 1000);
      r = await orgs(emu, t.accessToken);
    } finally {
      vi.useRealTimers();
    }
    expect(r.status).toBe(401);
    expect(r.json.errorType).toBe('AUTHORIZATION_TOKEN_EXPIRED');
  });
});
