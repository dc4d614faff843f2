/**
 * A deliberately small, test-only reader of `.wandb` logs, written from the format description in
 * ../shared/reference/wandb-local.md §2-3 and sharing no code with src/sources/local, so the
 * sample tests can count what a folder holds independently of the reader under test.
 */
import { crc32 } from 'node:zlib';

const BLOCK = 32768;
const HEADER = 7;

export interface LogWalk {
  records: Buffer[];
  /** The file ends inside a chunk or inside a multi-chunk record. */
  truncated: boolean;
  /** Chunks whose CRC did not match (the rest of their block is skipped). */
  badChunks: number;
}

/** Walks blocks and chunks (§2.4), reassembling records; never throws on damage. */
export function walkLog(buf: Buffer): LogWalk {
  const records: Buffer[] = [];
  let truncated = false;
  let badChunks = 0;
  if (buf.length < HEADER) return { records, truncated, badChunks };
  let pos = HEADER;
  let open: Buffer[] | undefined;
  while (pos < buf.length) {
    const left = BLOCK - (pos % BLOCK);
    if (left < HEADER) { pos += left; continue; }
    if (pos + HEADER > buf.length) { truncated = true; break; }
    const sum = buf.readUInt32LE(pos);
    const len = buf.readUInt16LE(pos + 4);
    const type = buf[pos + 6];
    if (sum === 0 && len === 0 && type === 0) { pos += left; continue; }
    if (pos + HEADER + len > buf.length) { truncated = true; break; }
    if (crc32(buf.subarray(pos + 6, pos + HEADER + len)) !== sum || type < 1 || type > 4) {
      badChunks++;
      open = undefined;
      pos += left;
      continue;
    }
    const payload = buf.subarray(pos + HEADER, pos + HEADER + len);
    pos += HEADER + len;
    if (type === 1) { open = undefined; records.push(Buffer.from(payload)); }
    else if (type === 2) open = [payload];
    else if (open) {
      open.push(payload);
      if (type === 4) { records.push(Buffer.concat(open)); open = undefined; }
    }
  }
  if (open) truncated = true;
  return { records, truncated, badChunks };
}

export interface PbField {
  no: number;
  /** Varint value for wire type 0, else undefined. */
  int?: bigint;
  /** Bytes for wire type 2. */
  bytes?: Buffer;
}

/** Top-level fields of one protobuf message (wire types 0, 1, 2, 5). */
export function pbFields(buf: Buffer): PbField[] {
  const out: PbField[] = [];
  let i = 0;
  const varint = (): bigint => {
    let v = 0n;
    let shift = 0n;
    for (;;) {
      const b = buf[i++];
      v |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return v;
      shift += 7n;
    }
  };
  while (i < buf.length) {
    const tag = Number(varint());
    const no = tag >>> 3;
    const wt = tag & 7;
    if (wt === 0) out.push({ no, int: varint() });
    else if (wt === 1) i += 8;
    else if (wt === 5) i += 4;
    else if (wt === 2) {
      const len = Number(varint());
      out.push({ no, bytes: buf.subarray(i, i + len) });
      i += len;
    } else throw new Error(`wire type ${wt}`);
  }
  return out;
}

export const str = (f: PbField): string => (f.bytes ?? Buffer.alloc(0)).toString('utf8');

/** JSON with Python's NaN / Infinity / -Infinity tokens (outside strings) read as numbers. */
export function parseLooseJson(text: string): unknown {
  let out = '';
  let inStr = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inStr) {
      out += c;
      if (c === '\\') out += text[++i];
      else if (c === '"') inStr = false;
    } else if (c === '"') { inStr = true; out += c; }
    else if (text.startsWith('NaN', i)) { out += '"\\u0000NaN"'; i += 2; }
    else if (text.startsWith('-Infinity', i)) { out += '"\\u0000-Inf"'; i += 8; }
    else if (text.startsWith('Infinity', i)) { out += '"\\u0000Inf"'; i += 7; }
    else out += c;
  }
  return JSON.parse(out, (_k, v: unknown) =>
    v === '\u0000NaN' ? NaN : v === '\u0000Inf' ? Infinity : v === '\u0000-Inf' ? -Infinity : v);
}
