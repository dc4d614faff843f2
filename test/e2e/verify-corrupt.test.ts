import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../../emulators/stack.ts';
import { generateEntity } from '../../emulators/wandb/index.ts';
import { events, runCli } from '../support/cli.ts';
import { NeptuneCorruptor } from '../verify/corrupt-neptune.ts';

/**
 * Issue 12: `verify` finds real problems. After a clean migration, the Neptune emulator's store is
 * damaged directly — an image's bytes changed, a media file's bytes changed, a point dropped, a value changed, a console line changed, a file deleted, a
 * file's bytes changed at the same size, a field removed, a field's value changed, a run deleted —
 * and verify must name each (run, field/series/file, first differing step), and nothing else.
 */
let stack: Stack;
let dir: string;
let ledger: string;

interface Diff { scope: string; subject: string; detail: string; firstStep?: number; explainedBy?: unknown }
interface RunV { run: { project: string; runId: string }; status: string; differences: Diff[] }
interface Damage { runId: string; what: string; status: 'mismatch' | 'missing'; scope: string; subject: string; firstStep?: number }
const damages: Damage[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'w2n-verify-corrupt-'));
  const storage = join(dir, 'neptune.sqlite');
  stack = await startStack({ entity: generateEntity({ seed: 7, preset: 'all-shapes', entity: 'e2e-team' }), workDir: join(dir, 'export'), neptune: { storage } });
  ledger = join(dir, 'ledger.sqlite');
  const out = await runCli(['migrate', '--workspace', 'demo', '--projects', 'all', '--yes', '--json', '--ledger', ledger], stack.env, dir).done;
  if (out.code !== 0) throw new Error(`migrate failed (${out.code}): ${out.stderr}`);

  // Every migrated run with its container id and fields, to pick a distinct run for each damage.
  const runs = stack.entity.projects.flatMap((p) => {
    const qn = `demo/${p.name.replace(/_/g, '-')}`;
    return stack.neptune.inspect.runs(qn).map((r) => ({ runId: r.customId!, id: r.id, attrs: stack.neptune.inspect.attributes(r.id) }));
  });
  const used = new Set<string>();
  const pick = (ok: (r: (typeof runs)[number]) => boolean) => {
    const r = runs.find((x) => !used.has(x.id) && ok(x));
    if (!r) throw new Error('no run fits');
    used.add(r.id);
    return r;
  };
  const db = new NeptuneCorruptor(storage);
  const floatWith3 = (r: (typeof runs)[number]) =>
    Object.entries(r.attrs).find(([p, a]) => a.type === 'floatSeries' && !p.startsWith('monitoring/') && db.steps(r.id, p).length >= 3)?.[0];
  const fileIn = (r: (typeof runs)[number], set: string) => (r.attrs[set]?.type === 'fileSet' ? Object.keys(stack.neptune.inspect.fileSet(r.id, set))[0] : undefined);

  // Media (Protocol A: an image series, and files in file sets under media/…).
  const imagesIn = (x: (typeof runs)[number]) => Object.entries(x.attrs).find(([, a]) => a.type === 'imageSeries')?.[0];
  let r = pick((x) => !!imagesIn(x) && db.steps(x.id, imagesIn(x)!).length >= 2);
  let path = imagesIn(r)!;
  let step = db.steps(r.id, path)[1];
  db.flipImageByte(r.id, path, step);
  damages.push({ runId: r.runId, what: 'an image changed at the same size', status: 'mismatch', scope: 'image', subject: path, firstStep: step });

  const mediaSet = (x: (typeof runs)[number]) => Object.entries(x.attrs).find(([p, a]) => a.type === 'fileSet' && /^(summary\/)?media\//.test(p))?.[0];
  // The all-shapes entity has one media run: both media damages may be in it.
  if (!mediaSet(r)) r = pick((x) => !!mediaSet(x));
  const media = mediaSet(r)!;
  const member = Object.keys(stack.neptune.inspect.fileSet(r.id, media))[0];
  db.flipByte(r.id, media, member);
  damages.push({ runId: r.runId, what: 'a media file changed at the same size', status: 'mismatch', scope: 'media', subject: `${media}/${member}` });

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

  r = pick((x) => !!fileIn(x, 'files'));
  let file = fileIn(r, 'files')!;
  db.deleteFile(r.id, 'files', file);
  damages.push({ runId: r.runId, what: 'a file deleted', status: 'mismatch', scope: 'file', subject: `files/${file}` });

  r = pick((x) => !!fileIn(x, 'source_code/files') || !!fileIn(x, 'files'));
  const set = fileIn(r, 'source_code/files') ? 'source_code/files' : 'files';
  file = fileIn(r, set)!;
  db.flipByte(r.id, set, file);
  damages.push({ runId: r.runId, what: 'a file changed at the same size', status: 'mismatch', scope: 'file', subject: `${set}/${file}` });

  r = pick((x) => Object.keys(x.attrs).some((p) => p.startsWith('config/')));
  path = Object.keys(r.attrs).find((p) => p.startsWith('config/'))!;
  db.removeField(r.id, path);
  damages.push({ runId: r.runId, what: 'a field removed', status: 'mismatch', scope: 'field', subject: path });

  r = pick((x) => x.attrs['wandb/state']?.type === 'string');
  db.setField(r.id, 'wandb/state', 'tampered');
  damages.push({ runId: r.runId, what: 'a field value changed', status: 'mismatch', scope: 'field', subject: 'wandb/state' });

  r = pick(() => true);
  db.deleteRun(r.id);
  damages.push({ runId: r.runId, what: 'the run deleted', status: 'missing', scope: 'run', subject: r.runId });
  db.close();
}, 240_000);

