import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNeptuneEmulator } from './index.ts';
import type { NeptuneEmulator } from './types.ts';
import { session } from './test-client.ts';

let emu: NeptuneEmulator;
let s: Awaited<ReturnType<typeof session>>;
let projectId: string;
beforeAll(async () => {
  emu = await startNeptuneEmulator();
  s = await session(emu);
  projectId = (await s.createProject('ops')).id;
});
afterAll(async () => { await emu.close(); });
const newRun = async () => (await s.createRun(projectId)).id;

describe('executeOperations', () => {
  it('applies atoms, string sets, float and string series with steps and timestamps', async () => {
    const run = await newRun();
    const r = await s.ops(run, [
      { path: 'config/lr', assignFloat: { value: 0.001 } },
      { path: 'config/epochs', assignInt: { value: 10 } },
      { path: 'config/name', assignString: { value: 'résumé ✓' } },
      { path: 'config/flag', assignBool: { value: true } },
      { path: 'config/when', assignDatetime: { valueMilliseconds: 1700000000123 } },
      { path: 'sys/tags', insertStrings: { values: ['a', 'b', 'c'] } },
      { path: 'sys/tags', removeStrings: { values: ['b'] } },
      { path: 'sys/name', assignString: { value: 'my run' } },
      { path: 'train/loss', logFloats: { entries: [{ value: 1.5, step: 0, timestampMilliseconds: 1000 }, { value: 1.25, step: 1.5, timestampMilliseconds: 2000 }] } },
      { path: 'train/loss', logFloats: { entries: [{ value: 1.0, timestampMilliseconds: 3000 }] } },
      { path: 'monitoring/stdout', logStrings: { entries: [{ value: 'hello', step: 3, timestampMilliseconds: 10 }] } },
    ]);
    expect(r.status).toBe(200);
    expect(r.json).toEqual([]);
    const a = emu.inspect.attributes(run);
    expect(a['config/lr']).toEqual({ type: 'float', value: 0.001 });
    expect(a['config/epochs']).toEqual({ type: 'int', value: 10 });
    expect(a['config/name']).toEqual({ type: 'string', value: 'résumé ✓' });
    expect(a['config/flag']).toEqual({ type: 'bool', value: true });
    expect(a['config/when']).toEqual({ type: 'datetime', value: 1700000000123 });
    expect(a['sys/name'].value).toBe('my run');
    expect(emu.inspect.stringSet(run, 'sys/tags')).toEqual(['a', 'c']);
    // a point without step gets last step + 1
    expect(emu.inspect.floatSeries(run, 'train/loss')).toEqual([
      { step: 0, timestampMs: 1000, value: 1.5 }, { step: 1.5, timestampMs: 2000, value: 1.25 }, { step: 2.5, timestampMs: 3000, value: 1.0 },
    ]);
    expect(emu.inspect.stringSeries(run, 'monitoring/stdout')).toEqual([{ step: 3, timestampMs: 10, value: 'hello' }]);

    const all = await s.api('/api/leaderboard/v1/attributes', { experimentId: run });
    const loss = all.json.attributes.find((x: { name: string }) => x.name === 'train/loss');
    expect(loss.type).toBe('floatSeries');
    expect(loss.floatSeriesProperties).toMatchObject({ last: 1.0, lastStep: 2.5 });
    expect(all.json.systemAttributes.name.value).toBe('my run');
    const ss = await s.api('/api/leaderboard/v1/attributes/stringSeries', { experimentId: run, attribute: 'monitoring/stdout' });
    expect(ss.json).toMatchObject({ last: 'hello', lastStep: 3 });
    const fs = await s.api('/api/leaderboard/v1/attributes/floatSeries', { experimentId: run, attribute: 'train/loss' });
    expect(fs.json).toMatchObject({ attributeName: 'train/loss', attributeType: 'floatSeries', last: 1.0, lastStep: 2.5, min: 1.0, max: 1.5 });
    const vals = await s.api('/api/leaderboard/v1/attributes/series/float', { experimentId: run, attribute: 'train/loss', skipToStep: 1, limit: 10 });
    expect(vals.json.totalItemCount).toBe(3);
    expect(vals.json.values.map((v: { step: number }) => v.step)).toEqual([1.5, 2.5]);
    const strs = await s.api('/api/leaderboard/v1/attributes/series/string', { experimentId: run, attribute: 'monitoring/stdout' });
    expect(strs.json.values).toEqual([{ step: 3, value: 'hello', timestampMillis: 10 }]);
    const set = await s.api('/api/leaderboard/v1/attributes/stringSets', { experimentId: run, attribute: 'sys/tags' });
    expect(set.json.values).toEqual(['a', 'c']);
  });

  it('refuses a non-increasing step per point while the rest of the batch applies', async () => {
    const run = await newRun();
    await s.ops(run, [{ path: 'm', logFloats: { entries: [{ value: 1, step: 5, timestampMilliseconds: 1 }] } }]);
    const r = await s.ops(run, [
      { path: 'm', logFloats: { entries: [{ value: 2, step: 5, timestampMilliseconds: 2 }, { value: 3, step: 6, timestampMilliseconds: 3 }] } },
      { path: 'm', logFloats: { entries: [{ value: 4, step: 4, timestampMilliseconds: 4 }] } },
      { path: 'other', assignInt: { value: 1 } },
    ]);
    expect(r.status).toBe(200);
    expect(r.json).toHaveLength(2);
    expect(r.json[0]).toMatchObject({ errorType: 'logSeriesValueError' });
    // The server's exact words (recorded 2023 traffic, issue 8).
    expect(r.json.map((e: { errorDescription: string }) => e.errorDescription)).toEqual([
      'X-coordinates (step) must be strictly increasing for series attribute: m. Invalid point: 5.0',
      'X-coordinates (step) must be strictly increasing for series attribute: m. Invalid point: 4.0',
    ]);
    expect(emu.inspect.floatSeries(run, 'm').map((p) => [p.step, p.value])).toEqual([[5, 1], [6, 3]]);
    expect(emu.inspect.attributes(run)['other'].value).toBe(1);
  });

  it('refuses a type change, int32 overflow, over-long strings, bad paths and read-only sys fields per op', async () => {
    const run = await newRun();
    const before = emu.stats().rejectedOperations;
    const r = await s.ops(run, [
      { path: 'x', assignString: { value: 's' } },
      { path: 'x', assignFloat: { value: 1.5 } },
      { path: 'big', assignInt: { value: 2 ** 31 } },
      { path: 'f', assignFloat: { value: 'NaN' } },
      { path: 'long', assignString: { value: 'a'.repeat(16385) } },
      { path: 'ok/long', assignString: { value: 'a'.repeat(16384) } },
      { path: 'log', logStrings: { entries: [{ value: 'b'.repeat(1001), step: 1, timestampMilliseconds: 1 }, { value: 'fine', step: 2, timestampMilliseconds: 2 }] } },
      { path: '/lead', assignInt: { value: 1 } },
      { path: 'a//b', assignInt: { value: 1 } },
      { path: 'sys/id', assignString: { value: 'HACK-1' } },
      { path: 'noval', assignInt: {} },
    ]);
    expect(r.status).toBe(200);
    const types = r.json.map((e: { errorType: string }) => e.errorType);
    expect(types).toEqual([
      'metadata_inconsistency', 'metadata_inconsistency', 'assignFloatValueError', 'metadata_inconsistency',
      'logSeriesValueError', 'metadata_inconsistency', 'metadata_inconsistency', 'metadata_inconsistency', 'metadata_inconsistency',
    ]);
    expect(emu.stats().rejectedOperations - before).toBe(9);
    const a = emu.inspect.attributes(run);
    expect(a['x']).toEqual({ type: 'string', value: 's' });
    expect(a['big']).toBeUndefined();
    expect(a['long']).toBeUndefined();
    expect((a['ok/long'].value as string).length).toBe(16384);
    expect(a['sys/id'].value).not.toBe('HACK-1');
    expect(emu.inspect.stringSeries(run, 'log').map((p) => p.value)).toEqual(['fine']);
  });

  it('malformed bodies are 400 and apply nothing', async () => {
    const run = await newRun();
    const cases: unknown[] = [
      { path: 'a', assignInt: { value: 1 } },
      [{ path: 'a', assignInt: { value: 1 } }, { path: 'b', addStrings: { values: ['x'] } }],
      [{ path: 'a', assignInt: { value: 1 } }, { path: 'b', assignInt: { value: 1 }, assignFloat: { value: 1 } }],
      [{ path: 'a' }],
      ['string-op'],
    ];
    for (const body of cases) expect((await s.ops(run, body)).status).toBe(400);
    const raw = await s.api('/api/leaderboard/v1/attributes/operations', { experimentId: run }, { raw: '[{"path":', headers: { 'content-type': 'application/json' } });
    expect(raw.status).toBe(400);
    expect(emu.inspect.attributes(run)['a']).toBeUndefined();
    expect((await s.ops('00000000-0000-0000-0000-000000000000', [])).status).toBe(404);
  });

  it('caps a run at 9000 fields with 422 ATTRIBUTES_PER_EXPERIMENT_LIMIT_EXCEEDED (whole request refused)', async () => {
    const run = await newRun();
    const existing = Object.keys(emu.inspect.attributes(run)).length;
    const fill = Array.from({ length: 9000 - existing }, (_, i) => ({ path: `f/${i}`, assignInt: { value: i } }));
    const ok = await s.ops(run, fill);
    expect(ok.status).toBe(200);
    expect(Object.keys(emu.inspect.attributes(run))).toHaveLength(9000);
    // updating an existing field is still fine at the cap
    expect((await s.ops(run, [{ path: 'f/0', assignInt: { value: 7 } }])).json).toEqual([]);
    const over = await s.ops(run, [{ path: 'f/1', assignInt: { value: 8 } }, { path: 'one/more', assignInt: { value: 1 } }]);
    expect(over.status).toBe(422);
    expect(over.json).toMatchObject({ errorType: 'ATTRIBUTES_PER_EXPERIMENT_LIMIT_EXCEEDED', limit: 9000 });
    expect(over.json.experimentQualifiedName).toMatch(/^demo\/ops\/OPS-\d+$/);
    expect(emu.inspect.attributes(run)['f/1'].value).toBe(1);
    expect(emu.inspect.attributes(run)['one/more']).toBeUndefined();
  });

  it('clear, delete and re-log: a cleared series accepts any step again', async () => {
    const run = await newRun();
    await s.ops(run, [
      { path: 's', logFloats: { entries: [{ value: 1, step: 10, timestampMilliseconds: 1 }] } },
      { path: 'tmp', assignString: { value: 'x' } },
    ]);
    const r = await s.ops(run, [
      { path: 's', clearFloatSeries: {} },
      { path: 's', logFloats: { entries: [{ value: 2, step: 0, timestampMilliseconds: 2 }] } },
      { path: 'tmp', deleteAttribute: {} },
      { path: 'tmp', assignInt: { value: 3 } },
    ]);
    expect(r.json).toEqual([]);
    expect(emu.inspect.floatSeries(run, 's')).toEqual([{ step: 0, timestampMs: 2, value: 2 }]);
    expect(emu.inspect.attributes(run)['tmp']).toEqual({ type: 'int', value: 3 });
  });
});
