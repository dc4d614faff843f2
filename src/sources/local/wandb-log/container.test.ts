import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BLOCK_SIZE, readLogRecords, type LogDamage } from './container.ts';
import { encodeLog } from './test-log-writer.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'w2n-log-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A payload of `n` bytes whose content identifies it (`id` in the first bytes). */
function payload(id: number, n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (id * 31 + i) & 0xff;
  return b;
}

/** Payloads as base64 strings: cheap to compare, readable in a failure diff. */
const b64 = (list: Uint8Array[]): string[] => list.map((b) => Buffer.from(b).toString('base64'));

async function readAll(bytes: Uint8Array, name: string): Promise<{ got: string[]; damage: LogDamage[] }> {
  const p = join(dir, name);
  await writeFile(p, bytes);
  const got: Uint8Array[] = [];
  const damage: LogDamage[] = [];
  for await (const r of readLogRecords(p, { onDamage: (d) => damage.push(d) })) got.push(r.payload);
  return { got: b64(got), damage };
}

describe('readLogRecords', () => {
  it('reassembles FULL, FIRST/MIDDLE/LAST records across blocks, in order', async () => {
    const records = [payload(1, 10), payload(2, 40_000), payload(3, 70_000), payload(4, 0), payload(5, 500)];
    const { bytes } = encodeLog(records);
    expect(bytes.length).toBeGreaterThan(3 * BLOCK_SIZE); // the 70 000-byte record needs a MIDDLE chunk
    const { got, damage } = await readAll(bytes, 'spanning.wandb');
    expect(damage).toEqual([]);
    expect(got).toEqual(b64(records));
  });

  it('accepts a zero-length FIRST chunk 7 bytes before a block end, and zero padding', async () => {
    // Block 0 has 32761 bytes after the file header. 7+7+32747 leaves exactly 7: a zero-length FIRST follows.
    const a = [payload(1, 32747), payload(2, 100)];
    const r1 = await readAll(encodeLog(a).bytes, 'zero-first.wandb');
    expect(r1.damage).toEqual([]);
    expect(r1.got).toEqual(b64(a));
    // 7+7+32751 leaves 3 bytes: zero padding, the next record starts at the next block.
    const b = [payload(1, 32751), payload(2, 100)];
    const enc = encodeLog(b);
    expect(enc.offsets[1]).toBe(BLOCK_SIZE);
    const r2 = await readAll(enc.bytes, 'padding.wandb');
    expect(r2.damage).toEqual([]);
    expect(r2.got).toEqual(b64(b));
  });

  it('a flipped byte loses that record and the rest of its block only, and is reported once', async () => {
    const records = Array.from({ length: 100 }, (_, i) => payload(i, 1000));
    const { bytes, offsets } = encodeLog(records);
    const bad = bytes.slice();
    bad[offsets[5] + 7 + 500] ^= 0xff; // inside record 5's payload, in block 0
    const { got, damage } = await readAll(bad, 'flipped.wandb');
    // A bad checksum means the chunk's length cannot be trusted: resync at the next block boundary.
    // Lost: records 5.. whose first chunk starts in block 0 (the one spanning into block 1 included).
    const lost = records.map((_, i) => i).filter((i) => i >= 5 && offsets[i] < BLOCK_SIZE);
    expect(got).toEqual(b64(records.filter((_, i) => !lost.includes(i))));
    expect(got.length).toBe(100 - lost.length);
    expect(damage).toHaveLength(1);
    expect(damage[0].offset).toBe(offsets[5]);
    expect(damage[0].reason).toBe('checksum mismatch');
    expect(damage[0].records).toBeGreaterThanOrEqual(1);
    expect(damage[0].offset + damage[0].bytes).toBeGreaterThan(BLOCK_SIZE); // covers the orphaned LAST chunk in block 1
  });

  it('a truncated last chunk (header without its payload) keeps every record before it', async () => {
    const records = [payload(1, 100), payload(2, 200), payload(3, 300)];
    const { bytes, offsets } = encodeLog(records);
    const cut = bytes.subarray(0, offsets[2] + 7); // Python-era pattern: the chunk header, no payload
    const { got, damage } = await readAll(cut, 'trunc.wandb');
    expect(got).toEqual(b64(records.slice(0, 2)));
    expect(damage).toHaveLength(1);
    expect(damage[0]).toMatchObject({ offset: offsets[2], bytes: 7, records: 1 });
    expect(damage[0].reason).toMatch(/truncated/);
  });

  it('a log cut at a block boundary inside a multi-chunk record reports the open record', async () => {
    const records = [payload(1, 100), payload(2, 50_000)];
    const { bytes, offsets } = encodeLog(records);
    const { got, damage } = await readAll(bytes.subarray(0, BLOCK_SIZE), 'cut-block.wandb'); // core-era pattern
    expect(got).toEqual(b64([records[0]]));
    expect(damage).toEqual([{ offset: offsets[1], bytes: BLOCK_SIZE - offsets[1], records: 1, reason: 'log truncated inside a multi-chunk record' }]);
  });

  it('0-byte, header-only, foreign and garbage-tailed files never throw', async () => {
    const empty = await readAll(new Uint8Array(0), 'empty.wandb');
    expect(empty.got).toEqual([]);
    expect(empty.damage).toHaveLength(1);
    expect(empty.damage[0].reason).toMatch(/empty log/);

    const headerOnly = await readAll(encodeLog([]).bytes, 'header.wandb');
    expect(headerOnly).toEqual({ got: [], damage: [] });

    const foreign = await readAll(new TextEncoder().encode('{"not": "a log"}\n'), 'foreign.wandb');
    expect(foreign.got).toEqual([]);
    expect(foreign.damage[0].reason).toMatch(/bad header/);

    const records = [payload(1, 100), payload(2, 100)];
    const good = encodeLog(records).bytes;
    const tail = payload(9, 300);
    const withGarbage = new Uint8Array(good.length + tail.length);
    withGarbage.set(good);
    withGarbage.set(tail, good.length);
    const g = await readAll(withGarbage, 'garbage.wandb');
    expect(g.got).toEqual(b64(records));
    expect(g.damage).toHaveLength(1);
    expect(g.damage[0].offset).toBe(good.length);
  });
});
