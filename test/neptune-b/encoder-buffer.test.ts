import { describe, expect, it } from 'vitest';
import { ENCODER_START_BYTES, SnapshotEncoder } from '../../src/sinks/neptune-b/snapshots.ts';
import { decodeRunOperation } from './proto-decode.ts';

/**
 * Issue 13 (c), Protocol B: every run opens an encoder, so its buffer is what a small run costs. At 1 MB
 * each, 10,000 small runs allocated ~20-30 GB of buffers: V8 collected the whole heap 1,300-1,900 times
 * (external memory), and on Node 20 glibc's main heap grew with the run count (RSS 111 -> 144 MB). The
 * buffer starts small and grows to what the requests need.
 */
const bufferOf = (enc: SnapshotEncoder): Buffer => (enc as unknown as { writer: { buf: Buffer } }).writer.buf;

describe('the Protocol B encoder buffer', () => {
  it("a small run's request (its fields and 70 points) fits the encoder's first buffer, well under 1 MB", () => {
    const enc = new SnapshotEncoder();
    enc.assign('config/lr', { type: 'float', value: 0.001 });
    enc.assign('wandb/url', { type: 'string', value: 'https://wandb.ai/team/proj/runs/abc' });
    const loss = enc.key('loss');
    const acc = enc.key('acc');
    for (let step = 0; step < 35; step++) {
      enc.appendFloat(loss, step, 1_700_000_000_000 + step * 1000, 1 / (step + 1));
      enc.appendFloat(acc, step, 1_700_000_000_000 + step * 1000, step / 35);
    }
    const bodies = [...enc.requests('ws/proj', 'abc', 1_700_000_100_000)].map((b) => Buffer.from(b));
    expect(bodies).toHaveLength(1);
    expect(bufferOf(enc).length).toBe(ENCODER_START_BYTES);
    expect(ENCODER_START_BYTES).toBeLessThanOrEqual(16 * 1024);
    const op = decodeRunOperation(bodies[0]);
    const points = op.snapshots.flatMap((s) => s.append.map(([p, v]) => [Number(s.step!.whole), p, (v as { float64: number }).float64]));
    expect(points).toEqual(Array.from({ length: 35 }, (_, step) => [[step, 'loss', 1 / (step + 1)], [step, 'acc', step / 35]]).flat());
  });

  it('a request of several MB grows the buffer from there, every point kept', () => {
    const enc = new SnapshotEncoder();
    const keys = Array.from({ length: 50 }, (_, i) => enc.key(`metric/${i}`));
    for (let step = 0; step < 4000; step++) for (const [i, k] of keys.entries()) enc.appendFloat(k, step, step * 10, step * 1000 + i);
    const bodies = [...enc.requests('ws/proj', 'big', 0)].map((b) => Buffer.from(b));
    const largest = Math.max(...bodies.map((b) => b.length));
    expect(largest).toBeGreaterThan(1 << 20);
    expect(bufferOf(enc).length).toBeGreaterThanOrEqual(largest);
    // Every point, in order (compared one by one; the mismatches are listed).
    let n = 0;
    const wrong: string[] = [];
    for (const b of bodies) {
      for (const s of decodeRunOperation(b).snapshots) {
        for (const [p, v] of s.append) {
          const [step, i] = [Math.floor(n / 50), n % 50];
          const got = `${Number(s.step!.whole)} ${p} ${(v as { float64: number }).float64}`;
          if (got !== `${step} metric/${i} ${step * 1000 + i}`) wrong.push(got);
          n++;
        }
      }
    }
    expect(wrong.slice(0, 5)).toEqual([]);
    expect(n).toBe(4000 * 50);
  });
});
