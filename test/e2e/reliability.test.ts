import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startNeptuneEmulator, type NeptuneEmulator } from '../../emulators/neptune/index.ts';
import { startStack, STACK_WORKSPACE } from '../../emulators/stack.ts';
import { generateEntity } from '../../emulators/wandb/index.ts';
import { mulberry32 } from '../../emulators/wandb/generator/prng.ts';
import { events, runCli } from '../support/cli.ts';
import { neptuneSnapshot } from '../support/neptune-snapshot.ts';

/**
 * Issue 9, "Done when": the reliability test, at CI size. A generated entity with faults on both
 * sides (W&B: 5xx, resets, truncated downloads; Neptune: 5xx, resets, access tokens expired under the
 * writer), the CLI SIGKILLed at seeded random points — after a seeded number of acknowledged batches —
 * and resumed until it completes. The end state equals a clean migration's: every field, every point,
 * every file by hash.
 */
const SEED = 20_251_129;
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

interface RunWritten {
  run: string;
  status: string;
  written: Record<string, number>;
  notWritten: Array<{ reason: string; subject: string; count: number }>;
}

const reportOf = (stdout: string): { runs: RunWritten[]; totals: Record<string, number> } =>
  (events(stdout).find((e) => e.type === 'report') as unknown as { report: { runs: RunWritten[]; totals: Record<string, number> } }).report;

/** The reduced entity: every shape of all-shapes but the bulky ones (a 5,000-key summary, 60 files of filler). */
function reliabilityEntity() {
  const entity = generateEntity({ seed: SEED % 1000, preset: 'all-shapes', entity: 'reliable-team' });
  for (const p of entity.projects) p.runs = p.runs.filter((r) => r.displayName !== 'huge-summary' && r.displayName !== 'many-files' && r.displayName !== 'many-keys');
  return entity;
}

/** A run's counts as the report gives them: written by this ledger's passes plus found already there (after a kill). */
const pick = (w: Record<string, number>) => {
  const held = (name: string) => (w[name] ?? 0) + (w[`${name}AlreadyPresent`] ?? 0);
  return { historyPoints: held('historyPoints'), systemPoints: held('systemPoints'), consoleLines: held('consoleLines'), files: held('files') };
};

/** What the emulator holds per W&B run id: history and system points, console lines, files. */
function heldByRun(emu: NeptuneEmulator): Map<string, ReturnType<typeof pick>> {
  const out = new Map<string, ReturnType<typeof pick>>();
  for (const p of emu.inspect.projects()) {
    for (const r of emu.inspect.runs(`${p.workspace}/${p.name}`)) {
      const attrs = emu.inspect.attributes(r.id);
      const h = { historyPoints: 0, systemPoints: 0, consoleLines: 0, files: 0 };
      for (const [path, a] of Object.entries(attrs)) {
        if (path === 'monitoring/stdout') h.consoleLines = new Set(emu.inspect.stringSeries(r.id, path).map((e) => Math.floor(e.step))).size;
        else if (a.type === 'floatSeries' && path.startsWith('monitoring/')) h.systemPoints += emu.inspect.floatSeries(r.id, path).length;
        else if (a.type === 'floatSeries') h.historyPoints += emu.inspect.floatSeries(r.id, path).length;
        else if (a.type === 'stringSeries') h.historyPoints += emu.inspect.stringSeries(r.id, path).length;
        else if (a.type === 'fileSet') h.files += Object.keys(emu.inspect.fileSet(r.id, path)).length;
      }
      out.set(String(attrs['wandb/run_id']?.value ?? r.customId), h);
    }
  }
  return out;
}

describe('reliability: faults on both sides, SIGKILL at seeded random points, resumed until done', () => {
  it('ends equal to a clean migration', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'w2n-reliability-'));
    dirs.push(dir);
    const entity = reliabilityEntity();
    const stack = await startStack({ entity, workDir: join(dir, 'export') });
    const clean = await startNeptuneEmulator({ workspaces: [STACK_WORKSPACE] });
    const args = (ledger: string) => ['migrate', '--workspace', 'demo', '--projects', 'all', '--yes', '--json', '--batch-points', '400', '--concurrency', '3', '--ledger', ledger];
    try {
      const reference = await runCli(args(join(dir, 'clean.sqlite')), { ...stack.env, NEPTUNE_API_TOKEN: clean.apiToken() }, dir).done;
      expect(reference.code, reference.stderr.slice(-2000)).toBe(0);
      // Margin for the kills below: far more acknowledged batches than four passes can use up.
      expect(events(reference.stdout).filter((e) => e.type === 'run.progress').length).toBeGreaterThan(4 * 13 * 2);

      stack.wandb.setFaults({ seed: SEED, status5xxRate: 0.04, resetRate: 0.02, truncateRate: 0.05 });
      stack.neptune.setFaults({ seed: SEED + 1, status5xxRate: 0.04, resetRate: 0.02 });
      const rand = mulberry32(SEED);
      const ledger = join(dir, 'killed.sqlite');
      // Four passes die, each after a seeded 2..13 acknowledged batches (the entity makes ~100, so each
      // kill surely lands mid-migration: a pass that ended first fails waitForEvents); half-way through
      // each, Neptune expires the writer's access tokens. Then one pass runs to the end.
      for (let pass = 0; pass < 4; pass++) {
        const at = 2 + Math.floor(rand() * 12);
        const cli = runCli(args(ledger), stack.env, dir);
        await cli.waitForEvents('run.progress', Math.ceil(at / 2));
        stack.neptune.expireAccessTokens();
        await cli.waitForEvents('run.progress', at);
        cli.child.kill('SIGKILL');
        expect((await cli.done).signal).toBe('SIGKILL');
      }
      const final = await runCli(args(ledger), stack.env, dir).done;
      expect(final.code, final.stderr.slice(-3000)).toBe(0);

      // The faults really happened on both sides.
      const w = stack.wandb.stats();
      const n = stack.neptune.stats();
      expect(w.status5xx + w.resets).toBeGreaterThan(0);
      expect(n.status5xx + n.resets).toBeGreaterThan(0);

      stack.wandb.setFaults(undefined);
      stack.neptune.setFaults(undefined);
      expect(neptuneSnapshot(stack.neptune)).toEqual(neptuneSnapshot(clean));
      const report = reportOf(final.stdout);
      expect(report.totals.failed).toBe(0);
      // Nothing was sent twice: the target never had to refuse a point for its step.
      expect(report.runs.flatMap((r) => r.notWritten).filter((o) => o.reason === 'step-not-increasing' || o.reason === 'rejected-by-server')).toEqual([]);

      // The report tells what the target holds: per run, its written counts are what the emulator kept.
      const held = heldByRun(stack.neptune);
      const said = Object.fromEntries(report.runs.map((r) => [r.run.split('/').pop()!, pick(r.written)]));
      expect(said).toEqual(Object.fromEntries(held));
    } finally {
      await clean.close();
      await stack.close();
    }
  }, 240_000);
});
