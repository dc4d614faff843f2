import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNeptuneEmulator, type NeptuneEmulator } from '../../emulators/neptune/index.ts';
import { runCli } from '../support/cli.ts';
import { findRuns } from '../local/helpers.ts';
import { pointsHeld } from '../neptune/held.ts';
import { startNeptuneProxy, type NeptuneProxy } from '../neptune/proxy.ts';

/**
 * Issue 9, item 12: after a resume the human report tells what Neptune holds. Two cases:
 * - the CLI is killed right after Neptune applied a write it never heard back about: the resumed
 *   pass finds those points there; the report still counts them;
 * - the ledger is deleted and the migration run again: everything is already there, and the report
 *   says so instead of `points 0`.
 * Deterministic: the proxy kills the CLI when the third write of points reaches it (and forwards it).
 */
const RUNS = ['resumeaa', 'resumebb'];
const ROWS = 1200;
let dir: string;

function runFolder(id: string, seed: number): void {
  const d = join(dir, 'wandb', `run-20240301_120000-${id}`);
  mkdirSync(d, { recursive: true });
  writeFileSync(join(d, 'wandb-metadata.json'), JSON.stringify({ project: 'resume-report' }));
  const rows = Array.from({ length: ROWS }, (_, i) => JSON.stringify({ _step: i, _timestamp: 1_709_294_400 + i, _runtime: i + 0.5, a: seed + i, b: seed - i }));
  writeFileSync(join(d, 'wandb-history.jsonl'), rows.join('\n') + '\n');
}

/** `points N` of each run line of the human report, and the header's total. */
function reported(text: string): { perRun: Map<string, number>; total: number } {
  const perRun = new Map<string, number>();
  for (const m of text.matchAll(/^(?:MIGRATED|SKIPPED)\s+\S+\/(\w+)(?: \([^)]*\))?: fields \d+, points (\d+)/gm)) perRun.set(m[1], Number(m[2]));
  const total = /^Written: ([\d,]+) points/m.exec(text);
  return { perRun, total: total ? Number(total[1].replace(/,/g, '')) : NaN };
}

function held(emu: NeptuneEmulator): Map<string, number> {
  const out = new Map<string, number>();
  for (const id of RUNS) {
    out.set(id, pointsHeld(emu, findRuns(emu, id)[0].id));
  }
  return out;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'w2n-resrep-'));
  RUNS.forEach((id, i) => runFolder(id, i * 1000));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

const args = (ledger: string) => ['migrate', '--source', join(dir, 'wandb'), '--workspace', 'demo', '--yes', '--concurrency', '1', '--batch-points', '500', '--ledger', join(dir, ledger)];

describe('the report after a resume tells what Neptune holds', () => {
  let emu: NeptuneEmulator;
  let proxy: NeptuneProxy;
  beforeAll(async () => {
    emu = await startNeptuneEmulator({ workspaces: ['demo'] });
    proxy = await startNeptuneProxy(emu);
  });
  afterAll(async () => {
    await proxy.close();
    await emu.close();
  });
  const env = () => ({ NEPTUNE_API_TOKEN: proxy.apiToken(), NEPTUNE_PROJECT: 'demo/placeholder' });

  it('killed right after Neptune applied a write: the resumed report counts those points', async () => {
    let writes = 0;
    const first = runCli(args('killed.sqlite'), env(), dir);
    proxy.decide = (r) => {
      if (!r.path.endsWith('/attributes/operations') || !r.body.includes('"logFloats"')) return { kind: 'forward' };
      if (++writes !== 3) return { kind: 'forward' };
      first.child.kill('SIGKILL');
      return { kind: 'drop-response' };
    };
    const killed = await first.done;
    expect(killed.signal).toBe('SIGKILL');
    proxy.decide = undefined;
    const resumed = await runCli(args('killed.sqlite'), env(), dir).done;
    expect(resumed.code, resumed.stderr).toBe(0);
    const want = held(emu);
    expect([...want.values()]).toEqual([2 * ROWS, 2 * ROWS]);
    const got = reported(resumed.stderr);
    expect(Object.fromEntries(got.perRun)).toEqual(Object.fromEntries(want));
    expect(got.total).toBe(4 * ROWS);
    expect(resumed.stderr).toMatch(/of which [\d,]+ points were already in Neptune/);
  }, 120_000);

  it('the ledger deleted and the migration run again: every point is reported as held, none as written twice', async () => {
    const again = await runCli(args('fresh.sqlite'), env(), dir).done;
    expect(again.code, again.stderr).toBe(0);
    const got = reported(again.stderr);
    expect(Object.fromEntries(got.perRun)).toEqual(Object.fromEntries(held(emu)));
    expect(got.total).toBe(4 * ROWS);
    expect(again.stderr).toMatch(/of which 4,800 points were already in Neptune/);
  }, 120_000);

  it('read again with other options (--include internal): every point counted once', async () => {
    const wider = await runCli([...args('killed.sqlite'), '--include', 'internal'], env(), dir).done;
    expect(wider.code, wider.stderr).toBe(0);
    const want = held(emu);
    // `_runtime` (internal) is a new series now, so Neptune holds more than before.
    expect([...want.values()].every((n) => n > 2 * ROWS)).toBe(true);
    const got = reported(wider.stderr);
    expect(Object.fromEntries(got.perRun)).toEqual(Object.fromEntries(want));
  }, 120_000);
});
