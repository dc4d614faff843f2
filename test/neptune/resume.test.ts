import { afterEach, describe, expect, it } from 'vitest';
import { isAbortError } from '../../src/core/errors.ts';
import { points, rig, type Rig } from './helpers.ts';

let r: Rig | undefined;
afterEach(async () => {
  await r?.close();
  r = undefined;
});

describe('resume (emulator)', () => {
  it('a second pass with the same custom id reuses the run and sends only missing points', async () => {
    r = await rig();
    const p = await r.client.ensureProject('demo', 'resume');
    const first = await r.client.openRun(p, 'run-a');
    first.logFloats('loss', points(500));
    first.logStrings('stdout', [{ step: 0, timestampMs: 1, value: 'hello' }]);
    first.assign('config/bs', { type: 'int', value: 32 });
    await first.flush();

    const second = await r.client.openRun(p, 'run-a');
    expect(second.info.id).toBe(first.info.id);
    expect((await second.lastSteps()).get('loss')).toBe(499);
    expect((await second.existingFields()).get('loss')).toBe('floatSeries');
    const all = points(800);
    const out = second.logFloats('loss', all);
    expect(out).toMatchObject({ accepted: 300, alreadyPresent: 500, omissions: [] });
    expect(second.logStrings('stdout', [{ step: 0, timestampMs: 1, value: 'hello' }]).alreadyPresent).toBe(1);
    second.assign('config/bs', { type: 'int', value: 32 });
    const res = await second.flush();
    expect(res.errors).toEqual([]);
    expect(res.points).toBe(300);
    expect(r.emu.inspect.runs('demo/resume')).toHaveLength(1);
    expect(r.emu.inspect.floatSeries(first.info.id, 'loss')).toEqual(all);
    expect(r.emu.inspect.stringSeries(first.info.id, 'stdout')).toHaveLength(1);
  });

  it('an aborted flush followed by another equals an uninterrupted write', async () => {
    // Small batches, and the abort fired by an event, not a timer: when the server has answered the
    // second executeOperations request of the flush, so it surely lands mid-flush on any machine.
    const ctl = new AbortController();
    let writes: number | undefined; // counted once the flush starts
    r = await rig({}, {
      limits: { maxOpsPerRequest: 3, maxFloatPointsPerOp: 50 },
      http: { service: 'Neptune', onAttempt: (a) => { if (writes !== undefined && a.method === 'POST' && a.status === 200 && ++writes === 2) ctl.abort(); } },
    });
    const p = await r.client.ensureProject('demo', 'resume');
    const run = await r.client.openRun(p, 'run-b');
    const series = { a: points(1500), b: points(900, 10) };
    run.logFloats('a', series.a);
    run.logFloats('b', series.b);
    run.assign('sys/tags', { type: 'stringSet', values: ['x'] });
    writes = 0;
    const aborted = await run.flush(ctl.signal).then(
      () => 'finished',
      (e: unknown) => (isAbortError(e) ? 'aborted' : e),
    );
    expect(aborted).toBe('aborted');
    const stored = r.emu.inspect.floatSeries(run.info.id, 'a').length + r.emu.inspect.floatSeries(run.info.id, 'b').length;
    expect(stored).toBeGreaterThan(0);
    expect(stored).toBeLessThan(1500 + 900);
    expect(run.pendingPoints).toBeGreaterThan(0);

    // More data arrives, then a normal flush completes everything exactly once.
    const more = points(100, 1500);
    run.logFloats('a', more);
    const res = await run.flush();
    expect(res.errors).toEqual([]);
    expect(run.pendingPoints).toBe(0);
    expect(r.emu.inspect.floatSeries(run.info.id, 'a')).toEqual([...series.a, ...more]);
    expect(r.emu.inspect.floatSeries(run.info.id, 'b')).toEqual(series.b);
    expect(r.emu.inspect.stringSet(run.info.id, 'sys/tags')).toEqual(['x']);

    // A fresh writer (a new process) resuming the same run adds nothing twice either.
    const again = await r.client.openRun(p, 'run-b');
    expect(again.logFloats('a', [...series.a, ...more]).accepted).toBe(0);
    expect((await again.flush()).requests).toBe(0);
  });
});
