import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Ledger } from '../../src/ledger/ledger.ts';
import { defaultMappingOptions } from '../../src/mapping/options.ts';
import type { MigrationContext } from '../../src/pipeline/context.ts';
import type { MigrationEvent } from '../../src/pipeline/events.ts';
import { migrate, type MigrateSelection } from '../../src/pipeline/migrate.ts';
import { Pool } from '../../src/pipeline/pool.ts';
import { buildReport } from '../../src/pipeline/report.ts';
import { silentLogger } from '../../src/core/logger.ts';
import { FakeSource, FakeTarget, fakeRun } from './fakes.ts';

const dirs: string[] = [];
afterEach(() => { for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true }); });

function setup(source: FakeSource, target: FakeTarget) {
  const dir = mkdtempSync(join(tmpdir(), 'w2n-pipe-'));
  dirs.push(dir);
  const ledger = new Ledger(join(dir, 'ledger.sqlite'));
  const events: MigrationEvent[] = [];
  const ctx: MigrationContext = {
    source, target, ledger, mapping: defaultMappingOptions, log: { ...silentLogger, error: (m: string) => process.env.DEBUG_W2N && console.error(m) }, emit: (e) => events.push(e),
    filePool: new Pool(2), batchPoints: 500, fileBatchBytes: 5_000_000, fileBatchCount: 500, toolVersion: 'test',
  };
  return { ctx, ledger, events, dir };
}

const sel: MigrateSelection = { workspace: 'ws', projects: 'all', projectMap: new Map(), filter: {}, concurrency: 2 };

function makeSource() {
  const runs = [fakeRun('r1'), fakeRun('r2'), fakeRun('r3', 'proj_two')];
  const rows = new Map([['r1', 1000], ['r2', 10], ['r3', 0]]);
  const files = new Map([['r1', [
    { name: 'code/train.py', sizeBytes: 5, md5: 'a', content: 'print' },
    { name: 'model.ckpt', sizeBytes: 4, md5: 'b', content: 'ckpt' },
    { name: 'media/images/x.png', sizeBytes: 3, md5: 'c', content: 'png' },
  ]]]);
  return new FakeSource(runs, rows, files);
}

function snapshot(t: FakeTarget) {
  return JSON.stringify(
    [...t.runs.entries()].map(([id, r]) => [
      id,
      [...r.series.entries()].sort(),
      [...r.fields.entries()].filter(([k]) => !k.startsWith('wandb/migration/')).sort(),
      [...r.files.entries()].map(([p, m]) => [p, [...m.entries()].sort()]).sort(),
    ]).sort(),
  );
}

