import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../../emulators/stack.ts';
import { generateEntity } from '../../emulators/wandb/index.ts';
import { events, runCli } from '../support/cli.ts';

/**
 * Issue 13 (b): Neptune requests per small run, counted at the emulator. A run the target has just
 * created holds nothing: its state is not read back (over B the server says so: CreateRun answers
 * RUN_DUPLICATE for a run that exists; over A the run is in a project this process created), and the
 * migration fields ride with the run's last write. A lost ledger (the runs exist on the target, the
 * ledger knows nothing) reads every run back and writes nothing twice.
 */
let stack: Stack;
let dir: string;
const RUNS = 5;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'w2n-requests-'));
  stack = await startStack({ entity: generateEntity({ seed: 17, preset: 'many-small-runs', runs: RUNS, entity: 'req-team' }), workDir: join(dir, 'export') });
}, 60_000);
afterAll(async () => {
  await stack?.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Totals { migrated: number; failed: number; points: number; pointsAlreadyPresent: number; files: number; filesAlreadyPresent: number }
const totals = (stdout: string) => (events(stdout).find((e) => e.type === 'report') as unknown as { report: { totals: Totals } }).report.totals;

async function sentDuring(work: () => Promise<{ code: number | null; stdout: string; stderr: string }>) {
  const before = { ...stack.neptune.stats().byEndpoint };
  const r = await work();
  expect(r.code, r.stderr).toBe(0);
  const after = stack.neptune.stats().byEndpoint;
  const sent = Object.fromEntries(Object.entries(after).map(([k, v]) => [k, v - (before[k] ?? 0)]).filter(([, n]) => n));
  return { sent, totals: totals(r.stdout) };
}

describe('Neptune requests per small run', () => {
  for (const protocol of ['a', 'b'] as const) {
    it(`over ${protocol.toUpperCase()}: a new run is not read back and completes in one write; after a lost ledger every run is read back and nothing is sent twice`, async () => {
      const ledger = join(dir, `ledger-${protocol}.sqlite`);
      // One run at a time: which run learns what a new A run holds is then the first one.
      const migrate = () =>
        runCli(['migrate', '--workspace', 'demo', '--projects', 'all', '--project-map', `many-runs=runs-${protocol}`, '--protocol', protocol, '--concurrency', '1', '--yes', '--json', '--ledger', ledger], stack.env, dir).done;

      const first = await sentDuring(migrate);
      expect(first.totals).toMatchObject({ migrated: RUNS, failed: 0, pointsAlreadyPresent: 0 });
      expect(first.totals.points).toBeGreaterThan(0);
      // Each small run has two file sets (files, source_code/files).
      expect(first.totals.files).toBe(2 * RUNS);
      if (protocol === 'a') {
        // Per run: createExperiment, one executeOperations (fields, points and migration fields), one
        // upload per file set. Read back: the project (its fields) and the first run (what a new run holds).
        expect(first.sent.createExperiment).toBe(RUNS);
        expect(first.sent.executeOperations).toBe(RUNS + 1);
        expect(first.sent.fileSetFileUpload).toBe(2 * RUNS);
        expect(first.sent.getExperimentAttributes).toBe(2);
      } else {
        // Per run: CreateRun, one ingest of fields, points and migration fields, one of both file sets'
        // refs; one signed-URL request for both sets' files.
        expect(first.sent.ingest).toBe(3 * RUNS);
        expect(first.sent.signedUrlGeneric).toBe(RUNS);
        expect(first.sent.storagePutObject).toBe(2 * RUNS);
        expect(first.sent.searchLeaderboardEntriesProto).toBeUndefined();
        expect(first.sent.getAttributesWithPathsFilterProto).toBeUndefined();
      }

      rmSync(ledger, { force: true });
      const again = await sentDuring(migrate);
      // Everything was there: the report counts what Neptune holds, all of it as already present; over B
      // no file uploaded again (storage's MD5 equals W&B's). Protocol A lists a file set's entries with
      // their sizes only, which prove nothing of the bytes: its files are sent again (and counted as sent).
      expect(again.totals).toMatchObject({ migrated: RUNS, failed: 0, points: first.totals.points, pointsAlreadyPresent: first.totals.points, files: 2 * RUNS, filesAlreadyPresent: protocol === 'a' ? 0 : 2 * RUNS });
      if (protocol === 'a') {
        expect(again.sent.getExperimentAttributes).toBe(RUNS + 1);
        expect(again.sent.fileSetFileUpload).toBe(2 * RUNS);
        expect(again.sent.lsFileSetAttribute).toBeUndefined();
      } else {
        expect(again.sent.searchLeaderboardEntriesProto).toBe(RUNS);
        expect(again.sent.storagePutObject).toBeUndefined();
      }
    }, 120_000);
  }
});
