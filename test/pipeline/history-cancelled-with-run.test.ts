/**
 * A run the target refuses before its history is read: the history's export, already downloading (it
 * is asked for before the run is opened), is used by no other run, so it is cancelled with the run's
 * failure — not downloaded whole for nobody (for a big run, minutes). What the source shares with
 * other runs (the batched document both runs' bundles came in, the small files it fetched ahead) is
 * not: the run listed after it migrates whole. Real W&B source against the W&B emulator, whose storage
 * says when a download started and whether it ended before its last byte; downloads are throttled so the
 * export is still under way when the run is refused.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWandbEmulator, type GenRun, type WandbEmulator } from '../../emulators/wandb/index.ts';
import { bufferFile } from '../../emulators/wandb/generator/files.ts';
import type { DownloadStart } from '../../emulators/wandb/server/http.ts';
import type { TargetProject, TargetRun } from '../../src/core/sink.ts';
import { silentLogger } from '../../src/core/logger.ts';
import { Ledger } from '../../src/ledger/ledger.ts';
import { defaultMappingOptions } from '../../src/mapping/options.ts';
import type { MigrationContext } from '../../src/pipeline/context.ts';
import { migrate, type MigrateSelection } from '../../src/pipeline/migrate.ts';
import { Pool } from '../../src/pipeline/pool.ts';
import { createWandbSource, type WandbSource } from '../../src/sources/wandb/index.ts';
import { FakeTarget } from './fakes.ts';

const KEY = 'emulatorkey-0123456789abcdef0123456789abcd';
const CREATED = '2024-03-01T00:00:00';
const BIG_ROWS = 4000;
const SMALL_ROWS = 40;

/** Rows whose values do not compress (the export file is tens of KB). */
function rows(n: number, seed: number): Array<Record<string, unknown>> {
  return Array.from({ length: n }, (_, i) => ({ _step: i, _timestamp: 1_709_251_200 + i, loss: Math.sin(i * seed + 0.5) * 1e3, acc: Math.cos(i * 7.77 + seed) }));
}

function genRun(id: string, n: number, seed: number): GenRun {
  return {
    id, displayName: id, tags: [], state: 'finished', createdAt: CREATED, heartbeatAt: CREATED, user: 'u', config: {}, summary: {},
    historyRowCount: n, lastStep: n - 1, history: () => rows(n, seed), exportedBelowStep: n,
    systemEvents: () => [], systemEventCount: 0, eventsFileListed: false, consoleLines: [],
    // A small file each: the batched document lists both runs' files, and the source fetches them ahead.
    files: [bufferFile('notes.txt', `notes of ${id}\n`)],
  };
}

/** Refuses `refused`'s run once `started` resolves (its export is then downloading). */
class RefusingTarget extends FakeTarget {
  constructor(private readonly refused: string, private readonly started: Promise<unknown>) { super(); }
  override async openRun(project: TargetProject, customRunId: string): Promise<TargetRun> {
    if (customRunId === this.refused) {
      await this.started;
      throw new Error('the target refuses the run');
    }
    return super.openRun(project, customRunId);
  }
}

let emu: WandbEmulator;
let source: WandbSource;
let dir: string;

beforeAll(async () => {
  emu = await startWandbEmulator({
    apiKeys: [KEY],
    entity: { name: 'cut-team', projects: [{ name: 'cut_proj', createdAt: CREATED, runs: [genRun('bigrefused', BIG_ROWS, 3), genRun('smallafter', SMALL_ROWS, 5)] }], artifacts: [] },
    // Slow enough that the export (tens of KB) is still downloading when the run is refused.
    faults: { downloadBytesPerSecond: 8_000 },
  });
  dir = mkdtempSync(join(tmpdir(), 'w2n-history-cut-'));
}, 60_000);

afterAll(async () => {
  await source?.close();
  await emu?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('a run refused before its history is read', () => {
  it('cancels its export download; the run sharing its batched document migrates whole', async () => {
    let exportStarted!: (d: DownloadStart) => void;
    const started = new Promise<DownloadStart>((resolve) => (exportStarted = resolve));
    const stop = emu.onDownload((d) => {
      if (d.kind === 'history' && d.path.includes('/bigrefused/')) exportStarted(d);
    });
    source = createWandbSource({ baseUrl: emu.url, apiKey: KEY, env: {}, log: silentLogger });
    const target = new RefusingTarget('bigrefused', started);
    const ledger = new Ledger(join(dir, 'ledger.sqlite'));
    const ctx: MigrationContext = {
      source, target, ledger, mapping: { ...defaultMappingOptions, include: new Set() as never }, log: silentLogger, emit: () => {},
      filePool: new Pool(2), batchPoints: 5000, fileBatchBytes: 5_000_000, fileBatchCount: 500, toolVersion: 'test', signal: new AbortController().signal,
    };
    const sel: MigrateSelection = { workspace: 'ws', projects: 'all', projectMap: new Map(), filter: {}, concurrency: 1 };
    const result = await migrate(sel, ctx);
    stop();

    // The refused run failed for the target's refusal, and its export ended before its last byte.
    expect(result.failed).toBe(1);
    const refused = ledger.getRun({ entity: 'cut-team', project: 'cut_proj', runId: 'bigrefused' });
    expect(refused?.status).toBe('failed');
    expect(refused?.lastError).toMatch(/the target refuses the run/);
    expect(await (await started).ended).toEqual({ whole: false });
    expect(emu.stats().downloadsCut).toBe(1);

    // The other run: every history point (step, timestamp, value) and its file.
    expect([...target.runs.keys()]).toEqual(['ws/cut-proj/smallafter']);
    const after = target.runs.get('ws/cut-proj/smallafter')!;
    const want = rows(SMALL_ROWS, 5);
    expect(after.series.get('loss')).toEqual(want.map((r) => ({ step: r._step, timestampMs: (r._timestamp as number) * 1000, value: r.loss })));
    expect(after.series.get('acc')).toEqual(want.map((r) => ({ step: r._step, timestampMs: (r._timestamp as number) * 1000, value: r.acc })));
    expect(after.files.get('files')?.get('notes.txt')).toBe('notes of smallafter\n');
    const done = ledger.getRun({ entity: 'cut-team', project: 'cut_proj', runId: 'smallafter' });
    expect(done?.status).toBe('done');
    ledger.close();
  }, 60_000);
});

