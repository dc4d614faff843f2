import { open } from 'node:fs/promises';
import type { AsyncBuffer } from 'hyparquet';

/** A downloaded parquet file as hyparquet reads it, held open until `close`. */
export interface OpenParquetFile extends AsyncBuffer {
  close(): Promise<void>;
}

/**
 * A file as hyparquet's `AsyncBuffer`, opened once, each slice one positioned read into a buffer of its
 * own size. hyparquet's `asyncBufferFromFile` opens a read stream per slice (open, 64 KB reads, concat,
 * close): 12 slices per 20,000-row group of (a)'s export, ~300 opens for 5M points.
 */
export async function openParquetFile(path: string): Promise<OpenParquetFile> {
  const handle = await open(path, 'r');
  let size: number;
  try {
    size = (await handle.stat()).size;
  } catch (error) {
    await handle.close();
    throw error;
  }
  return {
    byteLength: size,
    async slice(start: number, end = size): Promise<ArrayBuffer> {
      const n = Math.max(0, Math.min(end, size) - start);
      const bytes = new Uint8Array(n);
      for (let got = 0; got < n; ) {
        const { bytesRead } = await handle.read(bytes, got, n - got, start + got);
        if (bytesRead === 0) throw new Error(`${path}: ended at byte ${start + got} of ${size}`);
        got += bytesRead;
      }
      return bytes.buffer;
    },
    close: () => handle.close(),
  };
}
