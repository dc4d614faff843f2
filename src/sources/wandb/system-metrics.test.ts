import { describe, expect, it } from 'vitest';
import { eventToSample } from './system-metrics.ts';

const key = { entity: 'e', project: 'p', runId: 'r' };

describe('eventToSample', () => {
  it('keeps numbers (an integer beyond 2^53 too) and booleans; a value that is not a number is kept aside for the report, never dropped', () => {
    const s = eventToSample('{"_timestamp": 10.5, "_runtime": 3, "system.cpu": 4, "system.ok": true, "system.big": 12345678901234567890, "system.gpu.0.name": "T4", "system.temp": null, "system.l": [1]}', 'w', key);
    expect(s).toEqual({
      timestamp: 10.5,
      runtime: 3,
      values: { 'system.cpu': 4, 'system.ok': 1, 'system.big': 12345678901234567890 },
      unsupported: { 'system.gpu.0.name': '"T4"', 'system.temp': 'null', 'system.l': '[1]' },
    });
  });

  it('a row of numbers only has no `unsupported`', () => {
    expect(eventToSample('{"_timestamp": 1, "system.cpu": 2}', 'w', key)).toEqual({ timestamp: 1, values: { 'system.cpu': 2 } });
  });
});
