import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/core/logger.ts';
import type { IngestClient } from '../../src/sinks/neptune-b/ingest.ts';
import type { RequestStatus } from '../../src/sinks/neptune-b/messages.ts';
import { refusalsOf } from '../../src/sinks/neptune-b/status.ts';

/** Processed statuses → report lines or a failed run (neptune-api.md §3.5, §3.8). */
const ctx = (details?: Awaited<ReturnType<IngestClient['details']>>) => ({
  ingest: { details: async () => details } as unknown as IngestClient,
  project: 'ws/p',
  runId: 'r1',
  log: silentLogger,
});
const of = (...s: RequestStatus[]) => new Map(s.map((x, i) => [`id${i}`, x]));

describe('status codes', () => {
  it('OK and idempotency warnings (RUN_DUPLICATE, SERIES_POINT_DUPLICATE) are nothing to report', async () => {
    expect(await refusalsOf(of({ codes: [{ code: 0, count: 10, detail: 0 }, { code: 0, count: 3, detail: 24 }, { code: 6, count: 1, detail: 11 }] }), ctx())).toEqual([]);
  });

  it('per-field codes become lines by reason and path; what details do not name is still counted', async () => {
    const out = await refusalsOf(
      of({ codes: [{ code: 3, count: 3, detail: 32 }] }, { codes: [{ code: 3, count: 1, detail: 21 }] }),
      ctx([
        { requestId: 'id0', path: 'loss', code: 32, message: 'NaN' },
        { requestId: 'id0', path: 'loss', code: 32, message: 'NaN' },
        { requestId: 'id1', path: 'config/x', code: 21, message: '' },
      ]),
    );
    expect(out).toEqual([
      { reason: 'non-finite', subject: 'loss', count: 2, detail: 'FLOAT_VALUE_NAN_INF_UNSUPPORTED: NaN' },
      { reason: 'type-mismatch', subject: 'config/x', count: 1, detail: 'FIELD_TYPE_CONFLICTING' },
      { reason: 'non-finite', subject: '(path not given by the server)', count: 1, detail: 'FLOAT_VALUE_NAN_INF_UNSUPPORTED' },
    ]);
  });

  it('run- and project-level codes fail the run, naming the code', async () => {
    await expect(refusalsOf(of({ codes: [{ code: 5, count: 1, detail: 10 }], sharedErrorMessage: 'no run' }), ctx())).rejects.toThrow('Neptune refused run r1 in ws/p: RUN_NOT_FOUND: no run');
    await expect(refusalsOf(of({ codes: [{ code: 9, count: 1, detail: 63 }] }), ctx())).rejects.toThrow(/INGEST_SUSPENDED/);
  });

  it('a status without an ingest code (NOT_FOUND: the server does not know the request) is not taken as processed', async () => {
    await expect(refusalsOf(of({ codes: [{ code: 5, count: 1, detail: 0 }] }), ctx())).rejects.toThrow(/status NOT_FOUND for an ingest request of run r1/);
  });
});
