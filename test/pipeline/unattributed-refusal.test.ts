/**
 * A refusal the target could not attribute to a path (Protocol A's operation errors carry none: the
 * writer finds the path in the description, operations.ts `attributeErrors`, and a description naming
 * none leaves it without). It was filed under the history stream, and a batch without history points
 * (a run with no history: its fields, system metrics and console) dropped it: no report line, and the
 * field the server did not keep counted as written. It now goes with the batch's fields (or, without
 * fields, the batch's first stream): a line, and one fewer counted.
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

const LINE: Omission = { reason: 'rejected-by-server', subject: '(operation without a path)', count: 1, detail: 'metadata_inconsistency: value rejected' };

/** Refuses `config/lr` on the first flush that carries it, with an error that names no path. */
class UnattributingTarget extends FakeTarget {
  override async openRun(project: TargetProject, customRunId: string): Promise<TargetRun> {
    const run = await super.openRun(project, customRunId);
    const state = this.runs.get(`${project.qualifiedName}/${customRunId}`)!;
    const flush = run.flush.bind(run);
    return {
      ...run,
      async flush(signal?: AbortSignal): Promise<Omission[]> {
        const refused = await flush(signal);
        if (!state.fields.has('config/lr')) return refused;
        state.fields.delete('config/lr');
        return [...refused, LINE];
      },
    };
  }
}

describe('a refusal that names no path', () => {
  it('in a batch without history points: a report line, and not counted as written', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'w2n-unattributed-'));
    dirs.push(dir);
    const source = new FakeSource([fakeRun('r1')], new Map([['r1', 0]]));
    const target = new UnattributingTarget();
    const ledger = new Ledger(join(dir, 'ledger.sqlite'));
    const ctx: MigrationContext = {
      source, target, ledger, mapping: { ...defaultMappingOptions, include: new Set() as never }, log: silentLogger, emit: () => {},
      filePool: new Pool(2), batchPoints: 1000, fileBatchBytes: 5_000_000, fileBatchCount: 500, toolVersion: 'test', signal: new AbortController().signal,
    };
    const sel: MigrateSelection = { workspace: 'ws', projects: 'all', projectMap: new Map(), filter: {}, concurrency: 1 };
    expect((await migrate(sel, ctx)).failed).toBe(0);
    const held = target.runs.get('ws/proj-one/r1')!;
    expect(held.fields.has('config/lr')).toBe(false);
    const r = buildReport(ledger).runs[0];
    expect(r.notWritten).toContainEqual(LINE);
    // Every field the target holds, but the migration's own (written last, apart), and no more.
    const fields = [...held.fields.keys()].filter((p) => !p.startsWith('wandb/migration/'));
    expect(r.written.fields).toBe(fields.length);
    ledger.close();
  });
});
