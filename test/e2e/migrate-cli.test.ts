import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../../emulators/stack.ts';
import { generateEntity } from '../../emulators/wandb/index.ts';
import { events, runCli } from '../support/cli.ts';
import { consoleText, expectedFileSet, expectedHistory, expectedTree, fileBytes } from '../support/expected.ts';
import { neptuneRunId } from '../support/neptune-snapshot.ts';

/**
 * Issue 4, "Done when" 1: a generated entity with every run shape, migrated through the CLI, then
 * the Neptune emulator's state compared with the generator's ground truth, row by row of mapping.md.
 */
let stack: Stack;
let dir: string;
let stdout = '';
let exitCode: number | null = null;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'w2n-e2e-'));
  stack = await startStack({ entity: generateEntity({ seed: 7, preset: 'all-shapes', entity: 'e2e-team' }), workDir: join(dir, 'export') });
  const cli = runCli(['migrate', '--workspace', 'demo', '--projects', 'all', '--yes', '--json', '--protocol', 'a', '--ledger', join(dir, 'ledger.sqlite')], stack.env, dir);
  const out = await cli.done;
  stdout = out.stdout;
  exitCode = out.code;
  if (out.code !== 0) console.error(out.stderr);
}, 180_000);

afterAll(async () => {
  await stack?.close();
  rmSync(dir, { recursive: true, force: true });
});

const neptuneProject = (wandbProject: string) => `demo/${wandbProject.replace(/_/g, '-')}`;

