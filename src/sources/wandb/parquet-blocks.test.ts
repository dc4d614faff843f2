/**
 * The column reader gives the same rows as the row reader (`blockRows` of its blocks equals
 * `toHistoryRow` of `parquetFileRows`, keys in the same order), on edge cases and on every run of the
 * all-shapes entity's export (with DATA_PAGE_V2 pages, and v1 as pyarrow writes them); and the same errors.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parquetWriteFile } from 'hyparquet-writer';
import { describe, expect, it } from 'vitest';
import { generateEntity } from '../../../emulators/wandb/index.ts';
import { ParquetExporter } from '../../../emulators/wandb/server/parquet-export.ts';
import { RunDataCache } from '../../../emulators/wandb/server/run-data.ts';
import { SourceDataError } from '../../core/errors.ts';
import type { HistoryBlock, HistoryRow } from '../../core/records.ts';
import { blockRows } from '../history-block.ts';
import { toHistoryRow } from './history-rows.ts';
import { parquetFileBlocks } from './parquet-blocks.ts';
import { parquetFileRows, textColumnRule, type TextColumnRule } from './parquet-rows.ts';

const dir = mkdtempSync(join(tmpdir(), 'w2n-pqb-'));
const where = 'history of e/p/r';

function write(name: string, columns: { name: string; data: unknown[]; type?: string }[], rowGroupSize?: number): string {
  const filename = join(dir, name);
  parquetWriteFile({ filename, columnData: columns.map((c) => ({ name: c.name, data: c.data as never, ...(c.type ? { type: c.type as never } : {}) })), rowGroupSize });
  return filename;
}

async function viaRows(path: string, fromStep: number, textRule: TextColumnRule): Promise<HistoryRow[]> {
  const out: HistoryRow[] = [];
  for await (const r of parquetFileRows(path, { fromStep, where, textRule, chunkRows: 3 })) out.push(toHistoryRow(r));
  return out;
}

async function viaBlocks(path: string, fromStep: number, textRule: TextColumnRule, chunkRows?: number): Promise<{ rows: HistoryRow[]; blocks: HistoryBlock[] }> {
  const rows: HistoryRow[] = [];
  const blocks: HistoryBlock[] = [];
  for await (const b of parquetFileBlocks(path, { fromStep, where, textRule, chunkRows })) {
    blocks.push(b);
    rows.push(...blockRows(b));
  }
  return { rows, blocks };
}

/** Equal rows, values and key order alike (the mapping visits keys in that order). */
function expectSameRows(actual: HistoryRow[], expected: HistoryRow[]): void {
  expect(actual).toEqual(expected);
  expect(actual.map((r) => Object.keys(r.values))).toEqual(expected.map((r) => Object.keys(r.values)));
  expect(actual.map((r) => 'timestamp' in r)).toEqual(expected.map((r) => 'timestamp' in r));
}

