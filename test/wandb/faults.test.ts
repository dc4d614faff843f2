import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/core/logger.ts';
import { retriesFor } from '../support/fault-budget.ts';
import { bytesOf, collect, consoleOf, expectedRow, readFile, runsOf, startEnv, type Env } from './helpers.ts';

let env: Env;
beforeAll(async () => {
  env = await startEnv();
});
afterAll(async () => {
  await env.close();
});

describe('the W&B reader under faults', () => {
  it('5xx, connection resets, truncated downloads and latency change nothing in what is read', async () => {
    env.emu.setFaults({ seed: 3, status5xxRate: 0.15, resetRate: 0.05, truncateRate: 0.3, latencyMs: 5 });
    // A download fails 44% of its attempts here (1 − 0.8 × 0.7): enough retries that chance alone cannot fail one.
    const s = env.source({ http: { retry: { retries: retriesFor({ rate: 0.44, requests: 300 }), baseDelayMs: 5, maxDelayMs: 50 } } });
    const project = env.gen.projects[0];
    const infos = await runsOf(s, project.name);
    for (const name of ['finished-full-export', 'running-live-tail', 'many-files']) {
      const run = project.runs.find((r) => r.displayName === name)!;
      const info = infos.get(run.id)!;
      expect(await collect(s.history(info, {})), name).toEqual([...run.history()].map(expectedRow));
      expect((await collect(s.console(info, {}))).map((l) => l.text), name).toEqual(consoleOf(run));
      for (const f of await collect(s.files(info))) {
        const local = await s.fetchFile(info, f);
        expect((await readFile(local.path)).equals(bytesOf(run.files.find((g) => g.name === f.name)!.content()))).toBe(true);
        await local.release();
      }
    }
    const st = env.emu.stats();
    expect(st.status5xx).toBeGreaterThan(0);
    expect(st.resets).toBeGreaterThan(0);
    expect(st.downloadsWithAuth).toBe(0);
    env.emu.setFaults(undefined);
  });

  it('a 429 with Retry-After: 2 makes the reader wait 2 s before its retry (protocol check)', async () => {
    // The wait the client chose, read from its own retry line (jitter pinned to 0), not from a clock.
    const retries: string[] = [];
    const log = { ...silentLogger, debug: (m: string) => { if (/HTTP 429; retry/.test(m)) retries.push(m); } };
    const s = env.source({ log, http: { retry: { baseDelayMs: 20, maxDelayMs: 200, random: () => 0 } } });
    await s.entity();
    env.emu.setFaults({ force429: { count: 1, retryAfterSeconds: 2 } });
    const projects = await collect(s.listProjects());
    expect(projects.length).toBe(env.gen.projects.length);
    expect(env.emu.stats().status429).toBe(1);
    expect(retries).toHaveLength(1);
    expect(retries[0]).toMatch(/: HTTP 429; retry 1 in 2000 ms$/);
    expect(s.stats().rateLimited).toBe(1);
    env.emu.setFaults(undefined);
  });

  it('the API key never reaches a storage URL', async () => {
    const before = env.emu.stats();
    const s = env.source();
    const project = env.gen.projects[0];
    const infos = await runsOf(s, project.name);
    const info = [...infos.values()].find((r) => r.displayName === 'finished-full-export')!;
    await collect(s.history(info, {}));
    for (const f of (await collect(s.files(info))).slice(0, 5)) await (await s.fetchFile(info, f)).release();
    const after = env.emu.stats();
    expect(after.downloads).toBeGreaterThan(before.downloads);
    expect(after.downloadsWithAuth).toBe(0);
  });

  it('a wrong key is an AUTH error without the key in it', async () => {
    const bad = 'wrongkey-0123456789abcdef0123456789abcdef00';
    const s = env.source({ apiKey: bad, entity: undefined });
    const err = await s.entity().catch((e: unknown) => e);
    expect((err as { code?: string }).code).toBe('AUTH');
    expect(String((err as Error).message)).not.toContain(bad);
  });
});
