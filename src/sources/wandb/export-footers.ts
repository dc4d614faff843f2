/**
 * The export files' `_step` ranges before their bytes, so they can be downloaded in step order and each
 * read as soon as it has landed, while the next downloads. Parquet keeps its metadata at the end of the
 * file (a thrift footer, its length, `PAR1`): one ranged request for the last bytes gives it. W&B serves
 * the export from signed storage URLs (GCS, S3), which honour `Range`, suffix ranges included (GCS:
 * cloud.google.com/storage/docs/xml-api/get-object-download, "Range"; S3: GetObject's `Range` parameter;
 * both per RFC 9110 §14.1.2 `bytes=-N`). A server that ignores it answers 200 with the whole file: that
 * file is then simply downloaded.
 */
import { readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { parquetMetadata } from 'hyparquet';
import { downloadToFile, type Route } from './download.ts';
import { parquetStepRange, stepRangeOf } from './parquet-rows.ts';

/** Bytes asked for at first: a footer of 50 columns' statistics over 25 row groups is ~20 KB. */
export const FOOTER_GUESS_BYTES = 64 * 1024;

export interface ExportFooter {
  /** `_step` range, or undefined when the file's statistics do not record it (or it is unreadable so). */
  range: { min: number; max: number } | undefined;
  /** The file's whole bytes at this path, when the server answered the ranged request with all of them. */
  whole?: string;
}

export interface FooterRequest {
  route: (url: string) => Route;
  url: string;
  /** Where the whole file goes when the server ignores Range (its name is the file's final one). */
  dir: string;
  fileName: string;
  what: string;
  signal?: AbortSignal;
  /** Bytes asked for at first. @default FOOTER_GUESS_BYTES */
  guess?: number;
}

/**
 * The step range of one export file from its footer, fetched with a suffix range (twice when the footer
 * is longer than the first guess). A footer that does not parse gives an unknown range: the caller then
 * reads the files as before (all downloaded, merged by step), where a damaged file is reported as such.
 */
export async function exportFooter(o: FooterRequest): Promise<ExportFooter> {
  let want = o.guess ?? FOOTER_GUESS_BYTES;
  for (let attempt = 0; attempt < 2; attempt++) {
    const tailName = `${o.fileName}.tail`;
    const d = await downloadToFile({ route: o.route, url: o.url, dir: o.dir, fileName: tailName, what: `${o.what} (footer)`, signal: o.signal, range: `bytes=-${want}` });
    if (!d.partOf) {
      // 200: the whole file came.
      const path = join(o.dir, o.fileName);
      await rename(d.path, path);
      return { range: await parquetStepRange(path).catch(() => undefined), whole: path };
    }
    const tail = await readFile(d.path);
    await rm(d.path, { force: true });
    if (tail.length < 8 || tail.readUInt32LE(tail.length - 4) !== 0x31524150) return { range: undefined };
    const footer = tail.readUInt32LE(tail.length - 8) + 8;
    if (footer <= tail.length) {
      try {
        return { range: stepRangeOf(parquetMetadata(tail)) };
      } catch {
        return { range: undefined };
      }
    }
    // The footer is longer than what came, and the file is longer still: ask for exactly the footer.
    if (d.partOf.start === 0 || footer > d.partOf.size) return { range: undefined };
    want = footer;
  }
  return { range: undefined };
}
