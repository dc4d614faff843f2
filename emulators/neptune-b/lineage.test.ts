/**
 * Float series reads as neptune-query 1.11.0 asks for them (`internal/retrieval/metrics.py`
 * `fetch_multiple_series_values`): `lineage` FULL|NONE and `lineageEntityType` RUN|EXPERIMENT per series,
 * `order: "descending"`, and the next page asked for with `afterStep` = the last step of a full page.
 * Tried by hand on 2026-11-30: `fetch_metrics` of a forked run (its default `lineage_to_the_root=True`)
 * gave only the fork's own points, and a descending page after `afterStep` repeated the first page.
 * The expected values are the ones neptune-query's e2e tests (run against the real server) assert.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNeptuneEmulator } from '../neptune/server.ts';
import type { NeptuneEmulator } from '../neptune/types.ts';
import { bSession, codes, PROJECT } from './test-session.ts';
import { decodeFloatSeriesResponse, encodeCreate, encodeUpdate } from './test-wire.ts';

let emu: NeptuneEmulator;
let b: Awaited<ReturnType<typeof bSession>>;
const T0 = Date.UTC(2023, 10, 14, 22, 13, 20);

/** tests/e2e/v1/test_fetch_metrics.py `lineage_project`: root-exp ← child-exp (fork at 4) ← child-exp (fork at 8). */
const CHAIN = [
  { run: 'lin-1', exp: 'root-exp', fork: undefined, steps: [0, 1, 2, 3, 4], k: 0.1 },
  { run: 'lin-2', exp: 'child-exp', fork: { parentRunId: 'lin-1', step: 4 }, steps: [5, 6, 7, 8], k: 0.2 },
  { run: 'lin-3', exp: 'child-exp', fork: { parentRunId: 'lin-2', step: 8 }, steps: [9, 10, 11], k: 0.3 },
];

beforeAll(async () => {
  emu = await startNeptuneEmulator({ protocolB: { statusDelayMs: 0 } });
  b = await bSession(emu);
  for (const [i, r] of CHAIN.entries()) {
    const created = await b.ingestProcessed(encodeCreate(PROJECT, r.run, { experimentId: r.exp, creationTime: T0, ...(r.fork ? { fork: r.fork } : {}) }, i === 0));
    expect(codes(created.status)).toEqual({ 0: 1 });
    const { status } = await b.ingestProcessed(encodeUpdate(PROJECT, r.run, r.steps.map((s) => ({ step: s, timestamp: T0 + s * 1000, append: { 'metrics/m1': { float: s * r.k } } }))));
    expect(codes(status)).toEqual({ 0: r.steps.length });
  }
});
afterAll(async () => emu.close());

const points = (runs: Array<{ steps: number[]; k: number }>) => runs.flatMap((r) => r.steps.map((s) => [s, s * r.k]));

/** One series request as neptune-query builds it; the body of `getMultipleFloatSeriesValuesProto`. */
async function read(run: string, lineage: 'FULL' | 'NONE', entity: 'RUN' | 'EXPERIMENT', opts: { limit?: number; afterStep?: number; from?: number; to?: number } = {}) {
  const r = await b.api('/api/leaderboard/v1/proto/attributes/series/float', {}, {
    body: {
      requests: [{
        requestId: '0', ...(opts.afterStep !== undefined ? { afterStep: opts.afterStep } : {}),
        series: { holder: { identifier: `${PROJECT}/${run}`, type: 'experiment' }, attribute: 'metrics/m1', lineage, lineageEntityType: entity, includePreview: false },
      }],
      stepRange: { from: opts.from ?? null, to: opts.to ?? null }, order: 'descending', perSeriesPointsLimit: opts.limit ?? 1_000_000,
    },
  });
  expect(r.status).toBe(200);
  const [s] = decodeFloatSeriesResponse(r.bytes);
  return s.points.map((p) => [p.step, p.value]);
}

describe('series lineage (retrieval.json TimeSeries.lineage / lineageEntityType)', () => {
  it('RUN, FULL: a fork carries its ancestors\' points up to and including each fork step (test_runs_fetch_metrics.py)', async () => {
    expect((await read('lin-3', 'FULL', 'RUN')).reverse()).toEqual(points(CHAIN));
    expect((await read('lin-2', 'FULL', 'RUN')).reverse()).toEqual(points(CHAIN.slice(0, 2)));
    // `linear_history_fork1` read with step_range (0, 4) and tail_limit 3: the root's steps 2..4
    expect(await read('lin-2', 'FULL', 'RUN', { from: 0, to: 4, limit: 3 })).toEqual([[4, 0.4], [3, 0.30000000000000004], [2, 0.2]]);
  });

  it('RUN, NONE: only the run\'s own points', async () => {
    expect((await read('lin-3', 'NONE', 'RUN')).reverse()).toEqual(points(CHAIN.slice(2)));
    expect((await read('lin-1', 'NONE', 'RUN')).reverse()).toEqual(points(CHAIN.slice(0, 1)));
  });

  it('EXPERIMENT: FULL goes to the root, NONE stays within the experiment (test__fetch_metrics__lineage)', async () => {
    expect((await read('lin-3', 'FULL', 'EXPERIMENT')).reverse()).toEqual(points(CHAIN));
    expect((await read('lin-3', 'NONE', 'EXPERIMENT')).reverse()).toEqual(points(CHAIN.slice(1)));
  });

  it('descending pages follow afterStep downwards (metrics.py reverses the pages at the end)', async () => {
    expect(await read('lin-1', 'NONE', 'RUN', { limit: 2 })).toEqual([[4, 0.4], [3, 0.30000000000000004]]);
    expect(await read('lin-1', 'NONE', 'RUN', { limit: 2, afterStep: 3 })).toEqual([[2, 0.2], [1, 0.1]]);
    expect(await read('lin-1', 'NONE', 'RUN', { limit: 2, afterStep: 1 })).toEqual([[0, 0]]);
  });

  it('descending pages across the runs of the lineage give each point once', async () => {
    const seen: number[][] = [];
    let after: number | undefined;
    for (let page = 0; page < 10; page++) {
      const got = await read('lin-3', 'FULL', 'RUN', { limit: 5, afterStep: after });
      seen.push(...got);
      if (got.length < 5) break;
      after = got[got.length - 1][0];
    }
    expect(seen.reverse()).toEqual(points(CHAIN));
  });
});
