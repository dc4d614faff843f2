/**
 * A Protocol B run takes appends while a flush is in flight (`appendsDuringFlush`): they go in the
 * next flush, requests go out in flush order, and each flush resolves only once the server processed
 * it, after the one before.
 */
import { describe, expect, it } from 'vitest';
import { startNeptuneEmulator, type NeptuneEmulator } from '../../emulators/neptune/index.ts';
import { NeptuneBTarget } from '../../src/sinks/neptune-b/target.ts';
import { closeAfterEach } from '../support/close-after-each.ts';

let emu: NeptuneEmulator | undefined;
let target: NeptuneBTarget | undefined;
closeAfterEach(() => [target, emu], () => (target = emu = undefined));

const points = (from: number, n: number) => Array.from({ length: n }, (_, i) => ({ step: from + i, timestampMs: 1_700_000_000_000 + from + i, value: (from + i) / 4 }));

describe('Protocol B: appends while a flush is in flight', () => {
  it('go in the next flush; flushes resolve in order, each once processed', async () => {
    emu = await startNeptuneEmulator({ workspaces: ['demo'] });
    // Status polls wait on a gate the test opens.
    let release!: () => void;
    let gate = new Promise<void>((r) => (release = r));
    target = new NeptuneBTarget({ token: emu.apiToken(), ingest: { sleep: () => gate } });
    const p = await target.ensureProject('demo', 'overlap', { description: '', fields: [] });
    const run = await target.openRun(p, 'run-o');
    expect(run.appendsDuringFlush).toBe(true);
    emu.b.setFaults({ stuckUnavailable: true });
    const order: string[] = [];
    run.appendFloats('loss', points(0, 50));
    const first = run.flush().then((o) => (order.push('first'), o));
    // Appended once the first flush was asked for: not part of it.
    run.appendFloats('loss', points(50, 50));
    run.appendStrings('note', [{ step: 60, timestampMs: 1_700_000_000_060, value: 'later' }]);
    emu.b.setFaults({});
    release();
    expect(await first).toEqual([]);
    expect(emu.b.inspect.floatSeries('demo/overlap', 'run-o', 'loss')).toEqual(points(0, 50));
    // Two flushes in flight at once still resolve in order, each once processed.
    emu.b.setFaults({ stuckUnavailable: true });
    gate = new Promise<void>((r) => (release = r));
    const second = run.flush().then((o) => (order.push('second'), o));
    run.appendFloats('loss', points(100, 10));
    const third = run.flush().then((o) => (order.push('third'), o));
    await new Promise((r) => setTimeout(r, 50));
    expect(order).toEqual(['first']);
    emu.b.setFaults({});
    release();
    expect(await Promise.all([second, third])).toEqual([[], []]);
    expect(order).toEqual(['first', 'second', 'third']);
    expect(emu.b.inspect.floatSeries('demo/overlap', 'run-o', 'loss')).toEqual(points(0, 110));
  });
});
