import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startNeptuneEmulator } from '../neptune/server.ts';
import type { NeptuneEmulator } from '../neptune/types.ts';
import { bSession, codes, PROJECT } from './test-session.ts';
import { decodeAttributes, decodeFloatSeries, decodeFloatSeriesResponse, decodeSeriesValues, encodeCreate, encodeUpdate } from './test-wire.ts';

let emu: NeptuneEmulator;
let b: Awaited<ReturnType<typeof bSession>>;
const RUN = 'r-read';
const T0 = Date.UTC(2022, 0, 2, 3, 4, 5, 6);

beforeEach(async () => {
  emu = await startNeptuneEmulator({ protocolB: { statusDelayMs: 0, nanInf: 'accept' } });
  b = await bSession(emu);
  await b.ingestProcessed(encodeCreate(PROJECT, RUN, { creationTime: T0 }, true));
  const { status } = await b.ingestProcessed(encodeUpdate(PROJECT, RUN, [
    { timestamp: T0, assign: { 'config/seed': { int: -9007199254740993n }, 'config/lr': { float: 0.5 }, 'files/m': { fileRef: { path: 'd/m.bin', sizeBytes: 5, mimeType: 'application/x' } } } },
    ...[0, 1, 2, 3].map((i) => ({
      step: i + 0.5, timestamp: T0 + i * 1000,
      append: {
        loss: { float: i === 2 ? NaN : 1 / (i + 1) }, log: { string: `line ${i}` },
        hist: { histogram: { edges: [0, 1, 2], counts: [i, i + 1] } }, img: { fileRef: { path: `d/${i}.png`, sizeBytes: i + 1, mimeType: 'image/png' } },
      },
    })),
  ]));
  expect(codes(status)).toEqual({ 0: 19 });
});
afterEach(async () => emu.close());

const holder = (identifier: string) => ({ identifier, type: 'experiment' });

