import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parquetWriteFile } from 'hyparquet-writer';
import { describe, expect, it } from 'vitest';
import { SourceDataError } from '../../core/errors.ts';
import { parquetFileRows, textColumnRule } from './parquet-rows.ts';

const dir = mkdtempSync(join(tmpdir(), 'w2n-pq-'));

function write(name: string, steps: bigint[] | number[], extra: { name: string; data: unknown[]; type?: string }[], rowGroupSize?: number): string {
  const filename = join(dir, name);
  const stepType = typeof steps[0] === 'bigint' ? 'INT64' : 'DOUBLE';
  parquetWriteFile({
    filename,
    columnData: [{ name: '_step', data: steps as never, type: stepType as never }, ...extra.map((c) => ({ name: c.name, data: c.data as never, ...(c.type ? { type: c.type as never } : {}) }))],
    rowGroupSize,
  });
  return filename;
}

async function rowsOf(path: string, fromStep = 0, rule = textColumnRule(undefined)) {
  const out = [];
  for await (const r of parquetFileRows(path, { fromStep, where: 'history of e/p/r', chunkRows: 2, textRule: rule })) out.push(r);
  return out;
}

describe('parquetFileRows', () => {
  it('turns INT64 steps into numbers, drops nulls, decodes media JSON, reads in small row ranges', async () => {
    const media = JSON.stringify({ _type: 'image-file', path: 'media/images/a.png', size: 3 });
    const f = write('a.parquet', [0n, 1n, 2n, 3n, 4n], [
      { name: 'loss', data: [0.5, null, NaN, Infinity, 1], type: 'DOUBLE' },
      { name: 'img', data: [null, media, null, null, '{not json'], type: 'STRING' },
      { name: '_timestamp', data: [10.5, 11.5, 12.5, 13.5, 14.5], type: 'DOUBLE' },
    ], 3);
    const rows = await rowsOf(f);
    expect(rows.map((r) => r._step)).toEqual([0, 1, 2, 3, 4]);
    expect(rows[0]).toEqual({ _step: 0, loss: 0.5, _timestamp: 10.5 });
    expect(rows[1]).toEqual({ _step: 1, img: { _type: 'image-file', path: 'media/images/a.png', size: 3 }, _timestamp: 11.5 });
    expect(rows[2].loss).toBeNaN();
    expect(rows[3].loss).toBe(Infinity);
    expect(rows[4].img).toBe('{not json');
    expect((await rowsOf(f, 3)).map((r) => r._step)).toEqual([3, 4]);
  });

  it('accepts DOUBLE steps and uses historyKeys to tell JSON columns from string columns', async () => {
    const f = write('b.parquet', [5, 6], [
      { name: 'nested', data: ['{"a": {"b": NaN}}', '[1, 2]'], type: 'STRING' },
      { name: 'label', data: ['{"x": 1}', 'plain'], type: 'STRING' },
    ]);
    const rule = textColumnRule({ lastStep: 6, keys: { 'nested.a.b': { typeCounts: [{ type: 'number', count: 1 }] }, label: { typeCounts: [{ type: 'string', count: 2 }] } } });
    const rows = await rowsOf(f, 0, rule);
    expect((rows[0].nested as { a: { b: number } }).a.b).toBeNaN();
    expect(rows[1].nested).toEqual([1, 2]);
    expect(rows[0].label).toBe('{"x": 1}');
  });

  it('refuses a file whose steps go backwards, naming the run', async () => {
    const f = write('c.parquet', [3n, 1n], [{ name: 'v', data: [1, 2], type: 'DOUBLE' }]);
    await expect(rowsOf(f)).rejects.toThrow(SourceDataError);
    await expect(rowsOf(f)).rejects.toThrow(/e\/p\/r.*_step 1 follows 3/);
  });
});