afterAll(async () => {
  await stack?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('verify names every damage done to Neptune behind its back', () => {
  let report: { runs: RunV[]; totals: Record<string, number> };
  let code: number | null;

  beforeAll(async () => {
    const out = await runCli(['verify', '--workspace', 'demo', '--json', '--ledger', ledger], stack.env, dir).done;
    code = out.code;
    report = (events(out.stdout).find((e) => e.type === 'report') as unknown as { report: typeof report }).report;
  }, 240_000);

  it('exits 5 (mismatch/missing)', () => {
    expect(code).toBe(5);
  });

  for (const i of [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]) {
    it(`damage ${i + 1}: named with run, subject and first differing step`, () => {
      const d = damages[i];
      const run = report.runs.find((x) => x.run.runId === d.runId)!;
      expect(run, d.what).toBeDefined();
      expect(run.status, d.what).toBe(d.status);
      const named = run.differences.filter((x) => !x.explainedBy);
      // The run's damages, and nothing else: no collateral differences.
      expect(named.map((x) => ({ scope: x.scope, subject: x.subject, firstStep: x.firstStep })), d.what).toEqual(
        damages.filter((x) => x.runId === d.runId).map((x) => ({ scope: x.scope, subject: x.subject, firstStep: x.firstStep })),
      );
    });
  }

  it('every undamaged run is verified or verified-with-omissions', () => {
    const damaged = new Set(damages.map((d) => d.runId));
    const others = report.runs.filter((r) => !damaged.has(r.run.runId));
    expect(others.length).toBe(report.runs.length - damaged.size);
    expect(others.filter((r) => !r.status.startsWith('verified'))).toEqual([]);
  });

  it('in words: the text report names the run, the series and the first differing step', async () => {
    const d = damages[2];
    const out = await runCli(['verify', '--workspace', 'demo', '--ledger', ledger, '--runs', d.runId], stack.env, dir).done;
    expect(out.code).toBe(5);
    expect(out.stderr).toContain(`mismatch`);
    expect(out.stderr).toContain(`/${d.runId} →`);
    expect(out.stderr).toContain(`mismatch: series ${d.subject} [first differing step ${d.firstStep}]`);
    expect(out.stderr).toMatch(/mismatch 1, missing 0 \(of 1 runs\)/);
  }, 120_000);
});
