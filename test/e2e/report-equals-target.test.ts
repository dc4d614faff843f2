/**
 * The report equals what the target holds, under faults. The all-shapes W&B entity is migrated through
 * the CLI twice per protocol: into one set of Neptune projects with no fault (the reference), into
 * another with a seeded mix of faults on the Neptune side — writes applied and their answers lost,
 * 503s, connection resets, 429s with Retry-After (the rates seeded; the order of requests, and so which
 * one meets a fault, varies with the concurrency), and over B one-shot 429s on storage — while the
 * server refuses fields in both (A: strings over a lowered `stringMax`; B: a plain `sys/name`, sent for
 * a W&B name two runs share, is read-only, FIELD_PATH_NON_WRITABLE) and over B NaN/±Inf points
 * (`--nan send` to a server that answers code 32). Then, per run:
 * - every count of the JSON report is read back from the emulator (points in float and string series,
 *   fields, files and their bytes, images, histograms), not from the product;
 * - the faulted run's report (counts and every line, by reason and subject) equals the reference's;
 * - what the faulted run holds equals the reference value by value: every series point (step,
 *   timestamp, value), every field, every file's bytes; and every float series equals what the W&B
 *   generator logged (test/support/expected.ts), NaN/±Inf left out as the report says.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../../emulators/stack.ts';
import { generateEntity, type GenRun } from '../../emulators/wandb/index.ts';
import type { MigrationReport, RunReport } from '../../src/pipeline/report.ts';
import { events, runCli } from '../support/cli.ts';
import { bStep, expectedHistory } from '../support/expected.ts';
import { retriesFor, retryLines } from '../support/fault-budget.ts';

const WS = 'demo';
/** Server-set attributes and times that differ between two equal migrations. */
const VOLATILE = /^(sys\/(id|creation_time|modification_time|ping_time|running_time|monitoring_time|state|size|owner)|wandb\/migration\/completed_at)$/;
const SERIES = new Set(['floatSeries', 'stringSeries']);
const FILES = new Set(['fileSet', 'fileRef']);
/** The fields a run's mapping writes under `sys/` (mapping.md, Runs); the rest of `sys/` is the server's. */
const SYS_WRITTEN = new Set(['sys/name', 'sys/description', 'sys/tags', 'sys/group_tags']);
const DROP_RATE = 0.1;
const FIVE_XX = 0.04;
const RESETS = 0.03;

let stack: Stack;
let dir: string;
const md5 = (b: Buffer) => createHash('md5').update(b).digest('base64');
const neptuneName = (wandbProject: string) => wandbProject.replace(/_/g, '-');

/** One run as the emulator holds it: every attribute by path, series as their points, files as MD5s and sizes. */
interface Held {
  attrs: Record<string, { type: string; value?: unknown }>;
  values: Record<string, unknown>;
  fileSizes: number[];
}

function heldA(project: string, run: GenRun): Held | undefined {
  const i = stack.neptune.inspect;
  // A W&B id longer than Neptune's 36 characters is a prefix of it and a hash (mapping.md, Runs).
  const r = i.runs(project).find((x) => x.customId === run.id || (run.id.length > 36 && !!x.customId?.startsWith(run.id.slice(0, 16))));
  if (!r) return undefined;
  const attrs = i.attributes(r.id);
  const values: Record<string, unknown> = {};
  const fileSizes: number[] = [];
  for (const [path, a] of Object.entries(attrs)) {
    if (VOLATILE.test(path)) continue;
    // Image series keep each image as a JSON string entry (emulators/neptune: logImages).
    if (a.type === 'floatSeries') values[path] = i.floatSeries(r.id, path);
    else if (a.type === 'stringSeries' || a.type === 'imageSeries') values[path] = i.stringSeries(r.id, path);
    else if (a.type === 'stringSet') values[path] = [...i.stringSet(r.id, path)].sort();
    else if (a.type === 'fileSet') {
      const set = i.fileSet(r.id, path);
      values[path] = Object.fromEntries(Object.entries(set).sort(([x], [y]) => (x < y ? -1 : 1)).map(([k, v]) => [k, md5(v)]));
      for (const b of Object.values(set)) fileSizes.push(b.length);
    } else values[path] = a.value;
  }
  return { attrs, values, fileSizes };
}

