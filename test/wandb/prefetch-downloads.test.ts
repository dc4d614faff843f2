import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { worthPrefetching } from '../../src/sources/wandb/run-downloads.ts';
import { bytesOf, collect, readFile, runsOf, startEnv, type Env } from './helpers.ts';

/** Issue 13: a run's small files start downloading together when its migration starts, once each. */
let env: Env;
beforeAll(async () => {
  env = await startEnv();
});
afterAll(async () => {
  await env?.close();
});

describe('W&B reader: small files fetched ahead', () => {
  it('which files: small ones, not config/summary (the listing carries them), not media or artifact files', () => {
    expect(worthPrefetching({ name: 'requirements.txt', sizeBytes: 10 })).toBe(true);
    expect(worthPrefetching({ name: 'wandb-metadata.json', sizeBytes: 500 })).toBe(true);
    expect(worthPrefetching({ name: 'output.log', sizeBytes: 200_000 })).toBe(true);
    expect(worthPrefetching({ name: 'model.ckpt', sizeBytes: 300 * 1024 })).toBe(false);
    expect(worthPrefetching({ name: 'empty.txt', sizeBytes: 0 })).toBe(false);
    expect(worthPrefetching({ name: 'config.yaml', sizeBytes: 10 })).toBe(false);
    expect(worthPrefetching({ name: 'wandb-summary.json', sizeBytes: 10 })).toBe(false);
    expect(worthPrefetching({ name: 'media/images/a.png', sizeBytes: 10 })).toBe(false);
    expect(worthPrefetching({ name: 'artifact/x/y.bin', sizeBytes: 10 })).toBe(false);
  });

  it('provenance starts them; every later reader gets the same download; release deletes them', async () => {
    const source = env.source({ batchRuns: 0 });
    const project = env.gen.projects.find((p) => p.runs.some((r) => r.files.some((f) => f.name === 'requirements.txt')))!;
    const gen = project.runs.find((r) => r.files.some((f) => f.name === 'requirements.txt') && r.files.some((f) => f.name === 'wandb-metadata.json'))!;
    const run = (await runsOf(source, project.name)).get(gen.id)!;
    const before = env.emu.stats().downloads;
    await source.provenance!(run);
    const listed = await collect(source.files(run));
    const ahead = listed.filter(worthPrefetching).slice(0, 16);
    expect(ahead.map((f) => f.name)).toContain('requirements.txt');
    const locals = [];
    for (const f of ahead) {
      const local = await source.fetchFile(run, f);
      const want = bytesOf(gen.files.find((g) => g.name === f.name)!.content());
      expect((await readFile(local.path)).equals(want)).toBe(true);
      await local.release();
      locals.push(local.path);
    }
    // once each, the metadata file read by provenance included
    expect(env.emu.stats().downloads - before).toBe(ahead.length);
    expect(locals.every((p) => existsSync(p))).toBe(true);
    await source.releaseRun!(run);
    expect(locals.some((p) => existsSync(p))).toBe(false);
  });

  it('with batching, the runs of a document get theirs fetched ahead, each file once', async () => {
    const source = env.source();
    const project = env.gen.projects.reduce((a, b) => (b.runs.length > a.runs.length ? b : a));
    const runs = [...(await runsOf(source, project.name)).values()];
    expect(runs.length).toBeGreaterThan(2);
    const before = env.emu.stats().downloads;
    const batches = env.emu.stats().byOperation.RunBatch ?? 0;
    await source.provenance!(runs[0]);
    const ahead = [];
    for (const run of runs) ahead.push(...(await collect(source.files(run))).filter(worthPrefetching).slice(0, 16).map((f) => ({ run, f })));
    // the other runs of the document had theirs started without asking
    expect(env.emu.stats().downloads - before).toBeGreaterThan(0);
    for (const { run, f } of ahead) await (await source.fetchFile(run, f)).release();
    // a document brought several runs, and no small file came twice
    expect((env.emu.stats().byOperation.RunBatch ?? 0) - batches).toBeLessThan(runs.length);
    expect(env.emu.stats().downloads - before).toBe(ahead.length);
    for (const run of runs) await source.releaseRun!(run);
  });
});
