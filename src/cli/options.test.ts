import { describe, expect, it } from 'vitest';
import { ConfigError } from '../core/errors.ts';
import { exitCodeFor, EXIT } from './exit-codes.ts';
import { migrateOptionsFromFlags } from './options.ts';

describe('migrate flags → options', () => {
  it('takes the workspace from NEPTUNE_PROJECT and applies the defaults', () => {
    const o = migrateOptionsFromFlags({}, { NEPTUNE_PROJECT: 'team-ws/whatever' });
    expect(o).toMatchObject({ source: 'api', workspace: 'team-ws', projects: 'all', concurrency: 4, fileConcurrency: 4, dryRun: false, strict: false, ledgerPath: 'wandb-to-neptune.sqlite' });
    expect([...o.include]).toEqual([]);
  });

  it('parses lists, dates, includes and project maps', () => {
    const o = migrateOptionsFromFlags(
      { workspace: 'ws', projects: 'a, b', runs: 'r1,r2', state: 'finished,crashed', tags: 'x', since: '2024-05-01', until: '2024-06-01T12:00:00Z', include: ['media,internal', 'tables'], projectMap: 'a=alpha', concurrency: '8' },
      {},
    );
    expect(o.projects).toEqual(['a', 'b']);
    expect(o.filter).toEqual({ runIds: ['r1', 'r2'], states: ['finished', 'crashed'], tags: ['x'], createdAfter: '2024-05-01T00:00:00.000Z', createdBefore: '2024-06-01T12:00:00.000Z' });
    expect([...o.include].sort()).toEqual(['internal', 'media', 'tables']);
    expect(o.projectMap.get('a')).toBe('alpha');
    expect(o.concurrency).toBe(8);
  });

  it('reports every problem at once, as a usage error', () => {
    let error: unknown;
    try {
      migrateOptionsFromFlags({ concurrency: '0', since: 'soon', include: ['nope'], projectMap: 'broken' }, {});
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toHaveLength(5);
    expect(exitCodeFor(error).code).toBe(EXIT.usage);
  });

  it('maps a prompt cancelled with Ctrl-C to the interrupted exit code, without a stack trace', () => {
    const e = Object.assign(new Error('User force closed the prompt with 0 null'), { name: 'ExitPromptError' });
    expect(exitCodeFor(e)).toEqual({ code: EXIT.interrupted, message: 'cancelled' });
  });
});
