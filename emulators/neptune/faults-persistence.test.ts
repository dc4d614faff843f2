import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startNeptuneEmulator } from './index.ts';
import { call, session } from './test-client.ts';

const dir = mkdtempSync(join(tmpdir(), 'neptune-emu-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('faults', () => {
  it('force429 gives exactly N 429s with Retry-After, then force5xx gives 503s', async () => {
    const emu = await startNeptuneEmulator();
    try {
      const s = await session(emu);
      emu.setFaults({ force429: { count: 2, retryAfterSeconds: 7 } });
      const a = await s.api('/api/backend/v1/myOrganizations');
      const b = await s.api('/api/backend/v1/myOrganizations');
      const c = await s.api('/api/backend/v1/myOrganizations');
      expect([a.status, b.status, c.status]).toEqual([429, 429, 200]);
      expect(a.headers.get('retry-after')).toBe('7');
      emu.setFaults({ force5xx: { count: 1 } });
      expect((await s.api('/api/backend/v1/myOrganizations')).status).toBe(503);
      expect((await s.api('/api/backend/v1/myOrganizations')).status).toBe(200);
      const st = emu.stats();
      expect(st.status429).toBe(2);
      expect(st.status5xx).toBe(1);
      expect(st.byEndpoint.listOrganizations).toBe(5);
    } finally { await emu.close(); }
  });

  it('rate limit answers 429 beyond N requests per second; resets drop the socket', async () => {
    const emu = await startNeptuneEmulator({ faults: { rateLimitPerSecond: 2 } });
    try {
      const replies = await Promise.all(Array.from({ length: 5 }, () => call(`${emu.url}/api/backend/v1/clients/config`)));
      // 5 requests can straddle at most two one-second windows of 2 each
      const limited = replies.filter((r) => r.status === 429);
      expect(limited.length).toBeGreaterThanOrEqual(1);
      expect(Number(limited[0].headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      emu.setFaults({ resetRate: 1, seed: 3 });
      await expect(call(`${emu.url}/api/backend/v1/clients/config`)).rejects.toThrow();
      expect(emu.stats().resets).toBe(1);
    } finally { await emu.close(); }
  });
});

describe('persistence', () => {
  it('state survives a restart on the same SQLite file', async () => {
    const file = join(dir, 'state.sqlite');
    const first = await startNeptuneEmulator({ storage: file, apiKeys: ['k'] });
    const s = await session(first);
    const p = await s.createProject('keep');
    const run = await s.createRun(p.id, 'cid-1');
    await s.ops(run.id, [
      { path: 'm', logFloats: { entries: [{ value: 1, step: 1, timestampMilliseconds: 5 }] } },
      { path: 'c', assignString: { value: 'v' } },
    ]);
    await first.close();

    const second = await startNeptuneEmulator({ storage: file, apiKeys: ['k'] });
    try {
      expect(second.inspect.runs('demo/keep')).toEqual([{ id: run.id, shortId: 'KEE-1', customId: 'cid-1' }]);
      expect(second.inspect.floatSeries(run.id, 'm')).toEqual([{ step: 1, timestampMs: 5, value: 1 }]);
      const s2 = await session(second);
      expect((await s2.createRun(p.id, 'cid-1')).id).toBe(run.id);
      const r = await s2.ops(run.id, [{ path: 'm', logFloats: { entries: [{ value: 2, step: 1, timestampMilliseconds: 6 }] } }]);
      expect(r.json[0].errorType).toBe('logSeriesValueError');
      expect((await s2.api('/api/leaderboard/v1/attributes', { experimentId: run.id })).json.attributes.find((a: { name: string }) => a.name === 'm').floatSeriesProperties.lastStep).toBe(1);
    } finally { await second.close(); }
  });
});
