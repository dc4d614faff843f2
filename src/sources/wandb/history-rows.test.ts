import { describe, expect, it } from 'vitest';
import { SourceDataError } from '../../core/errors.ts';
import { parseHistoryString, toHistoryRow } from './history-rows.ts';
import { consoleFileOrder } from './files.ts';

describe('history rows', () => {
  it('parses extended JSON rows, truncating a float _step', () => {
    const r = parseHistoryString('{"_step": 12.0, "_timestamp": 1700000000.5, "_runtime": 3, "loss": NaN, "m": {"_type": "histogram", "bins": [1]}}', 'w', 0);
    expect(toHistoryRow(r)).toEqual({ step: 12, timestamp: 1700000000.5, values: { _runtime: 3, loss: NaN, m: { _type: 'histogram', bins: [1] } } });
  });

  it('a row that cannot be parsed raises SourceDataError naming the run and the step', () => {
    const where = 'history of acme/vision/ab12cd34';
    expect(() => parseHistoryString('{"_step": 42, "loss": nope}', where, 0)).toThrow(SourceDataError);
    expect(() => parseHistoryString('{"_step": 42, "loss": nope}', where, 0)).toThrow(/acme\/vision\/ab12cd34.*step 42/);
    expect(() => parseHistoryString('{"loss": 1}', where, 1000)).toThrow(/step 1000/);
  });

  it('orders console files: output.log, then logs/output_*.log by name', () => {
    expect(consoleFileOrder(['logs/output_20250102_000000_000000002.log', 'x.log', 'output.log', 'logs/output_20250101_000000_000000001.log'])).toEqual([
      'output.log',
      'logs/output_20250101_000000_000000001.log',
      'logs/output_20250102_000000_000000002.log',
    ]);
  });
});
