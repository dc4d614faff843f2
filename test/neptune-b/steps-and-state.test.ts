import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startNeptuneEmulator, type NeptuneEmulator } from '../../emulators/neptune/index.ts';
import { PROTOCOL_A_CAPABILITIES, protocolBCapabilities } from '../../src/mapping/capabilities.ts';
import { heldStep } from '../../src/mapping/steps.ts';
import { NeptuneBTarget } from '../../src/sinks/neptune-b/target.ts';
import { closeAfterEach } from '../support/close-after-each.ts';

/** B's microstep rule, and a run's state read back through B's read API (what a resume starts from). */
let emu: NeptuneEmulator | undefined;
let target: NeptuneBTarget | undefined;
const dirs = closeAfterEach(() => [target, emu], () => (target = emu = undefined));

const T = 1_700_000_000_000;

describe('steps as B holds them', () => {
  it('whole microsteps under B (truncated as neptune-scale does), the double itself under A', () => {
    const b = protocolBCapabilities();
    expect(heldStep(0.5175197725, b)).toBe(0.517519);
    expect(heldStep(302.1234567, b)).toBe(302.123456);
    expect(heldStep(300.25, b)).toBe(300.25);
    expect(heldStep(7, b)).toBe(7);
    expect(heldStep(0.5175197725, PROTOCOL_A_CAPABILITIES)).toBe(0.5175197725);
  });

  it('the writer sends the step as held; a second W&B step on the same microstep is a report line, not a point', async () => {
    emu = await startNeptuneEmulator({ workspaces: ['demo'] });
    target = new NeptuneBTarget({ token: emu.apiToken(), ingest: { sleep: async () => {} } });
    const run = await target.openRun(await target.ensureProject('demo', 'micro', { description: '', fields: [] }), 'run-m');
    run.appendFloats('monitoring/cpu', [
      { step: 0.5175197725, timestampMs: T, value: 1 },
      { step: 0.5175199, timestampMs: T + 1, value: 2 },
      { step: 15.0000004, timestampMs: T + 2, value: 3 },
    ]);
    const omissions = await run.flush();
    expect(omissions).toEqual([{ reason: 'step-not-increasing', subject: 'monitoring/cpu', count: 1, detail: expect.stringMatching(/microstep/) }]);
    expect(emu.b.inspect.floatSeries('demo/micro', 'run-m', 'monitoring/cpu')).toEqual([
      { step: 0.517519, timestampMs: T, value: 1 },
      { step: 15, timestampMs: T + 2, value: 3 },
    ]);
  });
});

describe('state(): what the run holds, read over B', () => {
  it('last steps of float and string series, and the files under each namespace with their sizes', async () => {
    emu = await startNeptuneEmulator({ workspaces: ['demo'] });
    target = new NeptuneBTarget({ token: emu.apiToken(), ingest: { sleep: async () => {} } });
    const p = await target.ensureProject('demo', 'state', { description: '', fields: [] });
    const run = await target.openRun(p, 'run-s');
    expect(await run.state()).toEqual({ lastSteps: new Map(), fieldCount: expect.any(Number), fileSets: [], types: new Map(), sets: new Map() });
    run.assign([{ path: 'config/lr', value: { type: 'float', value: 0.1 } }]);
    run.appendFloats('loss', [0, 1, 2.5].map((step) => ({ step, timestampMs: T, value: step })));
    run.appendStrings('monitoring/stdout', [{ step: 0, timestampMs: T, value: 'a' }, { step: 1, timestampMs: T, value: 'b' }]);
    run.appendFloats('monitoring/cpu', [{ step: 0.5175197725, timestampMs: T, value: 1 }]);
    await run.flush();
    const dir = mkdtempSync(join(tmpdir(), 'w2n-b-state-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'a.txt'), 'hello');
    writeFileSync(join(dir, 'b.bin'), Buffer.alloc(1000, 7));
    expect(await run.uploadFileSet('source_code/files', [
      { localPath: join(dir, 'a.txt'), relativePath: 'src/a.txt', sizeBytes: 5 },
      { localPath: join(dir, 'b.bin'), relativePath: 'b.bin', sizeBytes: 1000 },
    ])).toEqual({ refused: [], alreadyPresent: [] });

    // A new writer (a resumed process) reads it all back.
    await target.close();
    target = new NeptuneBTarget({ token: emu.apiToken(), ingest: { sleep: async () => {} } });
    const again = await target.openRun(p, 'run-s');
    const state = await again.state();
    expect(Object.fromEntries(state.lastSteps)).toEqual({ loss: 2.5, 'monitoring/stdout': 1, 'monitoring/cpu': 0.517519 });
    expect([...(state.fileSets ?? [])].sort()).toEqual(['source_code', 'source_code/files', 'source_code/files/src']);
    expect(Object.fromEntries(await again.listFileSet!('source_code/files'))).toEqual({ 'src/a.txt': 5, 'b.bin': 1000 });
    // Every field with its type: what a pass over a run changed in W&B compares with (mapping/stale-fields.ts).
    expect(state.types?.get('config/lr')).toBe('float');
    expect(state.types?.get('loss')).toBe('floatSeries');
  });

  it('finds the run by its custom run id through the leaderboard search, quotes and backslashes escaped', async () => {
    emu = await startNeptuneEmulator({ workspaces: ['demo'] });
    target = new NeptuneBTarget({ token: emu.apiToken(), ingest: { sleep: async () => {} } });
    const p = await target.ensureProject('demo', 'search', { description: '', fields: [] });
    const ids = ['plain', 'say "hi"', 'back\\slash'];
    for (const [i, id] of ids.entries()) {
      const run = await target.openRun(p, id);
      run.appendFloats('loss', [{ step: i + 1, timestampMs: T, value: i }]);
      await run.flush();
    }
    for (const [i, id] of ids.entries()) expect(Object.fromEntries((await (await target.openRun(p, id)).state()).lastSteps), id).toEqual({ loss: i + 1 });
  });
});
