import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../../emulators/stack.ts';
import { generateEntity } from '../../emulators/wandb/index.ts';
import { protocolBCapabilities } from '../../src/mapping/capabilities.ts';
import { heldStep } from '../../src/mapping/steps.ts';
import { events, runCli } from '../support/cli.ts';
import { bStep, consoleText, expectedFileSet, expectedHistory, expectedTableCsv, expectedTree, fileBytes } from '../support/expected.ts';

/**
 * Issue 10, "Done when": every generated run shape migrates over Protocol B through the CLI and reads
 * back equal, row by row, with creation_time back-dated; an unchanged re-run sends no ingest request.
 * The emulator processes asynchronously (statuses stay UNAVAILABLE for a while), so the ledger only
 * advances on processed statuses.
 */
let stack: Stack;
let dir: string;
let first: { stdout: string; stderr: string; code: number | null };
let second: { stdout: string; stderr: string; code: number | null };
let lost: { stdout: string; stderr: string; code: number | null };
let ingestAfterFirst = 0;
let storedAfterFirst = 0;
let ingestAfterSecond = 0;

const args = (ledger: string) => ['migrate', '--workspace', 'demo', '--projects', 'all', '--yes', '--json', '--protocol', 'b', '--ledger', ledger];
const report = (stdout: string) =>
  (events(stdout).find((e) => e.type === 'report') as unknown as {
    report: {
      totals: { migrated: number; failed: number; skipped: number; points: number; pointsAlreadyPresent: number; files: number; filesAlreadyPresent: number; bytes: number };
      runs: Array<{ run: string; notWritten: Array<{ reason: string; subject: string; count: number }> }>;
    };
  }).report;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'w2n-e2e-b-'));
  stack = await startStack({
    entity: generateEntity({ seed: 7, preset: 'all-shapes', entity: 'e2e-team' }),
    workDir: join(dir, 'export'),
    neptune: { protocolB: { statusDelayMs: 20, unavailableChecks: 1 } },
  });
  first = await runCli(args(join(dir, 'ledger.sqlite')), stack.env, dir).done;
  if (first.code !== 0) console.error(first.stderr);
  ingestAfterFirst = stack.neptune.b.stats().ingestRequests;
  storedAfterFirst = stack.neptune.b.stats().pointsStored;
  second = await runCli(args(join(dir, 'ledger.sqlite')), stack.env, dir).done;
  ingestAfterSecond = stack.neptune.b.stats().ingestRequests;
  // A lost ledger: everything is read again, and the target's state decides what is missing.
  lost = await runCli(args(join(dir, 'lost.sqlite')), stack.env, dir).done;
}, 240_000);

afterAll(async () => {
  await stack?.close();
  rmSync(dir, { recursive: true, force: true });
});

const project = (wandbProject: string) => `demo/${wandbProject.replace(/_/g, '-')}`;
const b = () => stack.neptune.b.inspect;
const plain = (v: unknown) => (typeof v === 'bigint' ? Number(v) : v);

