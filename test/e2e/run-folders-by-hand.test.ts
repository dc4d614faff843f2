/**
 * Run folders as a new user meets them, through the real CLI into the Neptune emulator (both
 * protocols where the case is about what lands): what was found by hand on folders written by the
 * wandb SDK 0.17.9 (offline) and fixed. Every case compares what the emulator holds with the folder.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNeptuneEmulator, type NeptuneEmulator } from '../../emulators/neptune/index.ts';
import { encodeLog, rec, type ItemIn } from '../../src/sources/local/wandb-log/test-log-writer.ts';
import { events, runCli } from '../support/cli.ts';

const T0 = 1_796_000_000;
let emu: NeptuneEmulator;
let root: string;

beforeAll(async () => {
  emu = await startNeptuneEmulator({ workspaces: ['demo'] });
  root = mkdtempSync(join(tmpdir(), 'w2n-folders-by-hand-'));
});
afterAll(async () => {
  await emu.close();
});

interface Report {
  runs: Array<{ run: string; status: string; written: Record<string, number>; notices: Array<{ stream: string; kind: string; message: string; count?: number }> }>;
}

async function migrate(source: string, protocol: 'a' | 'b', ledger: string, extra: string[] = []) {
  const out = await runCli(['migrate', '--source', source, '--workspace', 'demo', '--yes', '--json', '--protocol', protocol, '--ledger', ledger, ...extra],
    { NEPTUNE_API_TOKEN: emu.apiToken() }, root).done;
  const report = (events(out.stdout).find((e) => e.type === 'report') as unknown as { report: Report } | undefined)?.report;
  return { ...out, report };
}

/** A history row as wandb 0.17.9 logs it: the values, `_step`, `_timestamp`, `_runtime`. */
function row(step: number, loss: number): Uint8Array {
  const items: ItemIn[] = [
    { key: 'loss', value: String(loss) },
    { key: '_step', value: String(step) },
    { key: '_timestamp', value: String(T0 + step) },
    { key: '_runtime', value: String(step) },
  ];
  return rec.history(items, step);
}

function runFolder(parent: string, name: string, runId: string, records: Uint8Array[]): string {
  const dir = join(parent, name);
  mkdirSync(join(dir, 'files'), { recursive: true });
  writeFileSync(join(dir, `run-${runId}.wandb`), encodeLog(records).bytes);
  return dir;
}

function lossPoints(project: string, runId: string): Array<{ step: number; value: number }> {
  const run = emu.inspect.runs(`demo/${project}`).find((r) => r.customId === runId);
  if (!run) return [];
  return emu.inspect.floatSeries(run.id, 'loss').map((p) => ({ step: p.step, value: p.value }));
}

describe('a run resumed offline: its second folder restarts its steps at 0 (wandb 0.17.9, resume="allow", WANDB_MODE=offline)', () => {
  for (const protocol of ['a', 'b'] as const) {
    it(`over ${protocol.toUpperCase()}: the rows whose steps the first folder already had are a report line naming the folder, and the report equals what Neptune holds`, async () => {
      const project = `resumed-${protocol}`;
      const wandb = join(root, project, 'wandb');
      const first = [rec.run({ runId: 'res1', project, startTime: T0 }), ...[0, 1, 2, 3].map((s) => row(s, s + 1)), rec.exit(0)];
      // The resumed process could not ask the server where the run was: its steps start at 0 again.
      const second = [rec.run({ runId: 'res1', project, startTime: T0 + 100 }), ...[0, 1, 2, 3, 4, 5].map((s) => row(s, 10 + s)), rec.exit(0)];
      runFolder(wandb, 'offline-run-20261130_101347-res1', 'res1', first);
      runFolder(wandb, 'offline-run-20261130_101353-res1', 'res1', second);
      const out = await migrate(join(root, project), protocol, join(root, `${project}.sqlite`));
      expect(out.code, out.stderr).toBe(0);
      // The first folder's rows, then the second's above step 3 (4 and 5): what the emulator holds.
      expect(lossPoints(project, 'res1')).toEqual([
        { step: 0, value: 1 }, { step: 1, value: 2 }, { step: 2, value: 3 }, { step: 3, value: 4 }, { step: 4, value: 14 }, { step: 5, value: 15 },
      ]);
      const run = out.report!.runs.find((r) => r.run.endsWith('/res1'))!;
      expect(run.written).toMatchObject({ historyPoints: 6, historyRows: 6 });
      const skipped = run.notices.filter((n) => n.stream === 'history');
      expect(skipped).toHaveLength(1);
      expect(skipped[0].count).toBe(4);
      expect(skipped[0].message).toContain('offline-run-20261130_101353-res1');
      expect(skipped[0].message).toContain('not above step 3');
    });
  }
});
