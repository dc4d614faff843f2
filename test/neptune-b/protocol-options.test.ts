import { describe, expect, it } from 'vitest';
import { migrateOptionsFromFlags } from '../../src/cli/options.ts';
import { ConfigError } from '../../src/core/errors.ts';

/** `--protocol` and `--nan`: defaults, and user mistakes named (exit code 2 through ConfigError). */
const env = { NEPTUNE_PROJECT: 'ws/p' };
const problems = (flags: Record<string, string>) => {
  try {
    migrateOptionsFromFlags(flags, env);
    return [];
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
};

describe('--protocol and --nan', () => {
  it('default to auto and drop; take a, b, send', () => {
    expect(migrateOptionsFromFlags({}, env)).toMatchObject({ protocol: 'auto', nan: 'drop' });
    expect(migrateOptionsFromFlags({ protocol: 'b', nan: 'send' }, env)).toMatchObject({ protocol: 'b', nan: 'send' });
    expect(migrateOptionsFromFlags({ protocol: 'a' }, env)).toMatchObject({ protocol: 'a', nan: 'drop' });
  });

  it('name what is wrong', () => {
    expect(problems({ protocol: 'c' })).toEqual(['--protocol must be a, b or auto, got "c"']);
    expect(problems({ nan: 'keep' })).toEqual(['--nan must be drop or send, got "keep"']);
    expect(problems({ protocol: 'a', nan: 'send' })).toEqual(['--nan send needs Protocol B: Protocol A cannot carry NaN/±Infinity']);
  });
});
