/**
 * The page reader of numeric columns gives hyparquet's values, cell by cell, on every shape it takes
 * (each type, required and nullable with no, some and only nulls, PLAIN and dictionary pages, snappy
 * and uncompressed, one page or many per row group, DATA_PAGE_V2 and DATA_PAGE v1 pages), and leaves
 * every other shape to hyparquet.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { copyFileSync, readFileSync } from 'node:fs';
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects } from 'hyparquet';
import { parquetHeader } from 'hyparquet/src/column.js';
import { parquetWriteFile } from 'hyparquet-writer';
import { describe, expect, it } from 'vitest';
import { rewriteAsDataPageV1 } from '../../../emulators/wandb/server/parquet-v1.ts';
import { numericColumns, readNumericGroup } from './parquet-numbers.ts';

const dir = mkdtempSync(join(tmpdir(), 'w2n-pqn-'));
const ROWS = 30;

const samples: Record<string, (i: number) => number | bigint> = {
  DOUBLE: (i) => [0.1, -0, NaN, Infinity, -Infinity, 1e308, 5e-324, 2.5][i % 8] * (i % 3 === 0 ? 1 : -1),
  FLOAT: (i) => [0.5, -0, NaN, Infinity, -1.25, 3.4e38, 1e-45][i % 7],
  INT64: (i) => [0n, -5n, 2n ** 60n + 1n, -(2n ** 62n) - 3n, 9007199254740993n, 2n ** 63n - 1n, -(2n ** 63n)][i % 7],
  INT32: (i) => [0, -1, 2 ** 31 - 1, -(2 ** 31), 7][i % 5],
};
const nullPatterns: Record<string, ((i: number) => boolean) | undefined> = {
  required: undefined,
  none: () => false,
  some: (i) => i % 4 === 1 || (i >= 10 && i < 17),
  only: () => true,
};

interface Spec { name: string; type: string; data: unknown[]; nullable: boolean; encoding?: 'PLAIN' | 'RLE_DICTIONARY'; codec: 'SNAPPY' | 'UNCOMPRESSED' }

function specs(): Spec[] {
  const out: Spec[] = [];
  for (const type of Object.keys(samples)) {
    for (const [nulls, isNull] of Object.entries(nullPatterns)) {
      for (const encoding of ['PLAIN', 'RLE_DICTIONARY', undefined] as const) {
        for (const codec of ['SNAPPY', 'UNCOMPRESSED'] as const) {
          const data = Array.from({ length: ROWS }, (_, i) => (isNull?.(i) ? null : samples[type](i)));
          out.push({ name: `${type}_${nulls}_${encoding ?? 'auto'}_${codec}`, type, data, nullable: isNull !== undefined, encoding, codec });
        }
      }
    }
  }
  return out;
}

function write(name: string, cols: Spec[], rowGroupSize: number, pageSize?: number): string {
  const filename = join(dir, name);
  parquetWriteFile({
    filename,
    rowGroupSize,
    pageSize,
    columnData: cols.map((c) => ({ name: c.name, data: c.data as never, type: c.type as never, nullable: c.nullable, codec: c.codec, ...(c.encoding ? { encoding: c.encoding } : {}) })),
  });
  return filename;
}

/** Every cell of every numeric column equals hyparquet's; returns how many cells were compared. */
async function compareWithHyparquet(path: string, names: string[]): Promise<number> {
  const file = await asyncBufferFromFile(path);
  const metadata = await parquetMetadataAsync(file);
  const columns = numericColumns(metadata);
  expect([...columns.keys()].sort()).toEqual([...names].sort());
  let compared = 0;
  let groupStart = 0;
  for (const group of metadata.row_groups) {
    const rows = Number(group.num_rows);
    const expected = await parquetReadObjects({ file, metadata, rowStart: groupStart, rowEnd: groupStart + rows });
    for (const col of columns.values()) {
      const cells = await readNumericGroup(file, group.columns[col.index], col, rows);
      expect(cells, `${col.name}: read here, not left to hyparquet`).toBeDefined();
      const want = expected.map((r) => r[col.name] as number | bigint | null);
      const got = Array.from({ length: rows }, (_, i) => (cells!.present && cells!.present[i] === 0 ? null : cells!.values[i]));
      // Object.is: NaN equals NaN, -0 differs from 0; INT64 as Number(bigint), as the row path reads it.
      got.forEach((v, i) => {
        const w = want[i] === null || want[i] === undefined ? null : Number(want[i]);
        expect(Object.is(v, w) || (v !== null && w !== null && Number.isNaN(v) && Number.isNaN(w)), `${col.name} row ${groupStart + i}: ${v} vs ${w}`).toBe(true);
      });
      // A mask only where a cell is missing (the block reader's rule for hyparquet's columns too).
      expect(cells!.present !== undefined, `${col.name}: mask`).toBe(want.some((w) => w === null || w === undefined));
      compared += rows;
    }
    groupStart += rows;
  }
  return compared;
}

