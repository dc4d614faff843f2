import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/core/logger.ts';
import type { HistoryRow, RunFile, RunInfo } from '../../src/core/records.ts';
import type { TargetProject, TargetRun } from '../../src/core/sink.ts';
import type { FileSetAnswer, FileSetEntry, ImagePoint, ImagesAnswer, Omission } from '../../src/core/target.ts';
import { Ledger } from '../../src/ledger/ledger.ts';
import { defaultMappingOptions } from '../../src/mapping/options.ts';
import type { MigrationContext } from '../../src/pipeline/context.ts';
import { migrate, type MigrateSelection } from '../../src/pipeline/migrate.ts';
import { Pool } from '../../src/pipeline/pool.ts';
import { FakeSource, FakeTarget, fakeRun } from './fakes.ts';
import { readFile } from 'node:fs/promises';

/**
 * A Protocol B target answers a media series' points, and a file set's FileRefs, only once the server
 * processed them (a status wait of ~0.3 s or more). One series after another, one set after another,
 * made a run with 40 media keys wait 12 s for 15 KB. The media of a batch go at once: every image
 * series in flight together, every file set in one `uploadFileSets` call.
 */
const ROWS = 4;
const IMAGE_KEYS = ['img_a', 'img_b', 'img_c'];
const PAGE_KEYS = ['page_a', 'page_b'];
const image = (key: string, step: number) => `media/images/${key}_${step}.png`;
const page = (key: string, step: number) => `media/html/${key}_${step}.html`;
const bytes = (name: string) => `bytes of ${name}`;

class MediaSource extends FakeSource {
  constructor() {
    const files: Array<RunFile & { content: string }> = [];
    for (let s = 0; s < ROWS; s++) {
      for (const k of IMAGE_KEYS) files.push({ name: image(k, s), sizeBytes: bytes(image(k, s)).length, md5: `i${k}${s}`, content: bytes(image(k, s)) });
      for (const k of PAGE_KEYS) files.push({ name: page(k, s), sizeBytes: bytes(page(k, s)).length, md5: `p${k}${s}`, content: bytes(page(k, s)) });
    }
    super([fakeRun('r1')], new Map([['r1', ROWS]]), new Map([['r1', files]]));
  }
  override async *history(_run: RunInfo, opts: { fromStep?: number }): AsyncIterable<HistoryRow> {
    for (let step = opts.fromStep ?? 0; step < ROWS; step++) {
      const values: Record<string, unknown> = { loss: step };
      for (const k of IMAGE_KEYS) values[k] = { _type: 'image-file', path: image(k, step), format: 'png', width: 1, height: 1 };
      for (const k of PAGE_KEYS) values[k] = { _type: 'html-file', path: page(k, step) };
      yield { step, timestamp: 1_700_000_000 + step, values };
    }
  }
}

/** FakeTarget with image series and a many-sets upload, recording how many image calls were in flight at once. */
class MediaTarget extends FakeTarget {
  inFlight = 0;
  maxInFlight = 0;
  readonly images = new Map<string, Array<{ step: number; timestampMs: number; data: string }>>();
  readonly setCalls: string[][] = [];

  override async openRun(project: TargetProject, customRunId: string): Promise<TargetRun> {
    const run = await super.openRun(project, customRunId);
    const files = this.runs.get(run.id)!.files;
    return {
      ...run,
      logImages: async (path: string, points: readonly ImagePoint[]): Promise<ImagesAnswer> => {
        this.inFlight++;
        this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
        await new Promise((r) => setImmediate(r)); // the status wait, as short as can be
        const list = this.images.get(path) ?? [];
        for (const p of points) list.push({ step: p.step, timestampMs: p.timestampMs, data: Buffer.from(p.data).toString() });
        this.images.set(path, list);
        this.inFlight--;
        return { refused: [], alreadyPresent: [] };
      },
      uploadFileSets: async (sets: ReadonlyArray<{ path: string; entries: readonly FileSetEntry[] }>): Promise<FileSetAnswer[]> => {
        this.setCalls.push(sets.map((s) => s.path));
        for (const s of sets) {
          let held = files.get(s.path);
          if (!held) files.set(s.path, (held = new Map()));
          for (const e of s.entries) held.set(e.relativePath, await readFile(e.localPath, 'utf8'));
        }
        return sets.map(() => ({ refused: [], alreadyPresent: [] }));
      },
    };
  }
}

const dirs: string[] = [];
afterEach(() => { for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true }); });

describe('a batch\'s media series sent at once', () => {
  it('every image series in flight together, every file set in one call; every image and file lands with its step and bytes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'w2n-media-at-once-'));
    dirs.push(dir);
    const target = new MediaTarget();
    const ledger = new Ledger(join(dir, 'ledger.sqlite'));
    const ctx: MigrationContext = {
      source: new MediaSource(), target, ledger, mapping: defaultMappingOptions, log: silentLogger, emit: () => {},
      filePool: new Pool(2), batchPoints: 100_000, fileBatchBytes: 5_000_000, fileBatchCount: 500, toolVersion: 'test',
    };
    const sel: MigrateSelection = { workspace: 'ws', projects: 'all', projectMap: new Map(), filter: {}, concurrency: 1 };
    const outcome = await migrate(sel, ctx);
    expect(outcome.failed).toBe(0);

    expect(target.maxInFlight).toBe(IMAGE_KEYS.length);
    for (const k of IMAGE_KEYS) {
      expect(target.images.get(k)).toEqual(Array.from({ length: ROWS }, (_, s) => ({ step: s, timestampMs: (1_700_000_000 + s) * 1000, data: bytes(image(k, s)) })));
    }
    const htmlSets = target.setCalls.filter((c) => c.some((p) => p.startsWith('media/html')));
    expect(htmlSets).toEqual([PAGE_KEYS.map((k) => `media/html/${k}`)]);
    const held = target.runs.get('ws/proj-one/r1')!.files;
    for (const k of PAGE_KEYS) {
      expect([...held.get(`media/html/${k}`)!.entries()].sort()).toEqual(Array.from({ length: ROWS }, (_, s) => [`${s}.html`, bytes(page(k, s))]).sort());
    }
    ledger.close();
  });
});
