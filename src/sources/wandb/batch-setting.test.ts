import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../core/errors.ts';
import { batchRunsSetting, DEFAULT_BATCH_RUNS } from './source.ts';

describe('WANDB_TO_NEPTUNE_BATCH_RUNS', () => {
  it('defaults, reads the variable, and the option wins', () => {
    expect(batchRunsSetting(undefined, {})).toBe(DEFAULT_BATCH_RUNS);
    expect(batchRunsSetting(undefined, { WANDB_TO_NEPTUNE_BATCH_RUNS: ' 0 ' })).toBe(0);
    expect(batchRunsSetting(4, { WANDB_TO_NEPTUNE_BATCH_RUNS: '0' })).toBe(4);
  });

  it('anything but a whole number from 0 to 100 is a usage error naming the variable and the value', () => {
    for (const bad of ['abc', '-1', '2.5', '101']) {
      expect(() => batchRunsSetting(undefined, { WANDB_TO_NEPTUNE_BATCH_RUNS: bad })).toThrow(ConfigError);
      expect(() => batchRunsSetting(undefined, { WANDB_TO_NEPTUNE_BATCH_RUNS: bad })).toThrow(`WANDB_TO_NEPTUNE_BATCH_RUNS must be a whole number from 0 (no batching) to 100, got "${bad}"`);
    }
  });
});
