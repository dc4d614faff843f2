/**
 * `mapHistoryBlock` maps a block exactly as `mapHistoryRow` maps its rows one by one: the same points
 * (floats from the columns and from the rest, strings, media), the same omissions, and the same
 * series paths assigned in the same order (renames on clashes included), whatever the options.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateEntity } from '../../emulators/wandb/index.ts';
import { ParquetExporter } from '../../emulators/wandb/server/parquet-export.ts';
import { RunDataCache } from '../../emulators/wandb/server/run-data.ts';
import type { HistoryBlock, HistoryRow } from '../core/records.ts';
import { blockOf } from '../../test/support/history-blocks.ts';
import { floatBlockPoints, type Omission } from '../core/target.ts';
import { blockRow, numbersByKey, sliceBlock } from '../sources/history-block.ts';
import { parquetFileBlocks } from '../sources/wandb/parquet-blocks.ts';
import { textColumnRule } from '../sources/wandb/parquet-rows.ts';
import { protocolBCapabilities } from './capabilities.ts';
import { mapHistoryBlock } from './history-block.ts';
import { emptyPoints, mapHistoryRow } from './history.ts';
import type { MappingOptions } from './options.ts';
import { SeriesPathPlanner, type SeriesPath } from './series-paths.ts';

const FALLBACK_MS = 1_700_000_000_000;

const byPathStep = (a: { path: string; point: { step: number } }, b: { path: string; point: { step: number } }) => a.path.localeCompare(b.path) || a.point.step - b.point.step;
const byReason = (a: Omission, b: Omission) => a.reason.localeCompare(b.reason) || a.subject.localeCompare(b.subject);

/** Maps [from, to) of each block both ways with planners seeded alike; expects the same outcome. */
function expectSameMapping(blocks: { block: HistoryBlock; from?: number; to?: number }[], opts: MappingOptions, seed: SeriesPath[] = []) {
  const rowPlanner = new SeriesPathPlanner(seed);
  const blockPlanner = new SeriesPathPlanner(seed);
  const byRow = emptyPoints();
  const byBlock = emptyPoints();
  const blockFloats: typeof byRow.floats = [];
  for (const { block, from = 0, to = block.length } of blocks) {
    const cols = numbersByKey(block);
    for (let i = from; i < to; i++) mapHistoryRow(blockRow(block, i, cols), rowPlanner, opts, FALLBACK_MS, byRow);
    const fb = mapHistoryBlock(block, from, to, blockPlanner, opts, FALLBACK_MS, byBlock);
    for (const c of fb?.series ?? []) for (const point of floatBlockPoints(fb!, c)) blockFloats.push({ path: c.path, point });
  }
  expect(blockPlanner.added).toEqual(rowPlanner.added);
  expect(blockPlanner.renames).toEqual(rowPlanner.renames);
  expect([...byBlock.floats, ...blockFloats].sort(byPathStep)).toEqual([...byRow.floats].sort(byPathStep));
  expect([...byBlock.strings].sort(byPathStep)).toEqual([...byRow.strings].sort(byPathStep));
  expect([...byBlock.omissions].sort(byReason)).toEqual([...byRow.omissions].sort(byReason));
  expect(byBlock.media).toEqual(byRow.media);
  return { floats: blockFloats.length + byBlock.floats.length, planner: blockPlanner };
}

const OPTIONS: Record<string, MappingOptions> = {
  'A (NaN dropped)': { include: new Set() },
  'B --nan send, --include internal': { include: new Set(['internal']), capabilities: protocolBCapabilities({ nonFinite: 'send' }) },
  'B --nan drop': { include: new Set(), capabilities: protocolBCapabilities() },
};