describe('numeric columns read page by page', () => {
  const all = specs();

  it('equal hyparquet’s cells on every shape, one page per row group and many', async () => {
    let compared = 0;
    for (const [rowGroupSize, pageSize] of [[ROWS, undefined], [7, undefined], [11, 24]] as const) {
      compared += await compareWithHyparquet(write(`shapes-${rowGroupSize}-${pageSize}.parquet`, all, rowGroupSize, pageSize), all.map((s) => s.name));
    }
    expect(compared).toBe(3 * all.length * ROWS);
  });

  it('equal hyparquet’s cells on DATA_PAGE v1 pages (pyarrow’s default), one page per row group and many', async () => {
    let compared = 0;
    for (const [rowGroupSize, pageSize] of [[ROWS, undefined], [7, undefined], [11, 24]] as const) {
      const v2 = write(`shapes-v1-${rowGroupSize}-${pageSize}.parquet`, all, rowGroupSize, pageSize);
      const v1 = `${v2}.v1`;
      copyFileSync(v2, v1);
      rewriteAsDataPageV1(v1);
      // The rewrite holds v1 pages only, and hyparquet (its own v1 reader) reads the cells the v2 file has.
      expect(pageTypes(v1)).toEqual(new Set(['DATA_PAGE', 'DICTIONARY_PAGE']));
      const [a, b] = await Promise.all([v2, v1].map(async (f) => parquetReadObjects({ file: await asyncBufferFromFile(f) })));
      expect(b.length).toBe(ROWS);
      b.forEach((row, i) => {
        for (const [k, v] of Object.entries(a[i])) expect(Object.is(row[k], v) || (Number.isNaN(row[k]) && Number.isNaN(v)), `${k} row ${i}`).toBe(true);
      });
      compared += await compareWithHyparquet(v1, all.map((s) => s.name));
    }
    expect(compared).toBe(3 * all.length * ROWS);
  });

  it('leaves other shapes to hyparquet: converted and logical types, strings, booleans, nested columns', async () => {
    const path = join(dir, 'others.parquet');
    parquetWriteFile({
      filename: path,
      columnData: [
        { name: 'd', data: [1.5, 2.5], type: 'DOUBLE' },
        { name: 'ts', data: [new Date(1), new Date(2)], type: 'TIMESTAMP' },
        { name: 's', data: ['a', 'b'], type: 'STRING' },
        { name: 'b', data: [true, false], type: 'BOOLEAN' },
        { name: 'j', data: [{ x: 1 }, { x: 2 }], type: 'JSON' },
      ],
    });
    const metadata = await parquetMetadataAsync(await asyncBufferFromFile(path));
    expect([...numericColumns(metadata).keys()]).toEqual(['d']);
  });
});

/** The types of every page of a file without page indexes (pages run from the magic to the footer). */
function pageTypes(path: string): Set<string> {
  const bytes = readFileSync(path);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // The footer's length is in the 4 bytes before the closing magic; pages run from byte 4 to the footer.
  const footer = bytes.length - 8 - view.getUint32(bytes.length - 8, true);
  const reader = { view, offset: 4 };
  const types = new Set<string>();
  while (reader.offset < footer) {
    const h = parquetHeader(reader);
    types.add(h.type);
    reader.offset += h.compressed_page_size;
  }
  return types;
}
