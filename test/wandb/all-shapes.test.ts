import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bytesOf, collect, consoleOf, expectedRow, expectedSample, readFile, runsOf, startEnv, type Env } from './helpers.ts';

let env: Env;
beforeAll(async () => {
  env = await startEnv();
});
afterAll(async () => {
  await env.close();
});

describe('every all-shapes run read through the W&B reader equals the ground truth', () => {
  it('lists the projects with web URLs', async () => {
    const s = env.source();
    const projects = await collect(s.listProjects());
    expect(projects.map((p) => p.name).sort()).toEqual(env.gen.projects.map((p) => p.name).sort());
    for (const p of projects) expect(p.url).toBe(`${env.emu.url}/${env.gen.name}/${encodeURIComponent(p.name)}`);
  });

  it('metadata, config, summary, history, system metrics, console and files', async () => {
    const s = env.source();
    let checkedRuns = 0;
    for (const project of env.gen.projects) {
      const infos = await runsOf(s, project.name);
      expect([...infos.keys()].sort()).toEqual(project.runs.map((r) => r.id).sort());
      for (const run of project.runs) {
        const info = infos.get(run.id)!;
        const what = `${project.name}/${run.id} (${run.displayName})`;
        expect(info.displayName, what).toBe(run.displayName);
        expect(info.state, what).toBe(run.state);
        expect(info.tags, what).toEqual(run.tags);
        expect(info.group, what).toBe(run.group);
        expect(info.jobType, what).toBe(run.jobType);
        expect(info.sweep, what).toBe(run.sweep);
        expect(info.notes, what).toBe(run.notes);
        expect(info.commit, what).toBe(run.commit);
        expect(info.user, what).toBe(run.user);
        expect(Date.parse(info.createdAt!), what).toBe(Date.parse(run.createdAt.endsWith('Z') ? run.createdAt : `${run.createdAt}Z`));
        expect(info.lastStep, what).toBe(run.lastStep);
        expect(info.historyLineCount, what).toBe(run.historyRowCount);
        expect(info.config, what).toEqual(run.config);
        // An unreadable config is kept as its raw text, for wandb/configRaw.
        expect(info.extra?.configRaw, what).toBe(run.configJson);
        expect(info.summary, what).toEqual(run.summary);

        const rows = await collect(s.history(info, {}));
        expect(rows.length, what).toBe(run.historyRowCount);
        expect(rows, what).toEqual([...run.history()].map(expectedRow));

        const sm = await s.systemMetrics(info);
        const served = [...run.systemEvents()];
        // Sampled exactly when W&B counts more samples than it can give (no events file).
        expect(sm.sampled, what).toBe(served.length < run.systemEventCount);
        if (sm.sampled) expect(sm.totalAvailable, what).toBe(run.systemEventCount);
        expect(await collect(sm.samples), what).toEqual(served.map(expectedSample));

        const lines = await collect(s.console(info, {}));
        expect(lines.map((l) => l.text), what).toEqual(consoleOf(run));
        expect(lines.map((l) => l.index), what).toEqual(lines.map((_, i) => i));

        const files = await collect(s.files(info));
        expect(files.map((f) => f.name).sort(), what).toEqual(run.files.map((f) => f.name).sort());
        for (const f of files) {
          const truth = run.files.find((g) => g.name === f.name)!;
          expect(f.sizeBytes).toBe(truth.sizeBytes);
          expect(f.md5).toBe(truth.md5);
          const local = await s.fetchFile(info, f);
          expect((await readFile(local.path)).equals(bytesOf(truth.content())), `${what} ${f.name}`).toBe(true);
          await local.release();
        }
        checkedRuns++;
      }
    }
    expect(checkedRuns).toBe(env.gen.projects.reduce((n, p) => n + p.runs.length, 0));
    expect(env.emu.stats().downloadsWithAuth).toBe(0);
  });

  it('fromStep and fromLine resume where asked', async () => {
    const s = env.source();
    const project = env.gen.projects.find((p) => p.runs.some((r) => r.displayName === 'running-live-tail'))!;
    const run = project.runs.find((r) => r.displayName === 'running-live-tail')!;
    const info = (await runsOf(s, project.name)).get(run.id)!;
    const from = run.exportedBelowStep - 5;
    const rows = await collect(s.history(info, { fromStep: from }));
    expect(rows).toEqual([...run.history()].filter((r) => (r._step as number) >= from).map(expectedRow));
    const lines = await collect(s.console(info, { fromLine: 7 }));
    expect(lines[0]).toEqual({ index: 7, text: consoleOf(run)[7] });
    expect(lines.length).toBe(consoleOf(run).length - 7);
  });

  it('the parquet path and the paged-scan path give identical rows', async () => {
    // A small page makes every run but the tiniest go through the export (one page is cheaper than it).
    const viaParquet = env.source({ historyPageSize: 10 });
    const viaScan = env.source({ preferParquet: false, historyPageSize: 97 });
    const exportsBefore = env.emu.stats().byOperation.RunParquetHistory ?? 0;
    for (const project of env.gen.projects) {
      const infos = await runsOf(viaParquet, project.name);
      for (const info of infos.values()) {
        const a = await collect(viaParquet.history(info, {}));
        const b = await collect(viaScan.history(info, {}));
        expect(b, info.displayName).toEqual(a);
      }
    }
    expect(env.emu.stats().byOperation.HistoryPage).toBeGreaterThan(10);
    expect((env.emu.stats().byOperation.RunParquetHistory ?? 0) - exportsBefore).toBeGreaterThan(5);
  });
});
