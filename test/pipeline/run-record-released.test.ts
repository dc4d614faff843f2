import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/core/logger.ts';
import type { RunKey } from '../../src/core/records.ts';
import type { TargetProject } from '../../src/core/sink.ts';
import { Ledger, type LedgerRun } from '../../src/ledger/ledger.ts';
import { defaultMappingOptions } from '../../src/mapping/options.ts';
import type { MigrationContext } from '../../src/pipeline/context.ts';
import { migrateRun } from '../../src/pipeline/migrate-run.ts';
import { Pool } from '../../src/pipeline/pool.ts';
import { FakeSource, FakeTarget, fakeRun } from './fakes.ts';

// A full collection on demand (the flag only exposes `gc` to contexts made after it is set).
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/**
 * Issue 13 (c): the ledger's record of a run must not live through the run's awaits. Held there (it
 * was, as `before`), V8 pretenured the literal all the ledger's records are made by, and the report of
 * 10,000 runs at the end went to the old generation as garbage (migrate-run.ts, ledgerKnown).
 */
describe('a run being migrated', () => {
  it('holds no record of the ledger while it waits', async () => {
    const run = fakeRun('a');
    const ledger = new Ledger(':memory:');
    // Started by an earlier pass: the record says so, and the run resumes.
    ledger.startRun(run.key, { displayName: run.displayName, targetProject: 'ws/proj_one' });
    let record: WeakRef<LedgerRun> | undefined;
    const getRun = ledger.getRun.bind(ledger);
    // Not a spy: a spy would keep what it returned.
    ledger.getRun = (key: RunKey) => {
      const r = getRun(key);
      if (r) record = new WeakRef(r);
      return r;
    };
    const target = new FakeTarget();
    const events: string[] = [];
    const ctx: MigrationContext = {
      source: new FakeSource([run], new Map([['a', 3]])), target, ledger, mapping: defaultMappingOptions, log: silentLogger,
      emit: (e) => events.push(e.type === 'run.started' ? `started, resumed ${e.resumed}` : e.type),
      filePool: new Pool(2), batchPoints: 500, fileBatchBytes: 5_000_000, fileBatchCount: 500, toolVersion: 'test',
    };
    let asked!: () => void;
    const projectAsked = new Promise<void>((resolve) => { asked = resolve; });
    let give!: (p: TargetProject) => void;
    const project = new Promise<TargetProject>((resolve) => { give = resolve; });
    const migrating = migrateRun(run, () => { asked(); return project; }, ctx);
    await projectAsked;
    // A later task (a WeakRef keeps its target through the job that made it), then a full collection.
    await new Promise((resolve) => setImmediate(resolve));
    gc();
    expect(record).toBeDefined();
    expect(record!.deref()).toBeUndefined();
    give(await target.ensureProject('ws', 'proj_one'));
    expect(await migrating).toMatchObject({ status: 'migrated' });
    // What the record said still counts: the run resumed.
    expect(events).toContain('started, resumed true');
    ledger.close();
  });
});
