import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/core/logger.ts';
import { points, rig, type Rig } from './helpers.ts';

let r: Rig | undefined;
afterEach(async () => {
  await r?.close();
  r = undefined;
});

describe('auth and faults (emulator)', () => {
  it('refreshes an expired access token and continues', async () => {
    r = await rig();
    const p = await r.client.ensureProject('demo', 'faults');
    const run = await r.client.openRun(p, 'tok');
    run.logFloats('x', points(10));
    await run.flush();
    r.emu.expireAccessTokens();
    run.logFloats('x', points(10, 10));
    const res = await run.flush();
    expect(res.errors).toEqual([]);
    expect(r.emu.inspect.floatSeries(run.info.id, 'x')).toHaveLength(20);
    expect(r.client.stats().tokenRefreshes).toBe(1);
    expect(r.emu.stats().byEndpoint.refreshToken).toBe(1);
  });

  it('refreshes ahead of expiry when fewer than 30 s remain', async () => {
    r = await rig({ accessTokenTtlSeconds: 20 });
    const p = await r.client.ensureProject('demo', 'faults');
    await r.client.openRun(p, 'ttl');
    // Every call finds the token within the 30 s margin, so each one refreshes first; none gets a 401.
    expect(r.client.stats().tokenRefreshes).toBeGreaterThan(0);
    expect(r.emu.stats().authFailures).toBe(0);
  });

  it('honours 429 Retry-After and retries 5xx', async () => {
    // The wait the client chose, read from its own retry line (jitter pinned to 0), not from a clock.
    const retries: string[] = [];
    const log = { ...silentLogger, debug: (m: string) => { if (/HTTP 429; retry/.test(m)) retries.push(m); } };
    r = await rig({}, { log, http: { service: 'Neptune', retry: { retries: 6, baseDelayMs: 5, maxDelayMs: 50, random: () => 0 } } });
    const p = await r.client.ensureProject('demo', 'faults');
    const run = await r.client.openRun(p, 'flaky');
    r.emu.setFaults({ force429: { count: 1, retryAfterSeconds: 1 } });
    run.logFloats('x', points(5));
    await run.flush();
    expect(retries).toHaveLength(1);
    expect(retries[0]).toMatch(/: HTTP 429; retry 1 in 1000 ms$/);
    r.emu.setFaults({ force5xx: { count: 2 } });
    run.logFloats('x', points(5, 5));
    expect((await run.flush()).errors).toEqual([]);
    expect(r.emu.inspect.floatSeries(run.info.id, 'x')).toEqual(points(10));
    expect(r.client.stats().rateLimited).toBe(1);
    expect(r.emu.stats().status5xx).toBe(2);
  });

  it('a bad API token fails without leaking it', async () => {
    r = await rig();
    const { createNeptuneClient } = await import('../../src/sinks/neptune/index.ts');
    const wrong = Buffer.from(JSON.stringify({ api_address: r.emu.url, api_key: 'wrong-key-123456789' })).toString('base64');
    const c = createNeptuneClient({ token: wrong });
    const err = await c.ensureProject('demo', 'x').catch((e: unknown) => e as Error);
    await c.close();
    expect(err).toBeInstanceOf(Error);
    expect(String((err as Error).message)).not.toContain('wrong-key-123456789');
    expect(String((err as Error).message)).not.toContain(wrong);
    expect((err as { code?: string }).code).toBe('AUTH');
  });

  it('with its own checks bypassed, surfaces the server refusing bad values per operation', async () => {
    r = await rig({}, { unsafeSkipChecks: true });
    const p = await r.client.ensureProject('demo', 'faults');
    const run = await r.client.openRun(p, 'unsafe');
    run.logFloats('loss', [{ step: 5, timestampMs: 1, value: 1 }]);
    run.logFloats('loss', [{ step: 5, timestampMs: 2, value: 2 }, { step: 4, timestampMs: 3, value: 3 }]);
    run.assign('config/huge', { type: 'int', value: 2 ** 40 });
    run.assign('config/long', { type: 'string', value: 'y'.repeat(16385) });
    run.logStrings('stdout', [{ step: 0, timestampMs: 0, value: 'z'.repeat(1001) }]);
    run.assign('config/ok', { type: 'int', value: 7 });
    const res = await run.flush();
    const byPath = new Map(res.errors.map((e) => [e.path, e]));
    // Both refused points of `loss`, as one failure counting them (re-sent one by one, refused again).
    expect(res.errors.filter((e) => e.path === 'loss').map((e) => e.count)).toEqual([2]);
    expect(byPath.get('loss')?.errorType).toBe('logSeriesValueError');
    expect(byPath.get('config/huge')?.description).toMatch(/int32/);
    expect(byPath.get('config/long')?.description).toMatch(/16384/);
    expect(byPath.get('stdout')?.description).toMatch(/1000/);
    expect(r.emu.inspect.attributes(run.info.id)['config/ok']).toEqual({ type: 'int', value: 7 });
    expect(r.emu.inspect.floatSeries(run.info.id, 'loss')).toHaveLength(1);
  });
});
