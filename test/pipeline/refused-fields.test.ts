/**
 * Fields a target refuses after taking the request, through the pipeline:
 * - The migration fields (`wandb/migration/*`, written last: a run without `completed_at` is visibly an
 *   interrupted migration) refused — a run at the server's field cap is the likely case — were dropped
 *   without a word: the ledger said the run was done, and the Neptune run looked interrupted for ever.
 *   They are now report lines of the run's fields (the run is done: everything else landed).
 * - A refusal the target could not attribute to a path (Protocol A's operation errors carry none: the
 *   writer finds the path in the description, operations.ts `attributeErrors`, and a description naming
 *   none leaves it without) was filed under the history stream, and a batch without history points (a
 *   run with no history: its fields, system metrics and console) dropped it: no report line, and the
 *   field the server did not keep counted as written. It now goes with the batch's fields (or, without
 *   fields, the batch's first stream): a line, and one fewer counted.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Omission } from '../../src/core/target.ts';
import { silentLogger } from '../../src/core/logger.ts';
import { Ledger } from '../../src/ledger/ledger.ts';
import { defaultMappingOptions } from '../../src/mapping/options.ts';
import type { MigrationContext } from '../../src/pipeline/context.ts';
import { migrate, type MigrateSelection } from '../../src/pipeline/migrate.ts';
import { Pool } from '../../src/pipeline/pool.ts';
import { buildReport } from '../../src/pipeline/report.ts';
import { FakeSource, fakeRun, RefusingTarget } from './fakes.ts';

const dirs: string[] = [];
afterEach(() => { for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true }); });

/** One run of `rows` history rows migrated into `target`; its report and what the target holds. */
async function migrateOne(target: RefusingTarget, rows: number) {
  const dir = mkdtempSync(join(tmpdir(), 'w2n-refused-'));
  dirs.push(dir);
  const ledger = new Ledger(join(dir, 'ledger.sqlite'));
  try {
    const ctx: MigrationContext = {
      source: new FakeSource([fakeRun('r1')], new Map([['r1', rows]])), target, ledger, mapping: { ...defaultMappingOptions, include: new Set() as never }, log: silentLogger, emit: () => {},
      filePool: new Pool(2), batchPoints: 1000, fileBatchBytes: 5_000_000, fileBatchCount: 500, toolVersion: 'test', signal: new AbortController().signal,
    };
    const sel: MigrateSelection = { workspace: 'ws', projects: 'all', projectMap: new Map(), filter: {}, concurrency: 1 };
    expect((await migrate(sel, ctx)).failed).toBe(0);
    return { held: target.runs.get('ws/proj-one/r1')!, report: buildReport(ledger).runs[0] };
  } finally {
    ledger.close();
  }
}

describe('migration fields the target refuses', () => {
  it.each([['a run with history', 40], ['a run without history', 0]])('%s: a report line for each, the run done', async (_name, rows) => {
    // Every `wandb/migration/*` field refused, as a server at its field cap refuses new fields.
    const target = new RefusingTarget((state) => {
      const capped = [...state.fields.keys()].filter((p) => p.startsWith('wandb/migration/'));
      for (const p of capped) state.fields.delete(p);
      return capped.map((subject): Omission => ({ reason: 'field-limit', subject, count: 1, detail: 'run already has 9000 fields (max 9000)' }));
    });
    const { held, report: r } = await migrateOne(target, rows);
    expect([...held.fields.keys()].filter((p) => p.startsWith('wandb/migration/'))).toEqual([]);
    expect(r.status).toBe('migrated');
    const lines = r.notWritten.filter((o) => o.subject.startsWith('wandb/migration/')).map((o) => [o.reason, o.subject, o.count]).sort();
    expect(lines).toEqual([
      ['field-limit', 'wandb/migration/completed_at', 1], ['field-limit', 'wandb/migration/source_fingerprint', 1], ['field-limit', 'wandb/migration/tool_version', 1],
    ]);
    // Counted nowhere as written, and no other count lost for them.
    expect(r.written.points ?? 0).toBe([...held.series.values()].reduce((n, s) => n + s.length, 0));
    expect(r.written.fields).toBe(held.fields.size);
  });
});

const LINE: Omission = { reason: 'rejected-by-server', subject: '(operation without a path)', count: 1, detail: 'metadata_inconsistency: value rejected' };

describe('a refusal that names no path', () => {
  it('in a batch without history points: a report line, and not counted as written', async () => {
    // `config/lr` refused on the first flush that carries it, with an error that names no path.
    const target = new RefusingTarget((state) => {
      if (!state.fields.has('config/lr')) return [];
      state.fields.delete('config/lr');
      return [LINE];
    });
    const { held, report: r } = await migrateOne(target, 0);
    expect(held.fields.has('config/lr')).toBe(false);
    expect(r.notWritten).toContainEqual(LINE);
    // Every field the target holds, but the migration's own (written last, apart), and no more.
    const fields = [...held.fields.keys()].filter((p) => !p.startsWith('wandb/migration/'));
    expect(r.written.fields).toBe(fields.length);
  });
});
