import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/core/logger.ts';
import type { HistoryRow, RunFile, RunInfo } from '../../src/core/records.ts';
import { Ledger } from '../../src/ledger/ledger.ts';
import { defaultMappingOptions } from '../../src/mapping/options.ts';
import type { MigrationContext } from '../../src/pipeline/context.ts';
import { migrate, type MigrateSelection } from '../../src/pipeline/migrate.ts';
import { Pool } from '../../src/pipeline/pool.ts';
import { buildReport } from '../../src/pipeline/report.ts';
import { FakeSource, FakeTarget, fakeRun } from './fakes.ts';

/**
 * A history row's media counts and report lines are committed with the rows' cursor: when the history
 * stops before that cursor (a media file W&B failed to serve, a kill), the next pass reads the rows
 * again and counts each once — not the media that landed before the stop a second time. Rows come one
 * by one (no blocks) and the media batch (20) is smaller than the rows' batch, so media land before
 * their batch is sent.
 */
const ROWS = 150;
const page = (step: number) => `media/html/p_${step}.html`;
const GONE = 10;
const FAILING = 140;

class MediaSource extends FakeSource {
  failing = true;
  constructor() {
    const files: Array<RunFile & { content: string }> = [];
    for (let s = 0; s < ROWS; s++) if (s !== GONE) files.push({ name: page(s), sizeBytes: `<p>${s}</p>`.length, md5: `m${s}`, content: `<p>${s}</p>` });
    super([fakeRun('r1')], new Map([['r1', ROWS]]), new Map([['r1', files]]));
  }
  override async *history(_run: RunInfo, opts: { fromStep?: number }): AsyncIterable<HistoryRow> {
    for (let step = opts.fromStep ?? 0; step < ROWS; step++) {
      yield { step, timestamp: 1_700_000_000 + step, values: { loss: step, page: { _type: 'html-file', path: page(step) } } };
    }
  }
  override async fetchFile(run: RunInfo, file: RunFile) {
    if (this.failing && file.name === page(FAILING)) throw new Error(`storage failed for ${file.name} (HTTP 503)`);
    return super.fetchFile(run, file);
  }
}

const dirs: string[] = [];
afterEach(() => { for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true }); });

const sel: MigrateSelection = { workspace: 'ws', projects: 'all', projectMap: new Map(), filter: {}, concurrency: 1 };

describe('history media counted with their rows\' cursor', () => {
  it('a stop at a failing row, then the next pass: each file and the gone file\'s line counted once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'w2n-media-counts-'));
    dirs.push(dir);
    const source = new MediaSource();
    const target = new FakeTarget();
    const ledger = new Ledger(join(dir, 'ledger.sqlite'));
    const ctx: MigrationContext = {
      source, target, ledger, mapping: defaultMappingOptions, log: silentLogger, emit: () => {},
      filePool: new Pool(2), batchPoints: 100_000, fileBatchBytes: 5_000_000, fileBatchCount: 20, toolVersion: 'test',
    };
    const first = await migrate(sel, ctx);
    expect(first.failed).toBe(1);
    expect(ledger.getRun({ entity: 'ent', project: 'proj_one', runId: 'r1' })?.lastError).toContain(page(FAILING));
    source.failing = false;
    const second = await migrate(sel, ctx);
    expect(second.failed).toBe(0);

    const held = target.runs.get('ws/proj-one/r1')!.files;
    const want = Array.from({ length: ROWS }, (_, s) => s).filter((s) => s !== GONE);
    expect([...held.get('media/html/page')!.entries()].sort()).toEqual(want.map((s) => [`${s}.html`, `<p>${s}</p>`]).sort());
    const r = buildReport(ledger).runs[0];
    expect(r.written.mediaFiles).toBe(want.length);
    expect(r.notWritten.filter((o) => o.reason === 'download-failed')).toEqual([
      expect.objectContaining({ reason: 'download-failed', subject: 'page', count: 1 }),
    ]);
    ledger.close();
  });
});