function heldB(project: string, run: GenRun): Held | undefined {
  const b = stack.neptune.b.inspect;
  if (!b.run(project, run.id)) return undefined;
  const attrs = b.attributes(project, run.id);
  const values: Record<string, unknown> = {};
  const fileSizes: number[] = [];
  for (const [path, a] of Object.entries(attrs)) {
    if (VOLATILE.test(path)) continue;
    if (a.type === 'floatSeries') values[path] = b.floatSeries(project, run.id, path);
    else if (a.type === 'stringSeries') values[path] = b.stringSeries(project, run.id, path);
    else if (a.type === 'histogramSeries') values[path] = b.histogramSeries(project, run.id, path);
    else if (a.type === 'fileRefSeries') values[path] = b.fileRefSeries(project, run.id, path).map((p) => ({ ...p, value: md5(b.object(project, p.value.path)!.data) }));
    else if (a.type === 'stringSet') values[path] = [...b.stringSet(project, run.id, path)].sort();
    else if (a.type === 'fileRef') {
      const data = b.object(project, (a.value as { path: string }).path)!.data;
      values[path] = md5(data);
      fileSizes.push(data.length);
    } else values[path] = typeof a.value === 'bigint' ? `${a.value}n` : a.value;
  }
  return { attrs, values, fileSizes };
}

/** The report's counts as the emulator's contents give them, computed without the product. */
function countsHeld(h: Held, run: GenRun): Record<string, number> {
  const count = (types: ReadonlySet<string>) =>
    Object.entries(h.values).reduce((n, [path, v]) => n + (types.has(h.attrs[path].type) ? (v as unknown[]).length : 0), 0);
  // Fields: every plain attribute the mapping writes; not the server's `sys/` ones (a `sys/` field is the
  // run's where it holds the W&B value) nor the migration bookkeeping.
  const sysHeld = (path: string, v: unknown) =>
    (path === 'sys/name' && v === run.displayName) || (path === 'sys/description' && !!run.notes && v === run.notes) ||
    (path === 'sys/tags' && (v as string[]).length > 0) || (path === 'sys/group_tags' && (v as string[]).length > 0);
  let fields = 0;
  for (const [path, v] of Object.entries(h.values)) {
    const t = h.attrs[path].type;
    if (SERIES.has(t) || FILES.has(t) || ['imageSeries', 'fileRefSeries', 'histogramSeries'].includes(t) || path.startsWith('wandb/migration/')) continue;
    if (path.startsWith('sys/') ? SYS_WRITTEN.has(path) && sysHeld(path, v) : true) fields++;
  }
  const out: Record<string, number> = {
    points: count(SERIES), fields, files: h.fileSizes.length, bytes: h.fileSizes.reduce((n, s) => n + s, 0),
    images: count(new Set(['imageSeries', 'fileRefSeries'])), histograms: count(new Set(['histogramSeries'])),
  };
  return out;
}

const reportOf = (stdout: string): MigrationReport | undefined => (events(stdout).find((e) => e.type === 'report') as unknown as { report: MigrationReport } | undefined)?.report;
const lines = (r: RunReport) => [...r.notWritten].map((o) => ({ ...o, detail: o.detail ?? '' })).sort((x, y) => `${x.reason} ${x.subject}`.localeCompare(`${y.reason} ${y.subject}`));

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'w2n-report-target-'));
  const entity = generateEntity({ seed: 19, preset: 'all-shapes', entity: 'audit' });
  // Two runs of a project share a W&B name: over B the second one's sys/name is a plain field.
  const shared = entity.projects.find((p) => p.runs.length >= 2)!;
  shared.runs[1].displayName = shared.runs[0].displayName;
  stack = await startStack({
    entity, workDir: join(dir, 'export'),
    neptune: { limits: { minChunkSize: 1024 * 1024, stringMax: 48 }, protocolB: { statusDelayMs: 1, nanInf: 'refuse' } },
  });
}, 120_000);