describe('mapHistoryBlock', () => {
  const rows: HistoryRow[] = [
    { step: 0, timestamp: 100.5, values: { loss: 0.5, _runtime: 1, label: 'a', flag: true } },
    { step: 1, values: { loss: NaN, 'x/y': 'text', acc: Infinity } },
    { step: 2, timestamp: 102.25, values: { loss: -Infinity, acc: 0.25, nested: { a: 1, b: 'two', c: null }, x: 3 } },
    { step: 3, timestamp: 103, values: { acc: 0.5, x: 4, img: { _type: 'histogram', bins: [0, 1, 2], values: [1, 2] } } },
    { step: 5, timestamp: 104, values: { loss: 0.125, acc: NaN, x: 5, late: 7, list: [1, 2] } },
    { step: 9, timestamp: 105, values: { late: 8, m: 1, label: 'b' } },
  ];

  it('equals the row path on nulls, NaN/±Inf, `_` keys, strings, booleans, media, nested values, for each target', () => {
    for (const [name, opts] of Object.entries(OPTIONS)) {
      const block = blockOf(rows, ['loss', '_runtime', 'acc', 'x', 'late', 'm']);
      const { floats } = expectSameMapping([{ block }], opts);
      expect(floats, name).toBeGreaterThan(8);
    }
  });

  it('assigns paths in the row path’s order: a numeric key clashing with an earlier non-numeric key is the one renamed', () => {
    // `x/y` (a string, row 1) comes before the first point of `x` (a number, row 2): `x` is renamed `x_`.
    const { planner } = expectSameMapping([{ block: blockOf(rows, ['loss', '_runtime', 'acc', 'x', 'late', 'm']) }], OPTIONS['A (NaN dropped)']);
    expect(planner.get('x')?.path).toBe('x_');
    // A numeric `a/b` whose first point is in the same row as, but after, a string `a`.
    const clash: HistoryRow[] = [
      { step: 0, values: { n: 1 } },
      { step: 1, values: { a: 's', 'a/b': 2, n: 2 } },
      { step: 2, values: { 'a/b': 3, a: 't' } },
    ];
    const second = expectSameMapping([{ block: blockOf(clash, ['a/b', 'n']) }], OPTIONS['A (NaN dropped)']);
    expect(second.planner.get('a/b')?.path).toBe('a_/b');
  });

  it('counts numbers under a key whose series holds another kind, as the row path does', () => {
    const seed: SeriesPath[] = [{ key: 'm', path: 'm', kind: 'string' }, { key: 'acc', path: 'acc', kind: 'image' }];
    expectSameMapping([{ block: blockOf(rows, ['loss', 'acc', 'x', 'late', 'm']) }], OPTIONS['B --nan drop'], seed);
  });

  it('maps a block range by range with one planner as the rows go (batches cut mid-block)', () => {
    const block = blockOf(rows, ['loss', '_runtime', 'acc', 'x', 'late', 'm']);
    for (const opts of Object.values(OPTIONS)) {
      expectSameMapping([{ block, from: 0, to: 2 }, { block, from: 2, to: 3 }, { block, from: 3, to: 6 }], opts);
      expectSameMapping([{ block: sliceBlock(block, 1, 4) }, { block: sliceBlock(block, 4, 6) }], opts);
    }
  });

  it('equals the row path on every run of the all-shapes entity’s export, read by column', async () => {
    const entity = generateEntity({ seed: 3, preset: 'all-shapes' });
    const cache = new RunDataCache();
    const exporter = new ParquetExporter(mkdtempSync(join(tmpdir(), 'w2n-mhb-')), cache, { rowsPerFile: 50 });
    let points = 0;
    for (const project of entity.projects) {
      for (const run of project.runs) {
        const rule = textColumnRule(cache.statsOf(run).historyKeys);
        const blocks: { block: HistoryBlock; from?: number; to?: number }[] = [];
        for (const file of await exporter.files(entity.name, project.name, run)) {
          for await (const block of parquetFileBlocks(file, { fromStep: 0, where: 'history', textRule: rule, chunkRows: 20 })) {
            // Cut each block in two ranges, as the pipeline cuts blocks at batch boundaries.
            const mid = Math.floor(block.length / 3);
            blocks.push({ block, from: 0, to: mid }, { block, from: mid, to: block.length });
          }
        }
        for (const opts of Object.values(OPTIONS)) points += expectSameMapping(blocks, opts).floats;
      }
    }
    expect(points).toBeGreaterThan(1000);
  });
});
