import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../../emulators/stack.ts';
import { generateEntity } from '../../emulators/wandb/index.ts';
import { events, runCli } from '../support/cli.ts';
import { NeptuneCorruptor } from '../verify/corrupt-neptune.ts';

/**
 * Issue 12 over Protocol B: the all-shapes entity migrated with the product's default protocol
 * (`auto`, which picks B on the emulator), then `verify --protocol auto` reads every run back through
 * the 3.x read API and finds each run verified. Then the emulator's store is damaged behind its back —
 * a point dropped, a value changed, a console line changed, a `FileRef` removed, the object a
 * `FileRef` points at deleted, a stored file's bytes changed at the same size, a media file's bytes
 * changed, a field removed, an int64 field changed by one, the stored bytes of one image of a file
 * series changed, one bin of a histogram-series point changed, a run deleted — and verify must name each
 * (run, field/series/file, first differing step), and nothing else.
 */
let stack: Stack;
let dir: string;
let ledger: string;

interface Diff { scope: string; subject: string; detail: string; firstStep?: number; explainedBy?: unknown }
interface RunV { run: { project: string; runId: string }; status: string; differences: Diff[]; checked: Record<string, number> }
interface Report { runs: RunV[]; totals: Record<string, number>; requests: { target: Record<string, number> }; protocol?: string }
interface Damage { runId: string; what: string; status: 'mismatch' | 'missing'; scope: string; subject: string; firstStep?: number; detail?: RegExp }
const damages: Damage[] = [];
let clean: { code: number | null; report: Report };
let migrateIngest = 0;

