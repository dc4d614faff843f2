/**
 * A file whose signed URLs storage keeps refusing: the source lists the file again for fresh URLs
 * (twice), then gives up with the refusal named — it neither loops nor sends the key to storage.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateEntity, startWandbEmulator, type WandbEmulator } from '../../emulators/wandb/index.ts';
import { createWandbSource, type WandbSource } from '../../src/sources/wandb/index.ts';
import { collect, KEY } from './helpers.ts';

let emu: WandbEmulator;
let source: WandbSource;
beforeAll(async () => {
  // every signed URL is born expired, redirect targets included
  emu = await startWandbEmulator({ apiKeys: [KEY], entity: generateEntity({ seed: 11, preset: 'all-shapes' }), urlTtlSeconds: 0, expiredUrlStatus: 400 });
  // Runs' queries one by one: no other run's files fetched ahead (and listed again) into the counts.
  source = createWandbSource({ baseUrl: emu.url, apiKey: KEY, env: {}, batchRuns: 0, http: { retry: { baseDelayMs: 20, maxDelayMs: 200 } } });
});
afterAll(async () => {
  await source.close();
  await emu.close();
});

describe('signed URL refresh', () => {
  it('lists a refused file again twice for fresh URLs, then reports the refusal', async () => {
    const project = (await collect(source.listProjects()))[0].name;
    const run = (await collect(source.listRuns(project, {}))).find((r) => r.key.runId)!;
    const file = (await collect(source.files(run))).find((f) => f.sizeBytes > 0)!;
    const listings = () => emu.stats().byOperation.RunFiles ?? 0;
    const before = listings();
    const redirectsBefore = emu.stats().redirects;
    await expect(source.fetchFile(run, file)).rejects.toThrow(/storage refused the signed URL \(HTTP 400\)/);
    expect(listings() - before).toBe(2);
    // each of the three listings' URLs was tried: directUrl, then url through its redirect
    expect(emu.stats().redirects - redirectsBefore).toBe(3);
    expect(emu.stats().downloadsWithAuth).toBe(0);
  });
});
