import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';

/** A file to put into a tar archive under `name` (forward slashes, relative). */
export interface TarSource {
  name: string;
  localPath: string;
  mtimeMs?: number;
}

const BLOCK = 512;
const MAX_OCTAL_SIZE = 8 ** 11 - 1;

function writeString(buf: Buffer, offset: number, length: number, text: string): void {
  buf.write(text, offset, Math.min(length, Buffer.byteLength(text)), 'utf8');
}

function writeOctal(buf: Buffer, offset: number, length: number, value: number): void {
  writeString(buf, offset, length, Math.floor(value).toString(8).padStart(length - 1, '0') + '\0');
}

/** One ustar header block (type '0' file or 'x' PAX extended header). */
export function tarHeader(name: string, size: number, mtimeSec: number, type: '0' | 'x'): Buffer {
  const h = Buffer.alloc(BLOCK);
  writeString(h, 0, 100, name);
  writeOctal(h, 100, 8, 0o644);
  writeOctal(h, 108, 8, 0);
  writeOctal(h, 116, 8, 0);
  writeOctal(h, 124, 12, size);
  writeOctal(h, 136, 12, mtimeSec);
  h.fill(0x20, 148, 156); // checksum field counts as spaces while summing
  h.write(type, 156, 'ascii');
  h.write('ustar\u000000', 257, 'binary');
  let sum = 0;
  for (const b of h) sum += b;
  writeString(h, 148, 8, sum.toString(8).padStart(6, '0') + '\0 ');
  return h;
}

/** PAX record `"<len> path=<name>\n"`, where `<len>` counts the whole record including itself. */
function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  let len = Buffer.byteLength(body) + 1;
  while (String(len).length + Buffer.byteLength(body) !== len) len = String(len).length + Buffer.byteLength(body);
  return `${len}${body}`;
}

function padding(size: number): Buffer {
  const rest = size % BLOCK;
  return Buffer.alloc(rest === 0 ? 0 : BLOCK - rest);
}

/** Names that fit a plain ustar header: ASCII and at most 100 bytes. Others get a PAX `path` record. */
function needsPax(name: string): boolean {
  return name.length > 100 || !/^[\x20-\x7e]*$/.test(name);
}

/**
 * Streams a tar archive: header, file bytes read in chunks, padding; two zero blocks at the end.
 * The file's size is taken when its header is written; a file that changes size meanwhile is an error.
 */
export async function* tarStream(sources: readonly TarSource[]): AsyncGenerator<Buffer> {
  for (const src of sources) {
    const st = await stat(src.localPath);
    if (!st.isFile()) throw new Error(`not a regular file: ${src.name}`);
    if (st.size > MAX_OCTAL_SIZE) throw new Error(`file too large for a tar entry: ${src.name}`);
    const mtime = Math.floor((src.mtimeMs ?? st.mtimeMs) / 1000);
    if (needsPax(src.name)) {
      const rec = Buffer.from(paxRecord('path', src.name), 'utf8');
      yield tarHeader(`PaxHeader/${asciiTail(src.name)}`, rec.length, mtime, 'x');
      yield rec;
      yield padding(rec.length);
    }
    yield tarHeader(needsPax(src.name) ? asciiTail(src.name) : src.name, st.size, mtime, '0');
    let read = 0;
    if (st.size > 0) {
      for await (const chunk of createReadStream(src.localPath, { start: 0, end: st.size - 1, highWaterMark: 256 * 1024 })) {
        read += (chunk as Buffer).length;
        yield chunk as Buffer;
      }
    }
    if (read !== st.size) throw new Error(`file changed size while being archived: ${src.name}`);
    yield padding(st.size);
  }
  yield Buffer.alloc(BLOCK * 2);
}

function asciiTail(name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]/g, '_');
  return ascii.length > 90 ? ascii.slice(ascii.length - 90) : ascii;
}

/** tar + gzip into memory (file-set packages are at most a few MB). */
export async function tarGzBuffer(sources: readonly TarSource[]): Promise<Buffer> {
  const chunks: Buffer[] = [];
  await pipeline(Readable.from(tarStream(sources)), createGzip(), async function (gz: AsyncIterable<Buffer>) {
    for await (const c of gz) chunks.push(c);
  });
  return Buffer.concat(chunks);
}
