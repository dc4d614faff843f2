/**
 * Streaming reader for the `.wandb` transaction-log container: a 7-byte W&B header followed by a
 * LevelDB-log-style stream of 32 KiB blocks holding FULL/FIRST/MIDDLE/LAST chunks.
 * Each chunk: u32 CRC-32/IEEE over (type byte ‖ payload), u16 payload length, u8 type — little-endian.
 *
 * The file is read one block at a time through a FileHandle, so memory stays at one block plus the
 * record being reassembled, whatever the file size. Damage never throws: intact records before and
 * after it are yielded, and each damaged region is reported once through `onDamage`.
 */
import { open } from 'node:fs/promises';
import { crc32 } from 'node:zlib';

export const BLOCK_SIZE = 32768;
export const CHUNK_HEADER_SIZE = 7;
export const FILE_HEADER = Uint8Array.from([0x3a, 0x57, 0x26, 0x42, 0xe1, 0xbe, 0x00]); // ":W&B", 0xBEE1 LE, version 0

export const CHUNK_FULL = 1;
export const CHUNK_FIRST = 2;
export const CHUNK_MIDDLE = 3;
export const CHUNK_LAST = 4;

/** One contiguous damaged region of the log. */
export interface LogDamage {
  /** File offset where the damage starts. */
  offset: number;
  /** Bytes skipped from `offset` (not all of them need be bad). */
  bytes: number;
  /** Records known to be lost (a partly reassembled record counts as one); a lower bound. */
  records: number;
  reason: string;
}

export interface LogPayload {
  /** File offset of the record's first chunk header. */
  offset: number;
  payload: Uint8Array;
}

export interface ReadLogOptions {
  onDamage?: (d: LogDamage) => void;
  signal?: AbortSignal;
}

/**
 * Yields every intact record payload of a `.wandb` file, in order.
 * On a bad checksum the rest of that block is skipped: a damaged chunk's length field cannot be
 * trusted, so the next position known to start a chunk is the next block boundary (the same rule
 * LevelDB's and W&B's Go reader follow). Continuation chunks of a broken record are dropped too.
 */