const verifyArgs = () => ['verify', '--workspace', 'demo', '--json', '--ledger', ledger, '--protocol', 'auto'];
const reportOf = (stdout: string) => (events(stdout).find((e) => e.type === 'report') as unknown as { report: Report }).report;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'w2n-verify-b-corrupt-'));
  const storage = join(dir, 'neptune.sqlite');
  stack = await startStack({
    entity: generateEntity({ seed: 7, preset: 'all-shapes', entity: 'e2e-team' }),
    workDir: join(dir, 'export'),
    neptune: { storage, protocolB: { statusDelayMs: 5, unavailableChecks: 1 } },
  });
  ledger = join(dir, 'ledger.sqlite');
  const out = await runCli(['migrate', '--workspace', 'demo', '--projects', 'all', '--yes', '--json', '--ledger', ledger, '--protocol', 'auto'], stack.env, dir).done;
  if (out.code !== 0) throw new Error(`migrate failed (${out.code}): ${out.stderr}`);
  migrateIngest = stack.neptune.b.stats().ingestRequests;

  const v = await runCli(verifyArgs(), stack.env, dir).done;
  clean = { code: v.code, report: reportOf(v.stdout) };

  const b = stack.neptune.b.inspect;
  const runs = stack.entity.projects.flatMap((p) => {
    const qn = `demo/${p.name.replace(/_/g, '-')}`;
    return stack.neptune.inspect.runs(qn).map((r) => ({ qn, runId: r.customId!, id: r.id, attrs: b.attributes(qn, r.customId!) }));
  });
  // Pending float chunks move into the points table on the first read: read once before the store is edited.
  b.floatSeries(runs[0].qn, runs[0].runId, 'none');
  const used = new Set<string>();
  const pick = (ok: (r: (typeof runs)[number]) => boolean) => {
    const r = runs.find((x) => !used.has(x.id) && ok(x));
    if (!r) throw new Error('no run fits');
    used.add(r.id);
    return r;
  };
  const db = new NeptuneCorruptor(storage);
  const ref = (r: (typeof runs)[number], path: string) => r.attrs[path].value as { path: string };
  const refUnder = (r: (typeof runs)[number], prefix: string) => Object.keys(r.attrs).find((p) => p.startsWith(prefix) && r.attrs[p].type === 'fileRef');
  const floatWith3 = (r: (typeof runs)[number]) =>
    Object.entries(r.attrs).find(([p, a]) => a.type === 'floatSeries' && !p.startsWith('monitoring/') && db.steps(r.id, p).length >= 3)?.[0];

  // Few runs hold image file series and histogram series: both damages go to one of them (its two differences, named apart).
  const seriesOf = (x: (typeof runs)[number], type: string) => Object.entries(x.attrs).find(([p, a]) => a.type === type && db.steps(x.id, p).length >= 2)?.[0];
  let r = pick((x) => !!seriesOf(x, 'fileRefSeries') && !!seriesOf(x, 'histogramSeries'));
  let path = seriesOf(r, 'fileRefSeries')!;
  const refs = db.fileRefs(r.id, path);
  db.flipObjectByte(r.qn, refs[1].path);
  // Storage may keep one object for equal images: the first step whose image is that object is named.
  let step = refs.find((x) => x.path === refs[1].path)!.step;
  damages.push({ runId: r.runId, what: "an image's stored bytes changed at the same size", status: 'mismatch', scope: 'image', subject: path, firstStep: step, detail: /image at step .* Neptune \d+ bytes \(MD5/ });
  path = seriesOf(r, 'histogramSeries')!;
  step = db.steps(r.id, path)[1];
  db.setHistogramValue(r.id, path, step, 0, 987654);
  damages.push({ runId: r.runId, what: 'a histogram bin changed', status: 'mismatch', scope: 'media', subject: path, firstStep: step, detail: /histogram at step .*values \[987654/ });

  r = pick((x) => !!refUnder(x, 'media/'));
  path = refUnder(r, 'media/')!;
  db.flipObjectByte(r.qn, ref(r, path).path);
  damages.push({ runId: r.runId, what: 'a media file changed at the same size', status: 'mismatch', scope: 'media', subject: path, detail: /same size, other bytes/ });

  r = pick((x) => !!floatWith3(x));
  path = floatWith3(r)!;
  step = db.steps(r.id, path)[1];
  db.dropPoint(r.id, path, step);
  damages.push({ runId: r.runId, what: 'a point dropped', status: 'mismatch', scope: 'series', subject: path, firstStep: step });

  r = pick((x) => !!floatWith3(x));
  path = floatWith3(r)!;
  step = db.steps(r.id, path)[2];
  db.setFloat(r.id, path, step, 12345.678);
  damages.push({ runId: r.runId, what: 'a value changed', status: 'mismatch', scope: 'series', subject: path, firstStep: step });

  r = pick((x) => x.attrs['monitoring/stdout']?.type === 'stringSeries' && db.steps(x.id, 'monitoring/stdout').length >= 2);
  step = db.steps(r.id, 'monitoring/stdout')[1];
  db.setString(r.id, 'monitoring/stdout', step, 'not what the run printed');
  damages.push({ runId: r.runId, what: 'a console line changed', status: 'mismatch', scope: 'console', subject: 'monitoring/stdout', firstStep: step });

  r = pick((x) => !!refUnder(x, 'files/'));
  path = refUnder(r, 'files/')!;
  db.removeField(r.id, path);
  damages.push({ runId: r.runId, what: 'a FileRef removed', status: 'mismatch', scope: 'file', subject: path, detail: /missing in Neptune/ });

  r = pick((x) => !!refUnder(x, 'source_code/files/'));
  path = refUnder(r, 'source_code/files/')!;
  db.deleteObject(r.qn, ref(r, path).path);
  damages.push({ runId: r.runId, what: 'the stored object of a FileRef deleted', status: 'mismatch', scope: 'file', subject: path, detail: /storage does not hold/ });

  r = pick((x) => !!refUnder(x, 'files/'));
  path = refUnder(r, 'files/')!;
  db.flipObjectByte(r.qn, ref(r, path).path);
  damages.push({ runId: r.runId, what: 'a stored file changed at the same size', status: 'mismatch', scope: 'file', subject: path, detail: /same size, other bytes/ });

  r = pick((x) => Object.keys(x.attrs).some((p) => p.startsWith('config/')));
  path = Object.keys(r.attrs).find((p) => p.startsWith('config/'))!;
  db.removeField(r.id, path);
  damages.push({ runId: r.runId, what: 'a field removed', status: 'mismatch', scope: 'field', subject: path });

  r = pick((x) => x.attrs['wandb/history_line_count']?.type === 'int');
  db.setField(r.id, 'wandb/history_line_count', Number(r.attrs['wandb/history_line_count'].value) + 1);
  damages.push({ runId: r.runId, what: 'an int64 field off by one', status: 'mismatch', scope: 'field', subject: 'wandb/history_line_count' });

  r = pick(() => true);
  db.deleteRun(r.id);
  damages.push({ runId: r.runId, what: 'the run deleted', status: 'missing', scope: 'run', subject: r.runId });
  db.close();
}, 300_000);

