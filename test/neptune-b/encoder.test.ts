import { BinaryReader, BinaryWriter } from '@bufbuild/protobuf/wire';
import { describe, expect, it } from 'vitest';
import {
  decodeBulkIngestResultDetail,
  decodeBulkRequestStatus,
  decodeSubmitResponse,
  decomposeStep,
  encodeCreateRun,
  encodeRequestIdList,
} from '../../src/sinks/neptune-b/messages.ts';
import { SnapshotEncoder } from '../../src/sinks/neptune-b/snapshots.ts';
import { decodeRunOperation } from './proto-decode.ts';

/** Each body is a view of the encoder's reused buffer: copied before the next one is asked for. */
const bodiesOf = (enc: SnapshotEncoder, now: number) => {
  const out: Buffer[] = [];
  for (const b of enc.requests('ws/proj', 'run-1', now)) out.push(Buffer.from(b));
  return out;
};
const all = (enc: SnapshotEncoder, now = 1_700_000_000_123) => bodiesOf(enc, now).map((b) => decodeRunOperation(b));

describe('Protocol B encoder, decoded independently', () => {
  it('CreateRun: creation_time back-dated, family = run id, experiment id, inherit_configs', () => {
    const op = decodeRunOperation(encodeCreateRun({ project: 'ws/p', runId: 'abc', family: 'abc', creationTimeMs: 1_600_000_000_250, experimentId: 'brave-sun' }));
    expect(op).toEqual({
      project: 'ws/p',
      runId: 'abc',
      create: { creationTime: { seconds: 1_600_000_000n, nanos: 250_000_000 }, family: 'abc', experimentId: 'brave-sun', inheritConfigs: true },
      snapshots: [],
    });
    const before1970 = decodeRunOperation(encodeCreateRun({ project: 'ws/p', runId: 'x', family: 'x', creationTimeMs: -1500 }));
    expect(before1970.create?.creationTime).toEqual({ seconds: -2n, nanos: 500_000_000 });
    expect(before1970.create?.experimentId).toBeUndefined();
  });

  it('atoms: every value type, int64 beyond int32, sets via modify_sets, timestamp now and no step', () => {
    const enc = new SnapshotEncoder();
    enc.assign('config/lr', { type: 'float', value: 0.1 });
    enc.assign('config/zero', { type: 'float', value: 0 });
    enc.assign('config/big', { type: 'int', value: 2 ** 40 + 3 });
    enc.assign('config/neg', { type: 'int', value: -5 });
    enc.assign('config/on', { type: 'bool', value: false });
    enc.assign('sys/name', { type: 'string', value: 'ünï 🚀' });
    enc.assign('wandb/created_at', { type: 'datetime', value: 1_600_000_000_001 });
    enc.assign('files/a.txt', { type: 'fileRef', path: 'r/files/a.txt', sizeBytes: 12, mimeType: 'text/plain' });
    enc.addToSet('sys/tags', ['a', 'b ü']);
    const [op, more] = all(enc);
    expect(more).toBeUndefined();
    expect(op.project).toBe('ws/proj');
    expect(op.runId).toBe('run-1');
    expect(op.snapshots).toEqual([
      {
        timestamp: { seconds: 1_700_000_000n, nanos: 123_000_000 },
        assign: {
          'config/lr': { float64: 0.1 },
          'config/zero': { float64: 0 },
          'config/big': { int64: 2n ** 40n + 3n },
          'config/neg': { int64: -5n },
          'config/on': { bool: false },
          'sys/name': { string: 'ünï 🚀' },
          'wandb/created_at': { timestamp: { seconds: 1_600_000_000n, nanos: 1_000_000 } },
          'files/a.txt': { fileRef: { path: 'r/files/a.txt', sizeBytes: 12n, mimeType: 'text/plain' } },
        },
        modifySets: { 'sys/tags': { a: 1, 'b ü': 1 } },
        append: [],
      },
    ]);
  });

  it('series: one snapshot per step and timestamp, in step order, floats and strings, NaN kept', () => {
    const enc = new SnapshotEncoder();
    const loss = enc.key('loss');
    const acc = enc.key('train/acc');
    const out = enc.key('monitoring/stdout');
    // path-major, as the pipeline hands them over; acc starts at a step loss never had
    enc.appendFloat(loss, 1, 1000, 0.5);
    enc.appendFloat(loss, 2, 2000, Number.NaN);
    enc.appendFloat(acc, 0, 500, 0.25);
    enc.appendFloat(acc, 2, 2000, -Infinity);
    enc.appendString(out, 2, 2500, 'line ✓');
    enc.appendFloat(loss, 300.25, 3000, 1e300);
    expect(enc.pendingPoints).toBe(6);
    const [op] = all(enc);
    const rows = op.snapshots.map((s) => [s.step, s.timestamp, s.append]);
    expect(rows).toEqual([
      [{ whole: 0n, micro: 0n }, { seconds: 0n, nanos: 500_000_000 }, [['train/acc', { float64: 0.25 }]]],
      [{ whole: 1n, micro: 0n }, { seconds: 1n, nanos: 0 }, [['loss', { float64: 0.5 }]]],
      [{ whole: 2n, micro: 0n }, { seconds: 2n, nanos: 0 }, [['loss', { float64: Number.NaN }], ['train/acc', { float64: -Infinity }]]],
      [{ whole: 2n, micro: 0n }, { seconds: 2n, nanos: 500_000_000 }, [['monitoring/stdout', { string: 'line ✓' }]]],
      [{ whole: 300n, micro: 250_000n }, { seconds: 3n, nanos: 0 }, [['loss', { float64: 1e300 }]]],
    ]);
    enc.clear();
    expect(enc.empty).toBe(true);
    expect(all(enc)).toEqual([]);
  });

  it('splits snapshots over the snapshot limit and requests over the request limit, losing nothing', () => {
    const enc = new SnapshotEncoder({ maxSnapshotBytes: 200, maxRequestBytes: 1000 });
    const keys = Array.from({ length: 30 }, (_, i) => enc.key(`metric/${i}`));
    for (let step = 0; step < 20; step++) for (const k of keys) enc.appendFloat(k, step, step * 1000, step + keys.indexOf(k) / 100);
    const bodies = bodiesOf(enc, 0);
    expect(bodies.length).toBeGreaterThan(1);
    for (const b of bodies) expect(b.length).toBeLessThanOrEqual(1000);
    const got: Array<[number, string, number]> = [];
    for (const b of bodies) {
      for (const s of decodeRunOperation(b).snapshots) for (const [p, v] of s.append) got.push([Number(s.step!.whole), p, (v as { float64: number }).float64]);
    }
    const want: Array<[number, string, number]> = [];
    for (let step = 0; step < 20; step++) for (let i = 0; i < 30; i++) want.push([step, `metric/${i}`, step + i / 100]);
    expect(got).toEqual(want);
  });

  it('steps decompose as neptune-scale does (truncated micro)', () => {
    expect(decomposeStep(0)).toEqual({ whole: 0, micro: 0 });
    expect(decomposeStep(300.25)).toEqual({ whole: 300, micro: 250_000 });
    expect(decomposeStep(302.1234567)).toEqual({ whole: 302, micro: 123_456 });
    expect(decomposeStep(999_999_999_999)).toEqual({ whole: 999_999_999_999, micro: 0 });
  });

  it('decodes the server answers (encoded by an independent writer)', () => {
    const submit = new BinaryWriter().uint32((1 << 3) | 2).string('old').uint32((2 << 3) | 2).string('a').uint32((2 << 3) | 2).string('b').finish();
    expect(decodeSubmitResponse(submit)).toBe('b');
    expect(decodeSubmitResponse(new BinaryWriter().uint32((1 << 3) | 2).string('only').finish())).toBe('only');

    const w = new BinaryWriter();
    w.uint32((1 << 3) | 2).fork().uint32((1 << 3) | 2).fork().uint32(8).int32(0).uint32(16).int64(5).join().join();
    w.uint32((1 << 3) | 2).fork().uint32((1 << 3) | 2).fork().uint32(8).int32(3).uint32(16).int64(2).uint32(24).int32(32).join().uint32((2 << 3) | 2).string('shared').join();
    w.uint32((1 << 3) | 2).fork().join();
    expect(decodeBulkRequestStatus(w.finish())).toEqual([
      { codes: [{ code: 0, count: 5, detail: 0 }] },
      { codes: [{ code: 3, count: 2, detail: 32 }], sharedErrorMessage: 'shared' },
      { codes: [] },
    ]);

    const d = new BinaryWriter();
    d.uint32((1 << 3) | 2).fork().uint32((1 << 3) | 2).fork().uint32((1 << 3) | 2).string('r1').join().uint32((2 << 3) | 2).string('loss').uint32(24).int32(32).uint32((4 << 3) | 2).string('NaN').join();
    d.uint32((2 << 3) | 2).string('next');
    expect(decodeBulkIngestResultDetail(d.finish())).toEqual({ details: [{ requestId: 'r1', path: 'loss', code: 32, message: 'NaN' }], nextCursor: 'next' });

    expect(decodeRunOperationIds(encodeRequestIdList(['x', 'y']))).toEqual(['x', 'y']);
  });
});

function decodeRunOperationIds(bytes: Uint8Array): string[] {
  // RequestIdList{ids: [RequestId{value}]} read back with the independent reader
  const r = new BinaryReader(bytes);
  const out: string[] = [];
  while (r.pos < r.len) {
    r.tag();
    const s = new BinaryReader(r.bytes());
    s.tag();
    out.push(s.string());
  }
  return out;
}