export async function* readLogRecords(path: string, opts: ReadLogOptions = {}): AsyncGenerator<LogPayload> {
  const fh = await open(path, 'r');
  try {
    const size = (await fh.stat()).size;
    const damage = new DamageTracker(opts.onDamage);
    if (size < CHUNK_HEADER_SIZE) {
      damage.add(0, size, 0, size === 0 ? 'empty log (0 bytes, no header)' : 'log shorter than its 7-byte header');
      damage.flush();
      return;
    }
    const block = new Uint8Array(BLOCK_SIZE);
    const view = new DataView(block.buffer);
    const headerLen = await readFully(fh, block, 0, CHUNK_HEADER_SIZE);
    if (headerLen < CHUNK_HEADER_SIZE || !FILE_HEADER.every((b, i) => block[i] === b)) {
      damage.add(0, size, 0, 'not a W&B transaction log (bad header)');
      damage.flush();
      return;
    }
    // Record being reassembled from FIRST/MIDDLE chunks.
    let parts: Uint8Array[] | null = null;
    let partsOffset = 0;
    let partsBytes = 0;
    for (let blockStart = 0; blockStart < size; blockStart += BLOCK_SIZE) {
      opts.signal?.throwIfAborted();
      const blockLen = await readFully(fh, block, blockStart, Math.min(BLOCK_SIZE, size - blockStart));
      const isLastBlock = blockStart + blockLen >= size || blockLen < BLOCK_SIZE;
      let pos = blockStart === 0 ? CHUNK_HEADER_SIZE : 0;
      while (pos < blockLen) {
        const left = BLOCK_SIZE - pos;
        if (left < CHUNK_HEADER_SIZE) {
          // Block-end padding: must be zeros (if not, it is damage, but nothing is lost).
          if (!allZero(block, pos, blockLen)) damage.add(blockStart + pos, blockLen - pos, 0, 'non-zero block padding');
          break;
        }
        if (blockLen - pos < CHUNK_HEADER_SIZE) {
          damage.add(blockStart + pos, blockLen - pos, parts ? 1 : 0, 'log ends inside a chunk header');
          parts = null;
          break;
        }
        const crc = view.getUint32(pos, true);
        const len = view.getUint16(pos + 4, true);
        const type = block[pos + 6];
        const at = blockStart + pos;
        if (crc === 0 && len === 0 && type === 0) {
          // A zeroed chunk header marks a zero-filled block remainder (Go reader's errZeroChunk).
          if (!allZero(block, pos, blockLen)) damage.add(at, blockLen - pos, parts ? 1 : 0, 'zeroed chunk header before data');
          break;
        }
        const end = pos + CHUNK_HEADER_SIZE + len;
        if (end > blockLen) {
          const truncated = isLastBlock && blockLen < BLOCK_SIZE && end <= BLOCK_SIZE;
          const reason = truncated ? 'log truncated: last chunk is missing payload bytes' : 'chunk length crosses the block end';
          damage.add(at, blockLen - pos, parts || type === CHUNK_FULL || type === CHUNK_FIRST ? 1 : 0, reason);
          parts = null;
          damage.resyncing = true;
          break;
        }
        if (type < CHUNK_FULL || type > CHUNK_LAST || crc32(block.subarray(pos + 6, end)) !== crc) {
          const reason = type < CHUNK_FULL || type > CHUNK_LAST ? `unknown chunk type ${type}` : 'checksum mismatch';
          damage.add(at, blockLen - pos, 1, reason);
          parts = null;
          damage.resyncing = true;
          break;
        }
        const payload = block.subarray(pos + CHUNK_HEADER_SIZE, end);
        pos = end;
        if (type === CHUNK_FULL || type === CHUNK_FIRST) {
          if (parts) damage.add(partsOffset, at - partsOffset, 1, 'record missing its LAST chunk');
          damage.resyncing = false;
          if (type === CHUNK_FULL) {
            damage.flush();
            yield { offset: at, payload: payload.slice() };
            parts = null;
          } else {
            parts = [payload.slice()];
            partsOffset = at;
            partsBytes = payload.length;
          }
          continue;
        }
        if (!parts) {
          // Orphan MIDDLE/LAST: the tail of a record already reported when we resynced; count it only otherwise.
          damage.add(at, blockStart + end - at, damage.resyncing ? 0 : 1, 'chunk without its FIRST chunk');
          continue;
        }
        parts.push(payload.slice());
        partsBytes += payload.length;
        if (type === CHUNK_LAST) {
          const whole = new Uint8Array(partsBytes);
          let o = 0;
          for (const p of parts) {
            whole.set(p, o);
            o += p.length;
          }
          parts = null;
          damage.flush();
          yield { offset: partsOffset, payload: whole };
        }
      }
    }
    if (parts) damage.add(partsOffset, size - partsOffset, 1, 'log truncated inside a multi-chunk record');
    damage.flush();
  } finally {
    await fh.close();
  }
}

/** Merges adjacent damage into one report so a broken region yields one notice, not one per chunk. */
class DamageTracker {
  private pending: LogDamage | null = null;
  resyncing = false;
  constructor(private readonly sink?: (d: LogDamage) => void) {}
  add(offset: number, bytes: number, records: number, reason: string): void {
    const p = this.pending;
    if (p && offset <= p.offset + p.bytes + BLOCK_SIZE && offset >= p.offset) {
      p.bytes = Math.max(p.bytes, offset + bytes - p.offset);
      p.records += records;
      return;
    }
    this.flush();
    this.pending = { offset, bytes, records, reason };
  }
  flush(): void {
    if (this.pending) this.sink?.(this.pending);
    this.pending = null;
  }
}

function allZero(b: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (b[i] !== 0) return false;
  return true;
}

/** Reads up to `length` bytes; fewer only when the file shrank while being read (treated as truncation). */
async function readFully(fh: import('node:fs/promises').FileHandle, buf: Uint8Array, position: number, length: number): Promise<number> {
  let done = 0;
  while (done < length) {
    const { bytesRead } = await fh.read(buf, done, length - done, position + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return done;
}