describe('parquetFileBlocks', () => {
  const media = JSON.stringify({ _type: 'image-file', path: 'media/images/a.png', size: 3 });
  const edge = () =>
    write('edge.parquet', [
      { name: '_step', data: [0n, 1n, 2n, 3n, 4n, 5n, 6n], type: 'INT64' },
      { name: 'loss', data: [0.5, null, NaN, Infinity, -Infinity, 1, null], type: 'DOUBLE' },
      { name: 'big', data: [2n ** 60n + 1n, null, -5n, 0n, 7n, null, 9007199254740993n], type: 'INT64' },
      { name: 'i32', data: [1, 2, null, 4, 5, 6, 7], type: 'INT32' },
      { name: 'img', data: [null, media, null, null, '{not json', null, 'plain'], type: 'STRING' },
      { name: 'flag', data: [true, null, false, true, null, null, false], type: 'BOOLEAN' },
      { name: 'nothing', data: [null, null, null, null, null, null, null], type: 'DOUBLE' },
      { name: '7', data: [1, 2, 3, 4, 5, 6, 7], type: 'DOUBLE' },
      { name: '_runtime', data: [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7], type: 'DOUBLE' },
      { name: '_timestamp', data: [10.5, null, 12.5, NaN, 14.5, 15.5, 16.5], type: 'DOUBLE' },
      { name: 'nested', data: ['{"a": {"b": NaN}}', '[1, 2]', null, '3', '"s"', '{"x": 18446744073709551615}', null], type: 'STRING' },
    ], 3);

  it('gives the row reader’s rows on nulls, NaN/±Inf, INT64 beyond 2^53, booleans, JSON text, `_` and integer-like keys', async () => {
    const f = edge();
    const json = textColumnRule({ keys: { nested: { typeCounts: [{ type: 'number' }] }, img: { typeCounts: [{ type: 'string' }] } } });
    for (const rule of [textColumnRule(undefined), json]) {
      const expected = await viaRows(f, 0, rule);
      expect(expected).toHaveLength(7);
      for (const chunkRows of [undefined, 1, 2, 5]) expectSameRows((await viaBlocks(f, 0, rule, chunkRows)).rows, expected);
    }
    const { blocks } = await viaBlocks(f, 0, textColumnRule(undefined), 2);
    // Numbers go to columns (no object per cell); what is not a number stays row-wise.
    expect(blocks[0].numbers.map((c) => c.key)).toEqual(['7', 'loss', 'big', 'i32', 'nothing', '_runtime']);
    expect(blocks[0].rest?.[0]).toEqual({ flag: true, nested: '{"a": {"b": NaN}}' });
  });

  it('starts at fromStep in the middle of a row group and of a range, and skips whole groups by their statistics', async () => {
    const f = edge();
    const rule = textColumnRule(undefined);
    for (const fromStep of [1, 4, 5, 6, 7]) {
      const expected = await viaRows(f, fromStep, rule);
      for (const chunkRows of [undefined, 2]) expectSameRows((await viaBlocks(f, fromStep, rule, chunkRows)).rows, expected);
    }
    expect((await viaBlocks(f, 4, rule)).rows.map((r) => r.step)).toEqual([4, 5, 6]);
  });

  it('gives the row reader’s rows for every run of the all-shapes entity’s export', async () => {
    const entity = generateEntity({ seed: 7, preset: 'all-shapes' });
    const cache = new RunDataCache();
    const exporter = new ParquetExporter(join(dir, 'all-shapes'), cache, { rowsPerFile: 40 });
    let compared = 0;
    for (const project of entity.projects) {
      for (const run of project.runs) {
        const rule = textColumnRule(cache.statsOf(run).historyKeys);
        for (const file of await exporter.files(entity.name, project.name, run)) {
          const expected = await viaRows(file, 0, rule);
          expectSameRows((await viaBlocks(file, 0, rule)).rows, expected);
          expectSameRows((await viaBlocks(file, 0, rule, 7)).rows, expected);
          compared += expected.length;
        }
      }
    }
    expect(compared).toBeGreaterThan(100);
  });

  it('reads a DATA_PAGE v1 export (pyarrow’s default) as the v2 export of the same runs, every run of the all-shapes entity', async () => {
    const entity = generateEntity({ seed: 7, preset: 'all-shapes' });
    const cache = new RunDataCache();
    const v2 = new ParquetExporter(join(dir, 'all-shapes-v2'), cache, { rowsPerFile: 40 });
    const v1 = new ParquetExporter(join(dir, 'all-shapes-v1'), cache, { rowsPerFile: 40, pages: 'v1' });
    let compared = 0;
    for (const project of entity.projects) {
      for (const run of project.runs) {
        const rule = textColumnRule(cache.statsOf(run).historyKeys);
        const [files2, files1] = [await v2.files(entity.name, project.name, run), await v1.files(entity.name, project.name, run)];
        expect(files1).toHaveLength(files2.length);
        for (let i = 0; i < files2.length; i++) {
          const expected = await viaRows(files2[i], 0, rule);
          expectSameRows(await viaRows(files1[i], 0, rule), expected);
          expectSameRows((await viaBlocks(files1[i], 0, rule)).rows, expected);
          compared += expected.length;
        }
      }
    }
    expect(compared).toBeGreaterThan(100);
  });

  it('refuses what the row reader refuses, with the same message', async () => {
    const back = write('back.parquet', [{ name: '_step', data: [3n, 1n], type: 'INT64' }, { name: 'v', data: [1, 2], type: 'DOUBLE' }]);
    const noStep = write('nostep.parquet', [{ name: 'v', data: [1, 2], type: 'DOUBLE' }]);
    const nullStep = write('nullstep.parquet', [{ name: '_step', data: [1, null], type: 'DOUBLE' }]);
    for (const f of [back, noStep, nullStep]) {
      const rowError = await viaRows(f, 0, textColumnRule(undefined)).catch((e: unknown) => e);
      const blockError = await viaBlocks(f, 0, textColumnRule(undefined)).catch((e: unknown) => e);
      expect(rowError).toBeInstanceOf(SourceDataError);
      expect(blockError).toBeInstanceOf(SourceDataError);
      expect((blockError as Error).message).toBe((rowError as Error).message);
    }
  });
});