afterAll(async () => {
  await stack?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe.each(['a', 'b'] as const)('the report equals what the target holds, under seeded faults, over Protocol %s', (protocol) => {
  const migrate = async (prefix: string, retries?: number) => {
    const map = stack.entity.projects.map((p) => `${p.name}=${prefix}-${neptuneName(p.name)}`).join(',');
    const args = ['migrate', '--workspace', WS, '--projects', 'all', '--project-map', map, '--protocol', protocol, '--yes', '--json',
      '--ledger', join(dir, `${prefix}.sqlite`), ...(protocol === 'b' ? ['--nan', 'send'] : []), ...(retries === undefined ? [] : ['--retries', String(retries)])];
    const out = await runCli(args, stack.env, dir).done;
    const report = reportOf(out.stdout);
    expect(report, out.stderr.slice(-3000)).toBeDefined();
    return { code: out.code, report: report!, stderr: out.stderr };
  };
  const held = (prefix: string, project: string, run: GenRun) => (protocol === 'a' ? heldA : heldB)(`${WS}/${prefix}-${neptuneName(project)}`, run);

  it('every count of the report is what the emulator holds, and a faulted migration holds and reports what a clean one does', async () => {
    const reference = await migrate(`ref-${protocol}`);
    expect(reference.code, reference.stderr.slice(-3000)).toBe(0);

    // ~25 requests per run over A, ~60 over B: the retries keep a chance failure below one in a million.
    const retries = retriesFor({ rate: DROP_RATE + FIVE_XX + RESETS, requests: 2000 });
    stack.neptune.setFaults({ seed: protocol === 'a' ? 11 : 12, dropAfterApplyRate: DROP_RATE, status5xxRate: FIVE_XX, resetRate: RESETS,
      // One-shots on top of the rates, so that each kind surely happens whatever order the requests come in.
      force429: { count: 6, retryAfterSeconds: 1 }, force5xx: { count: 3 }, forceDropAfterApply: { count: 3 } });
    if (protocol === 'b') stack.neptune.b.setFaults({ force429: { count: 4, retryAfterSeconds: 1 }, only: 'upload' });
    let faulted;
    try {
      faulted = await migrate(`flt-${protocol}`, retries);
    } finally {
      stack.neptune.setFaults(undefined);
      stack.neptune.b.setFaults(undefined);
    }
    const stats = stack.neptune.stats();
    expect(stats.droppedResponses).toBeGreaterThanOrEqual(3);
    expect(stats.status5xx).toBeGreaterThanOrEqual(3);
    expect(stats.status429).toBeGreaterThanOrEqual(6);
    expect(faulted.code, `${faulted.stderr.slice(-3000)}\n${retryLines(dir)}`).toBe(0);

    const ref = new Map(reference.report.runs.map((r) => [r.run, r]));
    const got = new Map(faulted.report.runs.map((r) => [r.run, r]));
    let refusedFields = 0;
    let refusedPoints = 0;
    for (const p of stack.entity.projects) {
      for (const run of p.runs) {
        const key = `${stack.entity.name}/${p.name}/${run.id}`;
        const r0 = ref.get(key)!;
        const r1 = got.get(key)!;
        expect(r1?.status, key).toBe('migrated');
        const h0 = held(`ref-${protocol}`, p.name, run)!;
        const h1 = held(`flt-${protocol}`, p.name, run)!;
        expect(h1, key).toBeDefined();

        // The counts, from the emulator.
        for (const [h, r] of [[h0, r0], [h1, r1]] as const) {
          const c = countsHeld(h, run);
          const w = r.written;
          expect({ points: w.points ?? 0, fields: w.fields ?? 0, files: w.files ?? 0, bytes: w.bytes ?? 0, images: w.images ?? 0, histograms: w.histograms ?? 0 }, key).toEqual(c);
          expect((w.historyPoints ?? 0) + (w.systemPoints ?? 0) + (w.consolePoints ?? 0), key).toBe(w.points ?? 0);
        }
        // The faulted migration reports and holds what the clean one does.
        expect(r1.written, key).toEqual(r0.written);
        expect(lines(r1), key).toEqual(lines(r0));
        expect(Object.keys(h1.values).sort(), key).toEqual(Object.keys(h0.values).sort());
        for (const path of Object.keys(h0.values)) expect(h1.values[path], `${key} ${path}`).toEqual(h0.values[path]);

        // Every float series is what W&B logged, but for the non-finite points the report counts.
        const want = expectedHistory(run, protocol);
        const nonFinite = r1.notWritten.filter((o) => o.reason === 'non-finite').reduce((n, o) => n + o.count, 0);
        expect(nonFinite, key).toBe(want.nonFinite);
        for (const [path, points] of want.floats) {
          const stored = h1.values[path] as Array<{ step: number; timestampMs: number; value: number }> | undefined;
          const expected = protocol === 'b' ? points.map((x) => ({ ...x, step: bStep(x.step) })) : points;
          expect(stored?.map(({ step, timestampMs, value }) => ({ step, timestampMs, value })), `${key} ${path}`).toEqual(expected);
        }
        // A field the server refused is not there (nor counted: the fields count above).
        for (const o of r1.notWritten) if (o.reason === 'rejected-by-server' && !o.subject.startsWith('sys/') && h1.attrs[o.subject]?.type !== undefined) expect(SERIES.has(h1.attrs[o.subject].type), `${key} ${o.subject} refused, yet held`).toBe(true);
        refusedFields += r1.notWritten.filter((o) => o.reason === 'rejected-by-server' || (protocol === 'b' && o.subject === 'sys/name' && o.reason !== 'renamed')).length;
        refusedPoints += nonFinite;
      }
    }
    // The refusals the test set up did happen (else it would prove nothing of their counts).
    expect(refusedFields).toBeGreaterThan(0);
    if (protocol === 'b') expect(refusedPoints).toBeGreaterThan(0);
  }, 600_000);
});
