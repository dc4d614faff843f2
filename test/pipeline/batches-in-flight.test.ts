/**
 * A target that takes appends during a flush (Protocol B) gets up to `BATCHES_IN_FLIGHT` batches before
 * the first is acknowledged; the ledger still records each batch's cursor in batch order, only once it
 * and every batch before it were acknowledged; a target without that property gets one batch at a time.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { TargetRun } from '../../src/core/sink.ts';
import type { Omission, SeriesPoint } from '../../src/core/target.ts';
import { Ledger } from '../../src/ledger/ledger.ts';
import { BATCHES_IN_FLIGHT, RunBatcher } from '../../src/pipeline/run-batcher.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const KEY = { entity: 'ent', project: 'proj', runId: 'r1' };

/** A run whose flushes stay pending until the test settles them, each with the points it carried. */
function heldRun(overlap: boolean) {
  const flushes: Array<{ points: SeriesPoint<number>[]; settle: (error?: Error) => void }> = [];
  let appended: SeriesPoint<number>[] = [];
  const run: TargetRun = {
    id: 'r1',
    appendsDuringFlush: overlap,
    state: async () => ({ lastSteps: new Map(), fieldCount: 0 }),
    assign: () => {},
    appendFloats: (_path, points) => void appended.push(...points),
    appendStrings: () => {},
    uploadFileSet: async () => ({ refused: [], alreadyPresent: [] }),
    flush: () =>
      new Promise<Omission[]>((resolve, reject) => {
        flushes.push({ points: appended, settle: (error) => (error ? reject(error) : resolve([])) });
        appended = [];
      }),
  };
  return { run, flushes };
}

function ledgerWithRun(): Ledger {
  const dir = mkdtempSync(join(tmpdir(), 'w2n-inflight-'));
  dirs.push(dir);
  const ledger = new Ledger(join(dir, 'ledger.sqlite'));
  ledger.startRun(KEY, { targetProject: 'ws/proj' });
  return ledger;
}

/** Lets every promise callback that can run, run. */
const settled = () => new Promise((r) => setImmediate(r));

/** Submits `n` batches of 10 points each (steps 10k … 10k+9), the history cursor at each batch's last step. */
async function submitBatches(batcher: RunBatcher, n: number, submitted: number[]): Promise<void> {
  for (let b = 0; b < n; b++) {
    for (let i = 0; i < 10; i++) batcher.addFloat('history', 'loss', { step: b * 10 + i, timestampMs: 1000 + b * 10 + i, value: b + i / 10 });
    batcher.progress('history', { cursor: b * 10 + 9, counts: { historyRows: 10 } });
    await batcher.maybeSubmit();
    submitted.push(b);
  }
}

describe('batches in flight', () => {
  it(`a target that takes appends during a flush has ${BATCHES_IN_FLIGHT} batches in flight; the ledger follows in batch order`, async () => {
    const ledger = ledgerWithRun();
    const { run, flushes } = heldRun(true);
    const batcher = new RunBatcher(KEY, run, new Map(), ledger, () => {}, [], 10);
    const submitted: number[] = [];
    const pumping = submitBatches(batcher, BATCHES_IN_FLIGHT + 3, submitted);
    await settled();
    // The pump handed over BATCHES_IN_FLIGHT batches and waits with the next one.
    expect(flushes).toHaveLength(BATCHES_IN_FLIGHT);
    expect(submitted).toHaveLength(BATCHES_IN_FLIGHT);
    expect(flushes.map((f) => f.points.map((p) => p.step))).toEqual(Array.from({ length: BATCHES_IN_FLIGHT }, (_, b) => Array.from({ length: 10 }, (_, i) => b * 10 + i)));
    // The second batch's acknowledgement records nothing before the first's.
    flushes[1].settle();
    await settled();
    expect(ledger.cursor(KEY, 'history')).toBeUndefined();
    expect(flushes).toHaveLength(BATCHES_IN_FLIGHT);
    flushes[0].settle();
    await settled();
    expect(ledger.cursor(KEY, 'history')).toBe(19);
    expect(ledger.counts(KEY).historyPoints).toBe(20);
    // Two acknowledged: two more batches went out.
    expect(flushes).toHaveLength(BATCHES_IN_FLIGHT + 2);
    for (let k = 2; k < flushes.length; k++) flushes[k].settle();
    await settled();
    expect(flushes).toHaveLength(BATCHES_IN_FLIGHT + 3);
    flushes.at(-1)!.settle();
    await pumping;
    await batcher.drain();
    expect(ledger.cursor(KEY, 'history')).toBe((BATCHES_IN_FLIGHT + 3) * 10 - 1);
    expect(ledger.counts(KEY).historyPoints).toBe((BATCHES_IN_FLIGHT + 3) * 10);
  });

  it('a failed batch fails the drain, and records neither its cursor nor those after it', async () => {
    const ledger = ledgerWithRun();
    const { run, flushes } = heldRun(true);
    const batcher = new RunBatcher(KEY, run, new Map(), ledger, () => {}, [], 10);
    const pumping = submitBatches(batcher, 4, []);
    await settled();
    expect(flushes).toHaveLength(4);
    flushes[0].settle();
    flushes[1].settle(new Error('refused'));
    flushes[2].settle();
    flushes[3].settle();
    await pumping;
    await expect(batcher.drain()).rejects.toThrow('refused');
    expect(ledger.cursor(KEY, 'history')).toBe(9);
    expect(ledger.counts(KEY).historyPoints).toBe(10);
  });

  it('a target that does not take appends during a flush gets one batch at a time', async () => {
    const ledger = ledgerWithRun();
    const { run, flushes } = heldRun(false);
    const batcher = new RunBatcher(KEY, run, new Map(), ledger, () => {}, [], 10);
    const pumping = submitBatches(batcher, 3, []);
    await settled();
    expect(flushes).toHaveLength(1);
    flushes[0].settle();
    await settled();
    expect(flushes).toHaveLength(2);
    expect(ledger.cursor(KEY, 'history')).toBe(9);
    flushes[1].settle();
    await settled();
    flushes[2].settle();
    await pumping;
    await batcher.drain();
    expect(ledger.cursor(KEY, 'history')).toBe(29);
  });
});
