/**
 * The migration fields (`wandb/migration/*`, written last: a run without `completed_at` is visibly an
 * interrupted migration) refused by the target — a run at the server's field cap is the likely case —
 * were dropped without a word: the ledger said the run was done, and the Neptune run looked interrupted
 * for ever. They are now report lines of the run's fields (the run is done: everything else landed).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { TargetProject, TargetRun } from '../../src/core/sink.ts';
import type { Omission } from '../../src/core/target.ts';
import { silentLogger } from '../../src/core/logger.ts';
import { Ledger } from '../../src/ledger/ledger.ts';
import { defaultMappingOptions } from '../../src/mapping/options.ts';
import type { MigrationContext } from '../../src/pipeline/context.ts';
import { migrate, type MigrateSelection } from '../../src/pipeline/migrate.ts';
import { Pool } from '../../src/pipeline/pool.ts';
import { buildReport } from '../../src/pipeline/report.ts';
import { FakeSource, FakeTarget, fakeRun } from './fakes.ts';

const dirs: string[] = [];
afterEach(() => { for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true }); });

/** Refuses every `wandb/migration/*` field, as a server at its field cap refuses new fields. */
class CappedTarget extends FakeTarget {
  override async openRun(project: TargetProject, customRunId: string): Promise<TargetRun> {
    const run = await super.openRun(project, customRunId);
    const state = this.runs.get(`${project.qualifiedName}/${customRunId}`)!;
    const flush = run.flush.bind(run);
    return {
      ...run,
      async flush(signal?: AbortSignal): Promise<Omission[]> {
        const refused = await flush(signal);
        const capped = [...state.fields.keys()].filter((p) => p.startsWith('wandb/migration/'));
        for (const p of capped) state.fields.delete(p);
        return [...refused, ...capped.map((subject): Omission => ({ reason: 'field-limit', subject, count: 1, detail: 'run already has 9000 fields (max 9000)' }))];
      },
    };
  }
}

describe('migration fields the target refuses', () => {
  it.each([['a run with history', 40], ['a run without history', 0]])('%s: a report line for each, the run done', async (_name, rows) => {
    const dir = mkdtempSync(join(tmpdir(), 'w2n-migration-fields-'));
    dirs.push(dir);
    const source = new FakeSource([fakeRun('r1')], new Map([['r1', rows]]));
    const target = new CappedTarget();
    const ledger = new Ledger(join(dir, 'ledger.sqlite'));
    const ctx: MigrationContext = {
      source, target, ledger, mapping: { ...defaultMappingOptions, include: new Set() as never }, log: silentLogger, emit: () => {},
      filePool: new Pool(2), batchPoints: 1000, fileBatchBytes: 5_000_000, fileBatchCount: 500, toolVersion: 'test', signal: new AbortController().signal,
    };
    const sel: MigrateSelection = { workspace: 'ws', projects: 'all', projectMap: new Map(), filter: {}, concurrency: 1 };
    expect((await migrate(sel, ctx)).failed).toBe(0);
    const held = target.runs.get('ws/proj-one/r1')!;
    expect([...held.fields.keys()].filter((p) => p.startsWith('wandb/migration/'))).toEqual([]);
    const r = buildReport(ledger).runs[0];
    expect(r.status).toBe('migrated');
    const lines = r.notWritten.filter((o) => o.subject.startsWith('wandb/migration/')).map((o) => [o.reason, o.subject, o.count]).sort();
    expect(lines).toEqual([
      ['field-limit', 'wandb/migration/completed_at', 1], ['field-limit', 'wandb/migration/source_fingerprint', 1], ['field-limit', 'wandb/migration/tool_version', 1],
    ]);
    // Counted nowhere as written, and no other count lost for them.
    expect(r.written.points ?? 0).toBe([...held.series.values()].reduce((n, s) => n + s.length, 0));
    expect(r.written.fields).toBe(held.fields.size);
    ledger.close();
  });
});
