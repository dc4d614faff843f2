import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parquetWriteFile } from 'hyparquet-writer';
import { describe, expect, it } from 'vitest';
import { parquetFileRows } from '../../src/sources/wandb/parquet-rows.ts';

const dir = mkdtempSync(join(tmpdir(), 'w2n-pq-spans-'));

/** A file of `rows` rows (step i, loss i/2, timestamp 100+i) in row groups of `groupRows`, as the W&B export writes them (no offset index). */
function file(name: string, rows: number, groupRows: number): string {
  const filename = join(dir, name);
  const steps = Array.from({ length: rows }, (_, i) => BigInt(i));
  parquetWriteFile({
    filename,
    columnData: [
      { name: '_step', data: steps as never, type: 'INT64' as never },
      { name: 'loss', data: steps.map((s) => Number(s) / 2) as never, type: 'DOUBLE' as never },
      { name: '_timestamp', data: steps.map((s) => 100 + Number(s)) as never, type: 'DOUBLE' as never },
    ],
    rowGroupSize: groupRows,
  });
  return filename;
}

const expected = (rows: number, from = 0) => Array.from({ length: rows - from }, (_, k) => ({ _step: from + k, loss: (from + k) / 2, _timestamp: 100 + from + k }));

async function read(path: string, chunkRows: number, fromStep = 0) {
  const out = [];
  for await (const r of parquetFileRows(path, { fromStep, where: 'history of e/p/r', chunkRows })) out.push(r);
  return out;
}

describe('parquetFileRows: how much of a row group is read at once', () => {
  it('a group up to four chunks long is read whole, every row once and equal', async () => {
    expect(await read(file('whole.parquet', 23, 8), 2)).toEqual(expected(23));
    expect(await read(file('whole-from.parquet', 23, 8), 2, 11)).toEqual(expected(23, 11));
  });

  it('a longer group is still read in chunks, every row once and equal', async () => {
    expect(await read(file('chunked.parquet', 45, 20), 2)).toEqual(expected(45));
    expect(await read(file('chunked-from.parquet', 45, 20), 3, 17)).toEqual(expected(45, 17));
  });
});