afterAll(async () => {
  await stack?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('verify over Protocol B', () => {
  it('after a clean migration (auto → B): every run verified or verified-with-omissions, exit 0, through the 3.x read API', () => {
    expect(migrateIngest).toBeGreaterThan(0); // the migration did go over B
    expect(clean.code).toBe(0);
    expect(clean.report.protocol).toBe('b'); // what the server answered to --protocol auto
    const runs = stack.entity.projects.reduce((n, p) => n + p.runs.length, 0);
    expect(clean.report.totals).toMatchObject({ runs, mismatch: 0, missing: 0 });
    expect(clean.report.runs.filter((r) => !r.status.startsWith('verified'))).toEqual([]);
    // Every difference left is one the migration's report accounts for.
    expect(clean.report.runs.flatMap((r) => r.differences.filter((d) => !d.explainedBy))).toEqual([]);
    // Media were compared: images of file series by bytes per step, histogram series bin by bin, media files by size and MD5.
    const checked = clean.report.runs.map((r) => r.checked);
    expect(checked.reduce((n, c) => n + (c.mediaFiles ?? 0), 0)).toBeGreaterThan(0);
    expect(checked.reduce((n, c) => n + (c.images ?? 0), 0)).toBeGreaterThan(0);
    expect(checked.reduce((n, c) => n + (c.histograms ?? 0), 0)).toBeGreaterThan(0);
    expect(checked.reduce((n, c) => n + c.files, 0)).toBeGreaterThan(0);
    console.log(`[cost] verify over B: ${JSON.stringify(clean.report.requests.target)} for ${runs} runs`);
  });

  describe('names every damage done to Neptune behind its back', () => {
    let report: Report;
    let code: number | null;

    beforeAll(async () => {
      const out = await runCli(verifyArgs(), stack.env, dir).done;
      code = out.code;
      report = reportOf(out.stdout);
    }, 240_000);

    it('exits 5 (mismatch/missing)', () => {
      expect(code).toBe(5);
    });

    for (const i of [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]) {
      it(`damage ${i + 1}: named with run, subject and first differing step`, () => {
        const d = damages[i];
        const run = report.runs.find((x) => x.run.runId === d.runId)!;
        expect(run, d.what).toBeDefined();
        expect(run.status, d.what).toBe(d.status);
        const named = run.differences.filter((x) => !x.explainedBy);
        // The damages done to this run, and nothing else: no collateral differences.
        const key = (x: { scope: string; subject: string; firstStep?: number }) => ({ scope: x.scope, subject: x.subject, firstStep: x.firstStep });
        expect(named.map(key), d.what).toEqual(expect.arrayContaining(damages.filter((x) => x.runId === d.runId).map(key)));
        expect(named.length, d.what).toBe(damages.filter((x) => x.runId === d.runId).length);
        const mine = named.find((x) => x.scope === d.scope && x.subject === d.subject);
        if (d.detail) expect(mine?.detail, d.what).toMatch(d.detail);
      });
    }

    it('every undamaged run is still verified or verified-with-omissions', () => {
      const damaged = new Set(damages.map((d) => d.runId));
      const others = report.runs.filter((r) => !damaged.has(r.run.runId));
      expect(others.length).toBe(report.runs.length - damaged.size);
      expect(others.filter((r) => !r.status.startsWith('verified'))).toEqual([]);
    });
  });
});