describe('B read-back over HTTP (neptune-query retrieval.json proto endpoints)', () => {
  it('float series by run id, with steps, millisecond timestamps and NaN', async () => {
    const r = await b.api('/api/leaderboard/v1/proto/attributes/series/float', { experimentId: `${PROJECT}/${RUN}`, attribute: 'loss' });
    expect(r.status).toBe(200);
    const s = decodeFloatSeries(r.bytes);
    expect(s.total).toBe(4);
    expect(s.points.map((p) => [p.step, p.timestampMillis])).toEqual([[0.5, T0], [1.5, T0 + 1000], [2.5, T0 + 2000], [3.5, T0 + 3000]]);
    expect(s.points.map((p) => p.value)).toEqual([1, 0.5, NaN, 0.25]);
    const paged = decodeFloatSeries((await b.api('/api/leaderboard/v1/proto/attributes/series/float', { experimentId: `${PROJECT}/${RUN}`, attribute: 'loss', skipToStep: 2, limit: 1 })).bytes);
    expect(paged.points.map((p) => p.step)).toEqual([2.5]);
  });

  it('several float series in one call, after a step', async () => {
    const r = await b.api('/api/leaderboard/v1/proto/attributes/series/float', {}, {
      body: { perSeriesPointsLimit: 10, requests: [{ requestId: 'x', afterStep: 1.5, series: { holder: holder(`${PROJECT}/${RUN}`), attribute: 'loss' } }] },
    });
    expect(r.status).toBe(200);
    const [s] = decodeFloatSeriesResponse(r.bytes);
    expect(s.requestId).toBe('x');
    expect(s.points.map((p) => [p.step, p.timestampMillis])).toEqual([[2.5, T0 + 2000], [3.5, T0 + 3000]]);
  });

  it('string, histogram and file series, paged with searchAfter', async () => {
    const req = (attribute: string, token?: string) => ({
      requestId: attribute, series: { holder: holder(`${PROJECT}/${RUN}`), attribute },
      ...(token ? { searchAfter: { finished: false, token } } : {}),
    });
    const first = decodeSeriesValues((await b.api('/api/leaderboard/v1/proto/attributes/series', {}, { body: { requests: [req('log'), req('hist'), req('img')], perSeriesPointsLimit: 3 } })).bytes);
    expect(first.map((s) => [s.requestId, s.finished, s.points.length])).toEqual([['log', true, 3], ['hist', true, 3], ['img', true, 3]]);
    expect(first[0].points.map((p) => [p.step, p.timestampMillis, p.string])).toEqual([[0.5, T0, 'line 0'], [1.5, T0 + 1000, 'line 1'], [2.5, T0 + 2000, 'line 2']]);
    expect(first[1].points[1].histogram).toEqual({ type: 'COUNTS', edges: [0, 1, 2], values: [1, 2] });
    expect(first[2].points[2].fileRef).toEqual({ path: 'd/2.png', sizeBytes: 3, mimeType: 'image/png' });
    const next = decodeSeriesValues((await b.api('/api/leaderboard/v1/proto/attributes/series', {}, { body: { requests: [req('log', first[0].token)], perSeriesPointsLimit: 3 } })).bytes);
    expect(next[0].finished).toBe(true);
    expect(next[0].points.map((p) => p.string)).toEqual(['line 3']);
  });

  // neptune-query 1.11.0 `internal/retrieval/series.py`: `tail_limit` is sent as `perSeriesPointsLimit` with
  // `order: "descending"`, and pages are asked for until each series says `finished`; the results are
  // reversed and never cut on the client. Its e2e test (tests/e2e/v1/test_fetch_series.py, 6 steps,
  // tail_limit 3 and 5, run against the real server) expects exactly the last 3 or 5 points: the limit caps
  // the series' points in the query, and the answer that reaches it is `finished`.
  it('perSeriesPointsLimit caps a series: the tail that neptune-query asks for comes back finished', async () => {
    const req = { requestId: 'log', series: { holder: holder(`${PROJECT}/${RUN}`), attribute: 'log', lineage: 'FULL', lineageEntityType: 'RUN' } };
    const [tail] = decodeSeriesValues((await b.api('/api/leaderboard/v1/proto/attributes/series', { useDeprecatedStringFields: false }, {
      body: { requests: [req], stepRange: { from: null, to: null }, order: 'descending', perSeriesPointsLimit: 3 },
    })).bytes);
    expect(tail.finished).toBe(true);
    expect(tail.points.map((p) => [p.step, p.string])).toEqual([[3.5, 'line 3'], [2.5, 'line 2'], [1.5, 'line 1']]);
    const [all] = decodeSeriesValues((await b.api('/api/leaderboard/v1/proto/attributes/series', { useDeprecatedStringFields: false }, {
      body: { requests: [req], stepRange: { from: null, to: null }, order: 'descending' },
    })).bytes);
    expect(all.finished).toBe(true);
    expect(all.points.map((p) => p.string)).toEqual(['line 3', 'line 2', 'line 1', 'line 0']);
  });

  it('attributes with exact int64, file refs and series summaries', async () => {
    const r = await b.api('/api/leaderboard/v1/proto/attributes/attributes', { holderIdentifier: `${PROJECT}/${RUN}`, holderType: 'experiment' }, { body: {} });
    const a = decodeAttributes(r.bytes);
    expect(a['config/seed']).toEqual({ type: 'int', value: -9007199254740993n });
    expect(a['config/lr']).toEqual({ type: 'float', value: 0.5 });
    expect(a['files/m']).toEqual({ type: 'fileRef', value: { path: 'd/m.bin', sizeBytes: 5, mimeType: 'application/x' } });
    expect(a['sys/creation_time']).toEqual({ type: 'datetime', value: T0 });
    expect(a['sys/custom_run_id']).toEqual({ type: 'string', value: RUN });
    expect(a.loss).toEqual({ type: 'floatSeries', value: { lastStep: 3.5 } });
    expect(a.hist.type).toBe('histogramSeries');
    const filtered = decodeAttributes((await b.api('/api/leaderboard/v1/proto/attributes/attributes', { holderIdentifier: `${PROJECT}/${RUN}` }, { body: { attributePathsFilter: ['config/lr'] } })).bytes);
    expect(Object.keys(filtered)).toEqual(['config/lr']);
  });

  it('an unknown run or attribute is a 404', async () => {
    expect((await b.api('/api/leaderboard/v1/proto/attributes/series/float', { experimentId: `${PROJECT}/nope`, attribute: 'loss' })).status).toBe(404);
    expect((await b.api('/api/leaderboard/v1/proto/attributes/series/float', { experimentId: `${PROJECT}/${RUN}`, attribute: 'nope' })).status).toBe(404);
  });
});

