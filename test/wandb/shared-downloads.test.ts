import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collect, consoleOf, readFile, runsOf, startEnv, type Env } from './helpers.ts';

/** Work done once: a console file serves both the console lines and the file upload of a run. */
let env: Env;
beforeAll(async () => {
  env = await startEnv();
});
afterAll(async () => {
  await env?.close();
});

describe('W&B reader: console files are downloaded once per run', () => {
  it('console() and fetchFile() share one download until the run is released', async () => {
    // Runs' queries one by one: no other run's files fetched ahead into the counts (run-downloads.ts).
    const source = env.source({ batchRuns: 0 });
    const project = env.gen.projects.find((p) => p.runs.some((r) => r.files.some((f) => f.name === 'output.log' && f.sizeBytes > 0)))!;
    const gen = project.runs.find((r) => r.files.some((f) => f.name === 'output.log' && f.sizeBytes > 0))!;
    const run = (await runsOf(source, project.name)).get(gen.id)!;
    const listed = (await collect(source.files(run))).find((f) => f.name === 'output.log')!;

    const before = env.emu.stats().downloads;
    const lines = await collect(source.console(run, {}));
    expect(lines.map((l) => l.text)).toEqual(consoleOf(gen));
    const local = await source.fetchFile(run, listed);
    expect((await readFile(local.path)).length).toBe(listed.sizeBytes);
    await local.release();
    expect(env.emu.stats().downloads - before).toBe(1);

    await source.releaseRun!(run);
    expect(existsSync(local.path)).toBe(false);
  });
});
