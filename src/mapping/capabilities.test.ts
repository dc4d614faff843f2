import { describe, expect, it } from 'vitest';
import { PROTOCOL_A_CAPABILITIES, protocolBCapabilities } from './capabilities.ts';
import { mapConsoleLine } from './console.ts';
import { mapHistoryRow } from './history.ts';
import { defaultMappingOptions } from './options.ts';
import { mapRunFields } from './run-fields.ts';
import { neptuneCustomRunId } from './run-id.ts';
import { SeriesPathPlanner } from './series-paths.ts';
import { mapSystemSample } from './system.ts';

const B = protocolBCapabilities();
const bSend = protocolBCapabilities({ nonFinite: 'send' });

describe('the mapping takes the target capabilities', () => {
  it('ints beyond int32 stay ints for B, become floats for A', () => {
    const run = { key: { entity: 'e', project: 'p', runId: 'r' }, tags: [], config: { big: 2 ** 40 }, summary: {} };
    const get = (caps = PROTOCOL_A_CAPABILITIES) =>
      mapRunFields(run, { ...defaultMappingOptions, capabilities: caps }).fields.find((f) => f.path === 'config/big')?.value;
    expect(get()).toEqual({ type: 'float', value: 2 ** 40 });
    expect(get(B)).toEqual({ type: 'int', value: 2 ** 40 });
  });

  it('NaN/±Infinity points are dropped and counted unless the target takes them', () => {
    const row = { step: 3, timestamp: 10, values: { a: Number.NaN, b: -Infinity, c: 1 } };
    const dropped = mapHistoryRow(row, new SeriesPathPlanner(), { ...defaultMappingOptions, capabilities: B }, 0);
    expect(dropped.floats.map((f) => f.path)).toEqual(['c']);
    expect(dropped.omissions.map((o) => [o.reason, o.subject])).toEqual([['non-finite', 'a'], ['non-finite', 'b']]);
    const sent = mapHistoryRow(row, new SeriesPathPlanner(), { ...defaultMappingOptions, capabilities: bSend }, 0);
    expect(sent.floats.map((f) => [f.path, f.point.value])).toEqual([['a', Number.NaN], ['b', -Infinity], ['c', 1]]);
    expect(sent.omissions).toEqual([]);
    const sys = mapSystemSample({ timestamp: 1, values: { 'system.cpu': Infinity } }, 1, 'send');
    expect(sys).toEqual({ points: [{ path: 'monitoring/cpu', point: { step: 1, timestampMs: 1000, value: Infinity } }], nonFinite: 0, unsupported: [] });
  });

  it('run ids: A keeps 36 characters, B 128 bytes without hashing', () => {
    const id = 'x'.repeat(100);
    expect(neptuneCustomRunId(id, B)).toBe(id);
    expect(neptuneCustomRunId(id)).toHaveLength(36);
    const wide = 'é'.repeat(70); // 140 bytes
    const short = neptuneCustomRunId(wide, B);
    expect(Buffer.byteLength(short)).toBeLessThanOrEqual(128);
    expect(short).toBe(neptuneCustomRunId(wide, B));
    expect(short.startsWith('éé')).toBe(true);
  });

  it('console lines split at the target entry length', () => {
    const line = { index: 2, text: 'a'.repeat(5000) };
    expect(mapConsoleLine(line, 0, { include: new Set(), capabilities: PROTOCOL_A_CAPABILITIES }).points.map((p) => p.value)).toEqual(
      ['a', 'a', 'a', 'a', 'a'].map((c) => c.repeat(1000)),
    );
    expect(mapConsoleLine(line, 0, { include: new Set(), capabilities: B }).points).toEqual([{ step: 2, timestampMs: 0, value: line.text }]);
  });
});
