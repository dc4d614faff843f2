import { describe, expect, it } from 'vitest';
import { decodeRunOperation } from '../../emulators/neptune-b/wire.ts';
import { MediaSnapshotEncoder } from '../../src/sinks/neptune-b/media-series.ts';

/** Decoded by the emulator's own protobuf reader (independent of the writer's encoder). */
const decode = (enc: MediaSnapshotEncoder) => [...enc.requests('ws/proj', 'run-1', 0)].map((b) => decodeRunOperation(b));
const plain = (snapshots: ReturnType<typeof decodeRunOperation>['snapshots']) =>
  (snapshots ?? []).map((s) => ({ step: s.step, ts: s.timestamp, append: s.append.map(([p, v]) => [p.text, v]) }));

describe('Protocol B media snapshots (file series, histogram series), decoded independently', () => {
  it('a FileRef and histograms (counts, densities) per step: step whole + micro, timestamp, one append each', () => {
    const enc = new MediaSnapshotEncoder();
    enc.append('samples', 2 + 2 / 3, 1_700_000_000_250, { type: 'fileRef', path: 'run-1/samples/2_666666/a.png', sizeBytes: 48, mimeType: 'image/png' });
    enc.append('weights', 0, 1_700_000_000_000, { type: 'histogram', edges: [-1, 0, 0.5, Infinity], values: [3, 0, 300], kind: 'counts' });
    enc.append('grads', 7, 1_700_000_001_000, { type: 'histogram', edges: [0, 1, 2], values: [0.25, 0.75], kind: 'densities' });
    const ops = decode(enc);
    expect(ops).toHaveLength(1);
    expect(ops[0]).toMatchObject({ project: 'ws/proj', runId: 'run-1' });
    expect(plain(ops[0].snapshots)).toEqual([
      { step: { whole: 2, micro: 666666 }, ts: { seconds: 1_700_000_000, nanos: 250_000_000 }, append: [['samples', { kind: 'fileRef', v: { path: 'run-1/samples/2_666666/a.png', sizeBytes: 48, mimeType: 'image/png' } }]] },
      { step: { whole: 0, micro: 0 }, ts: { seconds: 1_700_000_000, nanos: 0 }, append: [['weights', { kind: 'histogram', v: { edges: [-1, 0, 0.5, Infinity], counts: [3, 0, 300] } }]] },
      { step: { whole: 7, micro: 0 }, ts: { seconds: 1_700_000_001, nanos: 0 }, append: [['grads', { kind: 'histogram', v: { edges: [0, 1, 2], densities: [0.25, 0.75] } }]] },
    ].map((s) => ({ ...s, append: s.append.map(([p, v]) => [p, expect.objectContaining(v as object)]) })));
  });

  it('snapshots are packed into requests of at most the request limit, in order', () => {
    const enc = new MediaSnapshotEncoder({ maxSnapshotBytes: 2 * 1024 * 1024, maxRequestBytes: 2000 });
    const edges = Array.from({ length: 65 }, (_, i) => i);
    for (let s = 0; s < 10; s++) enc.append('h', s, 1000 * s, { type: 'histogram', edges, values: edges.slice(1), kind: 'counts' });
    const bodies = [...enc.requests('ws/proj', 'run-1', 0)];
    expect(bodies.length).toBeGreaterThan(1);
    for (const b of bodies) expect(b.length).toBeLessThanOrEqual(2000);
    const steps = bodies.flatMap((b) => (decodeRunOperation(b).snapshots ?? []).map((s) => s.step?.whole));
    expect(steps).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });
});
