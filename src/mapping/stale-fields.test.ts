import { describe, expect, it } from 'vitest';
import type { FieldAssignment } from '../core/target.ts';
import { anyStale, isMappedAtom, staleFields } from './stale-fields.ts';

const str = (path: string, value: string): FieldAssignment => ({ path, value: { type: 'string', value } });
const set = (path: string, values: string[]): FieldAssignment => ({ path, value: { type: 'stringSet', values } });

describe('staleFields', () => {
  it('takes away the mapped atoms W&B no longer has, and those about to change type', () => {
    const types = new Map([
      ['config/lr', 'float'], ['config/gone', 'int'], ['config/kept', 'string'], ['summary/old', 'float'], ['wandb/group', 'string'],
      // Not the mapping's: the tool's own, the server's, series and files.
      ['wandb/migration/completed_at', 'datetime'], ['sys/description', 'string'], ['loss', 'floatSeries'], ['config/f', 'fileSet'], ['monitoring/cpu', 'floatSeries'],
    ]);
    const s = staleFields({ types }, [str('config/lr', '0.1'), str('config/kept', 'x')]);
    expect(s).toEqual({ fields: ['config/gone', 'summary/old', 'wandb/group'], retyped: ['config/lr'], fromSets: [] });
    expect(anyStale(s)).toBe(true);
  });

  it('takes out of tags and groups the values W&B no longer has, all of them when W&B has none', () => {
    const sets = new Map([['sys/tags', ['a', 'b', 'c']], ['sys/group_tags', ['g']], ['other/set', ['x']]]);
    expect(staleFields({ sets }, [set('sys/tags', ['b', 'd'])]).fromSets).toEqual([{ path: 'sys/tags', values: ['a', 'c'] }, { path: 'sys/group_tags', values: ['g'] }]);
    expect(staleFields({ sets }, [set('sys/tags', ['a', 'b', 'c']), set('sys/group_tags', ['g'])]).fromSets).toEqual([]);
  });

  it('finds nothing for a run the target does not hold, or holds as W&B has it', () => {
    expect(anyStale(staleFields({}, [str('config/a', 'x')]))).toBe(false);
    expect(anyStale(staleFields({ types: new Map([['config/a', 'string']]), sets: new Map([['sys/tags', []]]) }, [str('config/a', 'y')]))).toBe(false);
  });

  it('one rule for the migration and verify: which held fields are the mapping\'s', () => {
    expect(isMappedAtom('config/a', 'bool')).toBe(true);
    expect(isMappedAtom('summary/a/b', 'datetime')).toBe(true);
    expect(isMappedAtom('wandb/migration/tool_version', 'string')).toBe(false);
    expect(isMappedAtom('sys/name', 'string')).toBe(false);
    expect(isMappedAtom('summary/hist', 'fileSet')).toBe(false);
  });
});
