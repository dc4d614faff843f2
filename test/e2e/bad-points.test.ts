import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNeptuneEmulator, type NeptuneEmulator } from '../../emulators/neptune/index.ts';
import { events, runCli } from '../support/cli.ts';
import { findRuns } from '../local/helpers.ts';
import { pointsHeld } from '../neptune/held.ts';
import { startNeptuneProxy, type NeptuneProxy } from '../neptune/proxy.ts';

/**
 * Issue 9, item 1: one bad point must not lose its whole operation. Two run folders:
 * - `badts01`: row 5 has `_timestamp: 1e15` (1e18 ms, beyond what the server takes). The writer
 *   finds it before sending: Neptune holds the other 9 points of `loss` and of `acc`, the report counts
 *   the 2 left out, by reason.
 * - `refuse01`: a rule the writer does not know: the server (the proxy rewrites the point's timestamp
 *   to 1.5 on its way) refuses every operation holding step 7 of `served_metric`. The other points of
 *   that operation are re-sent and land; only step 7 is lost, counted as refused by the server.
 * In both, the report's written counts equal what Neptune holds.
 */
const T0 = 1_709_294_400;
let emu: NeptuneEmulator;
let proxy: NeptuneProxy;
let dir: string;
let out: { code: number | null; stdout: string; stderr: string };

interface Report {
  totals: { points: number };
  runs: Array<{ run: string; status: string; written: Record<string, number>; notWritten: Array<{ reason: string; subject: string; count: number; detail?: string }> }>;
}

function row(i: number, keys: Record<string, number>, timestamp = T0 + i): Record<string, number> {
  return { _step: i, _timestamp: timestamp, _runtime: i, ...keys };
}

function runFolder(root: string, id: string, rows: Array<Record<string, number>>): void {
  const d = join(root, 'wandb', `run-20240301_120000-${id}`);
  mkdirSync(d, { recursive: true });
  writeFileSync(join(d, 'wandb-metadata.json'), JSON.stringify({ project: 'bad-points', host: 'h', python: '3.8.10' }));
  writeFileSync(join(d, 'wandb-history.jsonl'), rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
}

const lossOf = (i: number) => i * 0.5;
const accOf = (i: number) => 1 - i * 0.01;
const servedOf = (i: number) => i * i;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'w2n-badpt-'));
  runFolder(dir, 'badts01', Array.from({ length: 10 }, (_, i) => row(i, { loss: lossOf(i), acc: accOf(i) }, i === 5 ? 1e15 : T0 + i)));
  runFolder(dir, 'refuse01', Array.from({ length: 10 }, (_, i) => row(i, { served_metric: servedOf(i) })));
  emu = await startNeptuneEmulator({ workspaces: ['demo'] });
  proxy = await startNeptuneProxy(emu);
  proxy.decide = (r) => {
    if (!r.path.endsWith('/attributes/operations')) return { kind: 'forward' };
    const ops = JSON.parse(r.body.toString('utf8')) as Array<{ path: string; logFloats?: { entries: Array<{ step: number; timestampMilliseconds: number }> } }>;
    let changed = false;
    for (const op of ops) {
      if (op.path !== 'served_metric' || !op.logFloats) continue;
      for (const e of op.logFloats.entries) {
        if (e.step === 7) {
          e.timestampMilliseconds = 1.5;
          changed = true;
        }
      }
    }
    return changed ? { kind: 'forward', body: Buffer.from(JSON.stringify(ops)) } : { kind: 'forward' };
  };
  const cli = runCli(
    ['migrate', '--source', join(dir, 'wandb'), '--workspace', 'demo', '--yes', '--json', '--ledger', join(dir, 'ledger.sqlite')],
    { NEPTUNE_API_TOKEN: proxy.apiToken(), NEPTUNE_PROJECT: 'demo/placeholder' },
    dir,
  );
  out = await cli.done;
}, 120_000);

afterAll(async () => {
  await proxy?.close();
  await emu?.close();
  rmSync(dir, { recursive: true, force: true });
});

const report = (): Report => (events(out.stdout).find((e) => e.type === 'report') as unknown as { report: Report }).report;
const runReport = (id: string) => report().runs.find((r) => r.run.endsWith(`/${id}`))!;

describe('one bad point loses only itself', () => {
  it('the migration completes', () => {
    expect(out.code, out.stderr).toBe(0);
  });

  it('a timestamp beyond what the server takes: the other 9 points of each series land, exactly', () => {
    const [run] = findRuns(emu, 'badts01');
    const want = (f: (i: number) => number) =>
      Array.from({ length: 10 }, (_, i) => i)
        .filter((i) => i !== 5)
        .map((i) => ({ step: i, timestampMs: (T0 + i) * 1000, value: f(i) }));
    expect(emu.inspect.floatSeries(run.id, 'loss')).toEqual(want(lossOf));
    expect(emu.inspect.floatSeries(run.id, 'acc')).toEqual(want(accOf));
    const r = runReport('badts01');
    const lost = r.notWritten.filter((o) => o.subject === 'loss' || o.subject === 'acc');
    expect(lost.map((o) => [o.subject, o.reason, o.count]).sort()).toEqual([
      ['acc', 'int-out-of-range', 1],
      ['loss', 'int-out-of-range', 1],
    ]);
    expect(lost[0].detail).toMatch(/1000000000000000000 ms/);
    expect(r.written.historyPoints).toBe(18);
  });

  it('an operation the server refuses for one point: the others are re-sent and land, that one is counted', () => {
    const [run] = findRuns(emu, 'refuse01');
    const want = Array.from({ length: 10 }, (_, i) => i)
      .filter((i) => i !== 7)
      .map((i) => ({ step: i, timestampMs: (T0 + i) * 1000, value: servedOf(i) }));
    expect(emu.inspect.floatSeries(run.id, 'served_metric')).toEqual(want);
    const r = runReport('refuse01');
    const lost = r.notWritten.filter((o) => o.subject === 'served_metric');
    expect(lost.map((o) => [o.reason, o.count])).toEqual([['rejected-by-server', 1]]);
    expect(lost[0].detail).toMatch(/integer/);
    expect(r.written.historyPoints).toBe(9);
  });

  it('the written counts are what Neptune holds', () => {
    const held = ['badts01', 'refuse01'].reduce((n, id) => n + pointsHeld(emu, findRuns(emu, id)[0].id), 0);
    expect(report().totals.points).toBe(held);
  });
});