describe('migrate over Protocol B: the emulator holds what mapping.md (column B) promises', () => {
  it('exits 0, every run migrated; the unchanged re-run skips them all and sends no ingest request', () => {
    expect(first.code).toBe(0);
    const runs = stack.entity.projects.reduce((n, p) => n + p.runs.length, 0);
    expect(report(first.stdout).totals).toMatchObject({ migrated: runs, failed: 0 });
    expect(second.code).toBe(0);
    expect(report(second.stdout).totals).toMatchObject({ migrated: 0, skipped: runs, failed: 0 });
    expect(ingestAfterSecond).toBe(ingestAfterFirst);
  });

  it('a lost ledger: the runs\' state read back over B, so no point and no file is sent again', () => {
    expect(lost.code, lost.stderr.slice(-2000)).toBe(0);
    const firstTotals = report(first.stdout).totals;
    const totals = report(lost.stdout).totals;
    // The report's points and files are what the target holds; all of it was found there, no byte sent.
    expect(totals).toMatchObject({ points: firstTotals.points, pointsAlreadyPresent: firstTotals.points, files: firstTotals.files, filesAlreadyPresent: firstTotals.files, bytes: 0 });
    expect(stack.neptune.b.stats().pointsStored).toBe(storedAfterFirst);
    expect(stack.neptune.b.stats().duplicatePoints).toBe(0);
  });

  it('runs: run_id = family = W&B id, creation_time = W&B created_at, experiment name only when unique', () => {
    for (const p of stack.entity.projects) {
      const names = new Map<string, number>();
      for (const r of p.runs) if (r.displayName) names.set(r.displayName, (names.get(r.displayName) ?? 0) + 1);
      for (const run of p.runs) {
        const got = b().run(project(p.name), run.id);
        expect(got, run.id).toBeDefined();
        expect(got!.family).toBe(run.id);
        const created = Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(run.createdAt) ? run.createdAt : `${run.createdAt}Z`);
        expect(got!.creationTimeMs, run.id).toBe(created);
        expect(got!.experimentId).toBe(run.displayName && names.get(run.displayName) === 1 ? run.displayName : undefined);
      }
    }
  });

  it('fields: name, notes, tags, group, config and summary (ints as int64), provenance, migration bookkeeping', () => {
    for (const p of stack.entity.projects) {
      for (const run of p.runs) {
        const attrs = b().attributes(project(p.name), run.id);
        const value = (path: string) => plain(attrs[path]?.value);
        expect(value('sys/name')).toBe(run.displayName);
        if (run.notes) expect(value('sys/description')).toBe(run.notes);
        expect([...b().stringSet(project(p.name), run.id, 'sys/tags')].sort()).toEqual([...run.tags].sort());
        if (run.group) expect(b().stringSet(project(p.name), run.id, 'sys/group_tags')).toEqual([run.group]);
        expect(value('wandb/path')).toBe(`${stack.entity.name}/${p.name}/${run.id}`);
        expect(attrs['wandb/created_at']?.type).toBe('datetime');
        expect(attrs['wandb/migration/completed_at']?.type).toBe('datetime');
        for (const [path, want] of [...expectedTree('config', run.config), ...expectedTree('summary', run.summary)]) {
          expect(value(path), `${run.id} ${path}`).toEqual(want);
          if (typeof want === 'number' && Number.isInteger(want)) expect(attrs[path]?.type, `${run.id} ${path}`).toBe('int');
        }
      }
    }
  });

  it('series: every history row of every key, step and timestamp; system metrics; console lines', () => {
    for (const p of stack.entity.projects) {
      for (const run of p.runs) {
        const want = expectedHistory(run, 'b');
        for (const [path, points] of want.floats) expect(b().floatSeries(project(p.name), run.id, path), `${run.id} ${path}`).toEqual(points);
        for (const [path, points] of want.strings) expect(b().stringSeries(project(p.name), run.id, path), `${run.id} ${path}`).toEqual(points);
        const cpu = [...run.systemEvents()].filter((e) => typeof e['system.cpu'] === 'number');
        const held = b().floatSeries(project(p.name), run.id, 'monitoring/cpu');
        expect(held.map((x) => x.value), run.id).toEqual(cpu.map((e) => e['system.cpu']));
        // System steps are W&B's runtime in seconds; B holds them to the microstep (mapping/steps.ts).
        expect(held.map((x) => x.step), run.id).toEqual(cpu.map((e) => heldStep(e._runtime as number, protocolBCapabilities())));
        const lines = b().stringSeries(project(p.name), run.id, 'monitoring/stdout');
        expect(lines.map((l) => l.value), run.id).toEqual(consoleText(run));
        expect(lines.map((l) => l.step)).toEqual(consoleText(run).map((_, i) => i));
      }
    }
  });

  it('files: FileRef fields under source_code/files/, checkpoints/, files/, bytes equal in storage', () => {
    for (const p of stack.entity.projects) {
      for (const run of p.runs) {
        const attrs = b().attributes(project(p.name), run.id);
        const want = new Map<string, Buffer>();
        for (const f of run.files) {
          const set = expectedFileSet(f);
          if (set) want.set(`${set}/${f.name}`, fileBytes(f));
        }
        // mapping.md, column B: history media land as files `media/<kind>/<key>/…` (B has no file sets):
        // one JSON per step for a histogram a histogram series cannot hold (> 512 bins), the table JSON and its
        // CSV rendering per step for a table, the W&B file of every other kind.
        const bytesOf = (name: string) => fileBytes(run.files.find((f) => f.name === name)!);
        const history = expectedHistory(run, 'b');
        for (const [key, list] of history.histograms) {
          for (const h of list) want.set(`media/histograms/${key}/${h.step}.json`, Buffer.from(JSON.stringify({ bins: h.bins, values: h.values })));
        }
        for (const [key, list] of history.tables) {
          for (const t of list) {
            const json = bytesOf(t.file);
            want.set(`media/tables/${key}/${t.step}.table.json`, json);
            want.set(`media/tables/${key}/${t.step}.csv`, Buffer.from(expectedTableCsv(json)));
          }
        }
        for (const [set, list] of history.mediaFiles) {
          for (const f of list) {
            const name = f.file.slice(f.file.lastIndexOf('/') + 1);
            want.set(`${set}/${f.step}.${name.slice(name.indexOf('.') + 1)}`, bytesOf(f.file));
          }
        }
        // Media values of the summary land under `summary/media/…`; their contents are checked over A
        // (test/e2e/media-kinds.test.ts). Here: they are there, and the bytes in storage match their size.
        const all = Object.entries(attrs).filter(([, a]) => a.type === 'fileRef');
        for (const [path, a] of all.filter(([path]) => path.startsWith('summary/media/'))) {
          const ref = a.value as { path: string; sizeBytes: number };
          expect(b().object(project(p.name), ref.path)?.data.length, `${run.id} ${path}`).toBe(Number(ref.sizeBytes));
        }
        const got = all.filter(([path]) => !path.startsWith('summary/media/'));
        expect(got.map(([path]) => path).sort(), run.id).toEqual([...want.keys()].sort());
        for (const [path, a] of got) {
          const ref = a.value as { path: string; sizeBytes: number };
          const object = b().object(project(p.name), ref.path);
          if (path.endsWith('.json') && path.startsWith('media/histograms/')) expect(JSON.parse(object!.data.toString('utf8')), `${run.id} ${path}`).toEqual(JSON.parse(want.get(path)!.toString('utf8')));
          else expect(object?.data.equals(want.get(path)!), `${run.id} ${path}`).toBe(true);
          expect(Number(ref.sizeBytes)).toBe(object!.data.length);
        }
      }
    }
  });

  it('media series (issues 10, 11): images as file series (FileRef per step, bytes in storage), histograms as histogram series', () => {
    let images = 0;
    let histograms = 0;
    for (const p of stack.entity.projects) {
      for (const run of p.runs) {
        const want = expectedHistory(run, 'b');
        const bytesOf = (name: string) => fileBytes(run.files.find((f) => f.name === name)!);
        for (const [path, list] of want.images) {
          const refs = b().fileRefSeries(project(p.name), run.id, path);
          // B keeps a step to a millionth, truncated (neptune-api.md §3.4).
          expect(refs.map((r) => [r.step, r.timestampMs]), `${run.id} ${path}`).toEqual(list.map((x) => [bStep(x.step), x.timestampMs]));
          refs.forEach((r, i) => expect(b().object(project(p.name), r.value.path)?.data.equals(bytesOf(list[i].file)), `${run.id} ${path} #${i}`).toBe(true));
          images += refs.length;
        }
        for (const [path, list] of want.histogramSeries) {
          const got = b().histogramSeries(project(p.name), run.id, path);
          expect(got.map((h) => ({ step: h.step, timestampMs: h.timestampMs, bins: h.value.edges, values: h.value.values })), `${run.id} ${path}`).toEqual(list);
          histograms += got.length;
        }
      }
    }
    expect(images).toBeGreaterThan(0);
    expect(histograms).toBeGreaterThan(0);
  });

  it('the report counts NaN points dropped (--nan drop, the default), and the server refused nothing', () => {
    const r = report(first.stdout);
    const refused = r.runs.flatMap((x) => x.notWritten.map((o) => ({ run: x.run, ...o })));
    expect(refused.filter((o) => ['invalid-path', 'rejected-by-server', 'step-not-increasing', 'type-mismatch'].includes(o.reason))).toEqual([]);
    for (const p of stack.entity.projects) {
      for (const run of p.runs) {
        const line = r.runs.find((x) => x.run === `${stack.entity.name}/${p.name}/${run.id}`)!;
        const nonFinite = line.notWritten.filter((o) => o.reason === 'non-finite').reduce((n, o) => n + o.count, 0);
        expect(nonFinite, run.id).toBe(expectedHistory(run).nonFinite);
      }
    }
  });
});