describe('migration pipeline: resume and re-run (issue 4)', () => {
  it('an uninterrupted migration writes every point once, in the right places', async () => {
    const target = new FakeTarget();
    const { ctx, ledger } = setup(makeSource(), target);
    const result = await migrate(sel, ctx);
    expect(result).toMatchObject({ migrated: 3, failed: 0, skipped: 0 });
    const r1 = target.runs.get('ws/proj-one/r1')!;
    expect(r1.series.get('loss')).toHaveLength(1000);
    expect(r1.series.get('acc')).toHaveLength(1000 - Math.ceil(1000 / 7));
    expect(r1.series.get('monitoring/cpu')).toHaveLength(5);
    expect(r1.series.get('monitoring/stdout')).toHaveLength(30);
    expect(r1.fields.get('config/lr')).toEqual({ type: 'float', value: 0.1 });
    expect(r1.fields.get('wandb/migration/completed_at')).toBeDefined();
    expect([...r1.files.get('source_code/files')!.keys()]).toEqual(['code/train.py']);
    expect([...r1.files.get('checkpoints')!.keys()]).toEqual(['model.ckpt']);
    const report = buildReport(ledger);
    const r1report = report.runs.find((r) => r.run === 'ent/proj_one/r1')!;
    expect(r1report.notWritten).toEqual(expect.arrayContaining([
      expect.objectContaining({ reason: 'non-finite', subject: 'acc', count: Math.ceil(1000 / 7) }),
      expect.objectContaining({ reason: 'excluded-by-default', subject: 'media/images/x.png' }),
    ]));
    expect(r1report.written.historyPoints).toBe(1000 * 3 - Math.ceil(1000 / 7));
  });

  for (const applied of [false, true]) {
    it(`a crash at any flush (${applied ? 'after the target applied it' : 'before the target applied it'}) then a resume equals the uninterrupted result`, async () => {
      const reference = new FakeTarget();
      await migrate(sel, setup(makeSource(), reference).ctx);
      const totalFlushes = reference.flushes;
      for (let crashAt = 1; crashAt <= totalFlushes; crashAt += 3) {
        const target = new FakeTarget();
        const { ctx } = setup(makeSource(), target);
        target.crash = { afterFlushes: crashAt, applied };
        await migrate({ ...sel, concurrency: 1 }, ctx);
        target.crash = undefined;
        const second = await migrate(sel, ctx);
        expect(second.failed).toBe(0);
        const [got, want] = [snapshot(target), snapshot(reference)];
        if (got !== want) {
          const i = [...got].findIndex((c, j) => c !== want[j]);
          expect({ crashAt, got: got.slice(Math.max(0, i - 200), i + 200) }).toEqual({ crashAt, got: want.slice(Math.max(0, i - 200), i + 200) });
        }
        // Nothing refused for being sent twice: the resume sent only what was missing.
        const refusedTwice = ctx.ledger.listRuns().flatMap((r) => ctx.ledger.omissions(r.key)).filter((o) => o.reason === 'step-not-increasing');
        expect(refusedTwice).toEqual([]);
      }
    });
  }

  it('a second migration of an unchanged source sends nothing; new steps are sent exactly', async () => {
    const source = makeSource();
    const target = new FakeTarget();
    const { ctx } = setup(source, target);
    await migrate(sel, ctx);
    const before = target.requests;
    const again = await migrate(sel, ctx);
    expect(again).toMatchObject({ skipped: 3, migrated: 0 });
    expect(target.requests).toBe(before);
    source.rows.set('r2', 25);
    source.runs[1] = { ...source.runs[1], lastStep: 24 };
    const third = await migrate(sel, ctx);
    expect(third).toMatchObject({ migrated: 1, skipped: 2 });
    expect(target.runs.get('ws/proj-one/r2')!.series.get('loss')!.map((p) => p.step)).toEqual([...Array(25).keys()]);
  });

  it('a re-run with other --include options carries what they add, without sending anything twice', async () => {
    const source = makeSource();
    const target = new FakeTarget();
    const { ctx, ledger } = setup(source, target);
    await migrate(sel, ctx);
    const r1 = target.runs.get('ws/proj-one/r1')!;
    expect(r1.series.get('_runtime')).toBeUndefined();
    expect(r1.files.get('files')).toBeUndefined();

    const again = await migrate(sel, { ...ctx, mapping: { include: new Set(['internal', 'media']) } });
    expect(again).toMatchObject({ migrated: 3, failed: 0 });
    expect(r1.series.get('_runtime')).toHaveLength(1000);
    expect(r1.series.get('loss')).toHaveLength(1000);
    expect([...r1.files.get('files')!.keys()]).toEqual(['media/images/x.png']);
    const key = { entity: 'ent', project: 'proj_one', runId: 'r1' };
    const omissions = ledger.omissions(key);
    expect(omissions.filter((o) => o.reason === 'step-not-increasing' || o.reason === 'rejected-by-server')).toEqual([]);
    // The re-read counts NaN points once, not once per pass.
    expect(omissions.find((o) => o.reason === 'non-finite' && o.subject === 'acc')?.count).toBe(Math.ceil(1000 / 7));
    expect(omissions.find((o) => o.subject === 'media/images/x.png')).toBeUndefined();
    // And a third pass with the same options is a no-op again.
    const third = await migrate(sel, { ...ctx, mapping: { include: new Set(['internal', 'media']) } });
    expect(third).toMatchObject({ skipped: 3, migrated: 0 });
  });

  it('a failing run is recorded and the others complete', async () => {
    const source = makeSource();
    const target = new FakeTarget();
    const original = source.history.bind(source);
    source.history = async function* (run, opts, signal) {
      if (run.key.runId === 'r2') throw new Error('W&B history of ent/proj_one/r2: bad row');
      yield* original(run, opts, signal);
    };
    const { ctx, ledger } = setup(source, target);
    const result = await migrate(sel, ctx);
    expect(result).toMatchObject({ migrated: 2, failed: 1 });
    expect(ledger.getRun({ entity: 'ent', project: 'proj_one', runId: 'r2' })).toMatchObject({ status: 'failed', lastError: expect.stringContaining('bad row') });
  });
});
