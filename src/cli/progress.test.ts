import { describe, expect, it } from 'vitest';
import { silentLogger } from '../core/logger.ts';
import { createRenderer } from './progress.ts';

function sink() {
  let text = '';
  return { write: (s: string) => ((text += s), true), get text() { return text; } };
}

const run = { entity: 'e', project: 'p', runId: 'r1' };

describe('progress renderer', () => {
  it('on a TTY draws the overall line and a bar per active run, filled by history rows done', () => {
    const err = sink();
    const render = createRenderer({ json: false, tty: true, log: silentLogger, err: err as unknown as NodeJS.WritableStream });
    render({ type: 'run.started', run, resumed: false, expectedRows: 100 });
    render({ type: 'run.progress', run, stream: 'history', points: 500, files: 0, bytes: 0, rows: 50 });
    // Redraws are throttled; a finished run's line forces one.
    render({ type: 'run.done', run: { ...run, runId: 'r0' }, points: 1, files: 0, bytes: 0, omitted: 0 });
    expect(err.text).toContain('e/p/r0: migrated (1 points, 0 files)');
    expect(err.text).toContain('runs: 1 migrated, 0 skipped, 0 failed, 1 active');
    expect(err.text).toContain(`e/p/r1${' '.repeat(34)} [${'#'.repeat(10)}${' '.repeat(10)}] 500 points`);
  });

  it('without a TTY writes plain lines; with --json, NDJSON events on stdout and nothing on stderr', () => {
    const plain = sink();
    createRenderer({ json: false, tty: false, log: silentLogger, err: plain as unknown as NodeJS.WritableStream })({ type: 'run.failed', run, error: 'boom' });
    expect(plain.text).toBe('e/p/r1: FAILED: boom\n');
    const out = sink();
    const err = sink();
    createRenderer({ json: true, tty: false, log: silentLogger, out: out as unknown as NodeJS.WritableStream, err: err as unknown as NodeJS.WritableStream })({ type: 'run.skipped', run, reason: 'unchanged' });
    expect(JSON.parse(out.text)).toMatchObject({ type: 'run.skipped', run, reason: 'unchanged' });
    expect(err.text).toBe('');
  });

  it('on a TTY shows a request being retried or waited on under the bars, until work moves again; the bars go at the end', () => {
    const err = sink();
    const render = createRenderer({ json: false, tty: true, log: silentLogger, err: err as unknown as NodeJS.WritableStream });
    render({ type: 'migration.started', ledger: 'l.sqlite', dryRun: false });
    render({ type: 'http.waiting', service: 'Neptune', what: 'Neptune project demo/p (GET http://x/api)', waitedMs: 10_000 });
    expect(err.text).toContain('  waiting: Neptune project demo/p (GET http://x/api): no answer for 10 s');
    render({ type: 'http.retry', service: 'Neptune', what: 'Neptune project demo/p (GET http://x/api)', attempt: 1, attempts: 7, delayMs: 1500, reason: 'Headers Timeout Error' });
    expect(err.text).toContain('  retrying: Neptune project demo/p (GET http://x/api): Headers Timeout Error; retry 1 of 6 in 1.5 s');
    const before = err.text.length;
    render({ type: 'run.done', run, points: 1, files: 0, bytes: 0, omitted: 0 });
    expect(err.text.slice(before)).not.toContain('retrying:');
    const end = err.text.length;
    render({ type: 'migration.done', migrated: 1, skipped: 0, failed: 0, interrupted: false });
    // Cursor up over the drawn block and clear it: the report that follows is the one summary.
    expect(err.text.slice(end)).toBe('\x1b[1A\x1b[0J');
  });

  it('a dry run says "would migrate", never "migrated"', () => {
    const err = sink();
    const render = createRenderer({ json: false, tty: false, log: silentLogger, err: err as unknown as NodeJS.WritableStream });
    render({ type: 'migration.started', ledger: 'l.sqlite', dryRun: true });
    render({ type: 'run.done', run, points: 3, files: 1, bytes: 0, omitted: 0 });
    expect(err.text).toContain('e/p/r1: would migrate (3 points, 1 files)');
    expect(err.text).not.toContain('migrated');
  });
});