describe('migrate through the CLI: the Neptune emulator holds what mapping.md promises', () => {
  it('exits 0 and reports every run migrated', () => {
    expect(exitCode).toBe(0);
    const report = events(stdout).find((e) => e.type === 'report') as unknown as { report: { totals: { migrated: number; failed: number } } };
    const runs = stack.entity.projects.reduce((n, p) => n + p.runs.length, 0);
    expect(report.report.totals).toMatchObject({ migrated: runs, failed: 0 });
  });

  it('Projects rows: one Neptune project per W&B project (_ → -), private, described, with wandb_url', () => {
    const projects = stack.neptune.inspect.projects();
    for (const p of stack.entity.projects) {
      const np = projects.find((x) => `${x.workspace}/${x.name}` === neptuneProject(p.name));
      expect(np, p.name).toBeDefined();
      expect(np!.visibility).toBe('priv');
      expect(np!.description).toMatch(/^Exported from /);
      // The project-level field lives on the project's own container.
      const url = stack.neptune.inspect.attributes(np!.id).wandb_url?.value;
      expect(url).toBe(`${stack.wandb.url}/${stack.entity.name}/${p.name}`);
      expect(np!.description).toBe(`Exported from ${url}`);
    }
  });

  it('Runs rows: custom run id, name, notes, tags, group, config, job type, path, created_at, summary, provenance', () => {
    for (const p of stack.entity.projects) {
      for (const run of p.runs) {
        const id = neptuneRunId(stack.neptune, neptuneProject(p.name), run.id);
        expect(id, `${p.name}/${run.id}`).toBeDefined();
        const attrs = stack.neptune.inspect.attributes(id!);
        const value = (path: string) => attrs[path]?.value;
        expect(value('sys/custom_run_id')).toBe(run.id);
        expect(value('sys/name')).toBe(run.displayName);
        if (run.notes) expect(value('sys/description')).toBe(run.notes);
        expect([...stack.neptune.inspect.stringSet(id!, 'sys/tags')].sort()).toEqual([...run.tags].sort());
        if (run.group) expect(stack.neptune.inspect.stringSet(id!, 'sys/group_tags')).toEqual([run.group]);
        if (run.jobType) expect(value('wandb/job_type')).toBe(run.jobType);
        expect(value('wandb/path')).toBe(`${stack.entity.name}/${p.name}/${run.id}`);
        expect(value('wandb/state')).toBe(run.state);
        expect(attrs['wandb/created_at']?.type).toBe('datetime');
        // Provenance W&B keeps only in wandb-metadata.json.
        if (run.host) expect(value('wandb/host')).toBe(run.host);
        expect(value('wandb/python')).toBe('3.11.4');
        expect(attrs['wandb/migration/completed_at']?.type).toBe('datetime');
        for (const [path, want] of [...expectedTree('config', run.config), ...expectedTree('summary', run.summary)]) {
          expect(value(path), `${run.id} ${path}`).toEqual(want);
        }
      }
    }
  });

  it('Series rows: every history row of every key, with its step and timestamp; NaN/Infinity dropped', () => {
    for (const p of stack.entity.projects) {
      for (const run of p.runs) {
        const id = neptuneRunId(stack.neptune, neptuneProject(p.name), run.id)!;
        const want = expectedHistory(run);
        for (const [path, points] of want.floats) expect(stack.neptune.inspect.floatSeries(id, path), `${run.id} ${path}`).toEqual(points);
        for (const [path, points] of want.strings) expect(stack.neptune.inspect.stringSeries(id, path), `${run.id} ${path}`).toEqual(points);
        const seriesPaths = Object.entries(stack.neptune.inspect.attributes(id))
          .filter(([path, a]) => (a.type === 'floatSeries' || a.type === 'stringSeries') && !path.startsWith('monitoring/'))
          .map(([path]) => path);
        expect(seriesPaths.sort()).toEqual([...want.floats.keys(), ...want.strings.keys()].sort());
      }
    }
  });

  it('Series rows: system metrics under monitoring/, complete; console output as monitoring/stdout, long lines split', () => {
    for (const p of stack.entity.projects) {
      for (const run of p.runs) {
        const id = neptuneRunId(stack.neptune, neptuneProject(p.name), run.id)!;
        const events = [...run.systemEvents()];
        const cpu = events.filter((e) => typeof e['system.cpu'] === 'number');
        expect(stack.neptune.inspect.floatSeries(id, 'monitoring/cpu').map((x) => x.value), run.id).toEqual(cpu.map((e) => e['system.cpu']));
        expect(stack.neptune.inspect.floatSeries(id, 'monitoring/gpu.0.temp')).toHaveLength(events.length);
        const lines = consoleText(run);
        const stdoutSeries = stack.neptune.inspect.stringSeries(id, 'monitoring/stdout');
        // Pieces of a split line share the integer part of their step.
        const joined = new Map<number, string>();
        for (const e of stdoutSeries) joined.set(Math.floor(e.step), (joined.get(Math.floor(e.step)) ?? '') + e.value);
        expect([...joined.values()], run.id).toEqual(lines);
        expect(stdoutSeries.every((e) => [...e.value].length <= 1000)).toBe(true);
      }
    }
  });

  it('Files rows: code and requirements → source_code/files, checkpoints → checkpoints, the rest → files; byte for byte', () => {
    for (const p of stack.entity.projects) {
      for (const run of p.runs) {
        const id = neptuneRunId(stack.neptune, neptuneProject(p.name), run.id)!;
        const want = new Map<string, Map<string, Buffer>>();
        for (const f of run.files) {
          const set = expectedFileSet(f);
          if (!set) continue;
          if (!want.has(set)) want.set(set, new Map());
          want.get(set)!.set(f.name, fileBytes(f));
        }
        for (const set of ['source_code/files', 'checkpoints', 'files']) {
          const got = stack.neptune.inspect.fileSet(id, set);
          const expected = want.get(set) ?? new Map();
          expect(Object.keys(got).sort(), `${run.id} ${set}`).toEqual([...expected.keys()].sort());
          for (const [name, bytes] of expected) expect(got[name]?.equals(bytes), `${run.id} ${set}/${name}`).toBe(true);
        }
      }
    }
  });

  it('secrets: neither the W&B key nor the Neptune token or its key appear in the log file, the ledger or the output', () => {
    const neptuneKey = (JSON.parse(Buffer.from(stack.env.NEPTUNE_API_TOKEN, 'base64').toString()) as { api_key: string }).api_key;
    const written = readdirSync(dir)
      .filter((f) => f.endsWith('.log') || f.startsWith('ledger.sqlite'))
      .map((f) => readFileSync(join(dir, f)).toString('latin1'));
    expect(written.length).toBeGreaterThanOrEqual(2);
    for (const text of [...written, stdout]) {
      for (const secret of [stack.env.WANDB_API_KEY, stack.env.NEPTUNE_API_TOKEN, neptuneKey]) expect(text.includes(secret)).toBe(false);
    }
    // The key went to the W&B API only: never to a storage (signed) URL.
    expect(stack.wandb.stats().downloadsWithAuth).toBe(0);
  });

  it('The report: counts NaN points dropped and media left out, by reason, for the runs that hold them', () => {
    const report = (events(stdout).find((e) => e.type === 'report') as unknown as {
      report: { runs: Array<{ run: string; notWritten: Array<{ reason: string; subject: string; count: number }> }> };
    }).report;
    for (const p of stack.entity.projects) {
      for (const run of p.runs) {
        const want = expectedHistory(run);
        const r = report.runs.find((x) => x.run === `${stack.entity.name}/${p.name}/${run.id}`)!;
        const nonFinite = r.notWritten.filter((o) => o.reason === 'non-finite').reduce((n, o) => n + o.count, 0);
        expect(nonFinite, run.id).toBe(want.nonFinite);
        for (const [kind, count] of want.media) {
          expect(r.notWritten.find((o) => o.reason === 'excluded-by-default' && o.subject === kind)?.count, `${run.id} ${kind}`).toBe(count);
        }
      }
    }
  });
});
