/** An open parquet file's slices are the file's bytes, wherever they start and end; closed, it reads no more. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openParquetFile } from './parquet-file.ts';

describe('openParquetFile', () => {
  it('slices the file’s bytes, to its end when no end is given, none for an empty range', async () => {
    const bytes = Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 13) % 256));
    const path = join(mkdtempSync(join(tmpdir(), 'w2n-pqf-')), 'f.parquet');
    writeFileSync(path, bytes);
    const f = await openParquetFile(path);
    expect(f.byteLength).toBe(bytes.length);
    const ranges: Array<[number, number | undefined]> = [[0, 4], [0, bytes.length], [123_456, 200_001], [bytes.length - 8, undefined], [70_000, 70_000], [299_999, 300_000]];
    const slices = await Promise.all(ranges.map(([s, e]) => f.slice(s, e)));
    slices.forEach((got, k) => {
      const [s, e] = ranges[k];
      expect(Buffer.from(got).equals(bytes.subarray(s, e ?? bytes.length)), `${s}-${e}`).toBe(true);
    });
    await f.close();
    await expect(f.slice(0, 4)).rejects.toThrow();
  });
});
