/**
 * Our snappy decoder gives hyparquet's bytes on every stream: incompressible, repetitive and mixed data
 * as a compressor writes it (literal lengths of every width, 1- and 2-byte back references, overlapping
 * ones), a hand-made stream with a 4-byte back reference, and refuses damaged streams.
 */
import { snappyUncompress } from 'hyparquet';
import { snappyCompress } from 'hyparquet-writer/src/snappy.js';
import { describe, expect, it } from 'vitest';
import { snappyDecompress } from './snappy.ts';

/** A deterministic byte sequence (xorshift). */
function noise(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

function inputs(): Array<[string, Uint8Array]> {
  const out: Array<[string, Uint8Array]> = [];
  for (const n of [0, 1, 59, 60, 61, 255, 256, 257, 65535, 65536, 65537, 200_000]) out.push([`noise ${n}`, noise(n, n + 1)]);
  out.push(['zeros', new Uint8Array(100_000)]);
  out.push(['period 3', Uint8Array.from({ length: 70_000 }, (_, i) => 97 + (i % 3))]);
  out.push(['text', new TextEncoder().encode('the loss went down, the accuracy went up; '.repeat(3000))]);
  const doubles = new Float64Array(20_000).map((_, i) => (i % 7 === 0 ? 0.5 : Math.sin(i) * 1e3));
  out.push(['doubles, some repeated', new Uint8Array(doubles.buffer)]);
  const mixed = new Uint8Array(150_000);
  for (let i = 0; i < mixed.length; i += 1000) mixed.set(i % 3000 === 0 ? noise(1000, i + 7) : new Uint8Array(1000).fill(i % 251), i);
  out.push(['mixed', mixed]);
  return out;
}

describe('snappyDecompress', () => {
  it('gives hyparquet’s bytes (and the original’s) on compressed streams of every kind of data', () => {
    for (const [name, data] of inputs()) {
      const stream = snappyCompress(data);
      const ours = new Uint8Array(data.length);
      const theirs = new Uint8Array(data.length);
      snappyDecompress(stream, ours);
      snappyUncompress(stream, theirs);
      expect(Buffer.from(ours).equals(Buffer.from(theirs)), name).toBe(true);
      expect(Buffer.from(ours).equals(Buffer.from(data)), name).toBe(true);
    }
  });

  it('follows 1-, 2- and 4-byte back references, overlapping ones byte by byte', () => {
    // Preamble 20; literal "abcd"; copy len 4 offset 4 (1-byte form); copy len 6 offset 2 (2-byte form, overlapping);
    // copy len 6 offset 14 (4-byte form).
    const stream = Uint8Array.from([20, 3 << 2, 97, 98, 99, 100, (0 << 2) | 1, 4, ((6 - 1) << 2) | 2, 2, 0, ((6 - 1) << 2) | 3, 14, 0, 0, 0]);
    const ours = new Uint8Array(20);
    const theirs = new Uint8Array(20);
    snappyDecompress(stream, ours);
    snappyUncompress(stream, theirs);
    expect(new TextDecoder().decode(ours)).toBe('abcdabcdcdcdcdabcdab');
    expect(Buffer.from(ours).equals(Buffer.from(theirs))).toBe(true);
  });

  it('refuses a damaged stream', () => {
    const data = noise(5000, 3);
    const stream = snappyCompress(data);
    expect(() => snappyDecompress(stream.subarray(0, stream.length - 10), new Uint8Array(5000))).toThrow(/snappy/);
    expect(() => snappyDecompress(stream, new Uint8Array(4999))).toThrow(/snappy/);
    // A back reference to before the start.
    expect(() => snappyDecompress(Uint8Array.from([8, (0 << 2) | 1, 4]), new Uint8Array(8))).toThrow(/back reference/);
  });
});
