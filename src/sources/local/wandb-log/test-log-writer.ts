/**
 * Test-only writer of `.wandb` logs: the container (header, 32 KiB blocks, chunking, CRC) and a
 * few `wandb_internal.Record` encoders, so tests can build, corrupt and truncate logs at will.
 * Not used by production code.
 */
import { BinaryWriter, WireType } from '@bufbuild/protobuf/wire';
import { crc32 } from 'node:zlib';

// The container's numbers written down again from ../shared/reference/wandb-local.md §2.1-2.2, not
// imported from container.ts: a wrong constant in the reader must not be mirrored by the writer its tests use.
const BLOCK_SIZE = 32768;
const CHUNK_HEADER_SIZE = 7;
const FILE_HEADER = Uint8Array.from([0x3a, 0x57, 0x26, 0x42, 0xe1, 0xbe, 0x00]);
const [CHUNK_FULL, CHUNK_FIRST, CHUNK_MIDDLE, CHUNK_LAST] = [1, 2, 3, 4];

/** Chunks records into a log exactly as the W&B writers do (zero padding, zero-length FIRST chunks). */
export function encodeLog(records: Uint8Array[]): { bytes: Uint8Array; offsets: number[] } {
  const parts: Uint8Array[] = [FILE_HEADER];
  let pos = FILE_HEADER.length;
  const offsets: number[] = [];
  for (const rec of records) {
    let rest = rec;
    let first = true;
    for (;;) {
      const left = BLOCK_SIZE - (pos % BLOCK_SIZE);
      if (left < CHUNK_HEADER_SIZE) {
        parts.push(new Uint8Array(left));
        pos += left;
        continue;
      }
      if (first) offsets.push(pos);
      const piece = rest.subarray(0, left - CHUNK_HEADER_SIZE);
      const fits = piece.length === rest.length;
      const type = first ? (fits ? CHUNK_FULL : CHUNK_FIRST) : fits ? CHUNK_LAST : CHUNK_MIDDLE;
      const head = new Uint8Array(CHUNK_HEADER_SIZE);
      const view = new DataView(head.buffer);
      view.setUint32(0, crc32(Buffer.concat([Uint8Array.of(type), piece])), true);
      view.setUint16(4, piece.length, true);
      head[6] = type;
      parts.push(head, piece);
      pos += CHUNK_HEADER_SIZE + piece.length;
      rest = rest.subarray(piece.length);
      first = false;
      if (fits) break;
    }
  }
  return { bytes: new Uint8Array(Buffer.concat(parts)), offsets };
}

export interface ItemIn {
  key?: string;
  nestedKey?: string[];
  value: string;
}

function items(w: BinaryWriter, field: number, list: ItemIn[] = []): void {
  for (const it of list) {
    w.tag(field, WireType.LengthDelimited).fork();
    if (it.key !== undefined) w.tag(1, WireType.LengthDelimited).string(it.key);
    for (const k of it.nestedKey ?? []) w.tag(2, WireType.LengthDelimited).string(k);
    w.tag(16, WireType.LengthDelimited).string(it.value);
    w.join();
  }
}

function timestamp(w: BinaryWriter, field: number, seconds: number): void {
  const s = Math.floor(seconds);
  w.tag(field, WireType.LengthDelimited).fork().tag(1, WireType.Varint).int64(s).tag(2, WireType.Varint).int32(Math.round((seconds - s) * 1e9)).join();
}

/** Wraps a body as Record field `field`, with `num`. */
function record(field: number, num: number, body: (w: BinaryWriter) => void): Uint8Array {
  const w = new BinaryWriter();
  w.tag(1, WireType.Varint).int64(num);
  w.tag(field, WireType.LengthDelimited).fork();
  body(w);
  w.join();
  return w.finish();
}

let counter = 0;
const next = (): number => ++counter;

export const rec = {
  header(producer = ''): Uint8Array {
    return record(21, next(), (w) => {
      if (producer) w.tag(1, WireType.LengthDelimited).fork().tag(1, WireType.LengthDelimited).string(producer).join();
    });
  },
  run(r: { runId: string; entity?: string; project?: string; displayName?: string; tags?: string[]; config?: ItemIn[]; startTime?: number; notes?: string; host?: string }): Uint8Array {
    return record(17, next(), (w) => {
      w.tag(1, WireType.LengthDelimited).string(r.runId);
      if (r.entity) w.tag(2, WireType.LengthDelimited).string(r.entity);
      if (r.project) w.tag(3, WireType.LengthDelimited).string(r.project);
      if (r.config) {
        w.tag(4, WireType.LengthDelimited).fork();
        items(w, 1, r.config);
        w.join();
      }
      if (r.displayName) w.tag(8, WireType.LengthDelimited).string(r.displayName);
      if (r.notes) w.tag(9, WireType.LengthDelimited).string(r.notes);
      for (const t of r.tags ?? []) w.tag(10, WireType.LengthDelimited).string(t);
      if (r.host) w.tag(13, WireType.LengthDelimited).string(r.host);
      if (r.startTime !== undefined) timestamp(w, 17, r.startTime);
      w.tag(999, WireType.Varint).int32(7); // an unknown field: decoders must skip it
    });
  },
  history(list: ItemIn[], step?: number): Uint8Array {
    return record(2, next(), (w) => {
      items(w, 1, list);
      if (step !== undefined) {
        w.tag(2, WireType.LengthDelimited).fork();
        if (step !== 0) w.tag(1, WireType.Varint).int64(step);
        w.join();
      }
    });
  },
  summary(update: ItemIn[], remove: ItemIn[] = []): Uint8Array {
    return record(3, next(), (w) => {
      items(w, 1, update);
      items(w, 2, remove);
    });
  },
  config(update: ItemIn[], remove: ItemIn[] = []): Uint8Array {
    return record(5, next(), (w) => {
      items(w, 1, update);
      items(w, 2, remove);
    });
  },
  output(line: string, stream: 'stdout' | 'stderr' = 'stdout', ts = 1700000000.5, raw = true): Uint8Array {
    return record(raw ? 13 : 4, next(), (w) => {
      if (stream === 'stdout') w.tag(1, WireType.Varint).int32(1);
      timestamp(w, 2, ts);
      w.tag(3, WireType.LengthDelimited).string(line);
    });
  },
  stats(ts: number, list: { key: string; value: string }[]): Uint8Array {
    return record(7, next(), (w) => {
      timestamp(w, 2, ts);
      items(w, 3, list);
    });
  },
  telemetry(cliVersion: string): Uint8Array {
    return record(11, next(), (w) => w.tag(5, WireType.LengthDelimited).string(cliVersion));
  },
  exit(exitCode: number, runtime = 10): Uint8Array {
    return record(18, next(), (w) => {
      if (exitCode) w.tag(1, WireType.Varint).int32(exitCode);
      w.tag(2, WireType.Varint).int32(runtime);
    });
  },
  /** A record of `size` bytes (an output line), for block-spanning tests. */
  big(size: number, fill = 'x'): Uint8Array {
    return rec.output(fill.repeat(size) + '\n');
  },
};