describe('one store, both protocols (a 3.x server still serving A clients)', () => {
  it('a run written over B reads back over A: attributes and series values', async () => {
    const id = emu.b.inspect.run(PROJECT, RUN)?.id as string;
    const attrs = await b.api('/api/leaderboard/v1/attributes', { experimentId: id });
    expect(attrs.status).toBe(200);
    const byName = Object.fromEntries((attrs.json.attributes as Array<{ name: string; type: string }>).map((x) => [x.name, x.type]));
    expect(byName).toMatchObject({ 'config/lr': 'float', loss: 'floatSeries', log: 'stringSeries', 'sys/custom_run_id': 'string' });
    const series = await b.api('/api/leaderboard/v1/attributes/series/float', { experimentId: id, attribute: 'loss' });
    expect(series.json.values.map((v: { step: number; timestampMillis: number }) => [v.step, v.timestampMillis])).toEqual([[0.5, T0], [1.5, T0 + 1000], [2.5, T0 + 2000], [3.5, T0 + 3000]]);
    const strings = await b.api('/api/leaderboard/v1/attributes/series/string', { experimentId: id, attribute: 'log' });
    expect(strings.json.values.map((v: { value: string }) => v.value)).toEqual(['line 0', 'line 1', 'line 2', 'line 3']);
    expect(emu.inspect.floatSeries(id, 'loss').map((p) => p.step)).toEqual([0.5, 1.5, 2.5, 3.5]);
  });

  it('a run written over A reads back over B, and B resumes it as the same run', async () => {
    const projectId = emu.inspect.projects().find((p) => `${p.workspace}/${p.name}` === PROJECT)?.id as string;
    const run = await b.createRun(projectId, 'a-run');
    const ops = await b.ops(run.id, [
      { path: 'metrics/acc', logFloats: { entries: [{ value: 0.25, step: 1, timestampMilliseconds: T0 }, { value: 0.75, step: 2, timestampMilliseconds: T0 + 5 }] } },
      { path: 'params/name', assignString: { value: 'from A' } },
    ]);
    expect(ops.status).toBe(200);
    const s = decodeFloatSeries((await b.api('/api/leaderboard/v1/proto/attributes/series/float', { experimentId: `${PROJECT}/a-run`, attribute: 'metrics/acc' })).bytes);
    expect(s.points.map((p) => [p.step, p.timestampMillis, p.value])).toEqual([[1, T0, 0.25], [2, T0 + 5, 0.75]]);
    expect(codes((await b.ingestProcessed(encodeCreate(PROJECT, 'a-run'))).status)).toEqual({ 11: 1 });
    const { status } = await b.ingestProcessed(encodeUpdate(PROJECT, 'a-run', [
      { step: 2, timestamp: T0 + 5, append: { 'metrics/acc': { float: 0.75 } } }, { step: 3, timestamp: T0 + 9, append: { 'metrics/acc': { float: 1 } } },
    ]));
    expect(codes(status)).toEqual({ 0: 1, 24: 1 });
    expect(emu.inspect.floatSeries(run.id, 'metrics/acc').map((p) => p.value)).toEqual([0.25, 0.75, 1]);
    expect(emu.b.inspect.attributes(PROJECT, 'a-run')['params/name']).toEqual({ type: 'string', value: 'from A' });
  });
});
