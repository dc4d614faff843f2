/**
 * Issue 5, identity: a run folder migrated twice — with the same ledger, with a lost ledger, and from a
 * copy elsewhere on disk — always reaches the same Neptune run (custom run id = W&B run id in the
 * project named after the run's W&B project), and the second pass sends no series points (its files,
 * which a run folder lists without an MD5, again to the same entries).
 */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNeptuneEmulator, type NeptuneEmulator } from '../../emulators/neptune/index.ts';
import { findRuns, migrateFolder, pointTotal, SAMPLES, seriesOf } from './helpers.ts';

// The 22charlesduck row of SOURCES.md: 61 history rows, entity and project named in the run record.
const FOLDER = '22charlesduck__reversal__run-20241107_025355-qn1qcodi';
// The 3jp4rk row: no entity or project in the log, so the source files it under local/uncategorized.
const FOLDER_NO_PROJECT = '3jp4rk__Condenser__run-20240330_164544-m6pivih1';

describe('identity of runs migrated from disk', () => {
  let emu: NeptuneEmulator;
  const tmp = mkdtempSync(join(tmpdir(), 'w2n-identity-'));
  beforeAll(async () => {
    emu = await startNeptuneEmulator({ workspaces: ['demo'] });
  });
  afterAll(async () => {
    await emu?.close();
    rmSync(tmp, { recursive: true, force: true });
  });


  for (const [folder, runId, project] of [[FOLDER, 'qn1qcodi', 'demo/next-token-failures'], [FOLDER_NO_PROJECT, 'm6pivih1', 'demo/uncategorized']] as const) {
    it(`${runId}: same ledger, lost ledger, and a copy elsewhere all land in one run without duplicates`, async () => {
      const src = join(SAMPLES, folder);
      const ledger = join(tmp, `${runId}-ledger.sqlite`);
      const first = await migrateFolder(emu, src, ledger);
      expect(first.report.runs[0].status).toBe('migrated');
      expect(first.requests.target['points']).toBeGreaterThan(0);
      const runs1 = findRuns(emu, runId);
      expect(runs1).toHaveLength(1);
      expect(runs1[0].project).toBe(project);
      const before = seriesOf(emu, runs1[0]);
      const files = Object.keys(emu.inspect.fileSet(runs1[0].id, 'files')).sort();

      // Same folder, same ledger: the ledger says done, the run is skipped and nothing is sent.
      const again = await migrateFolder(emu, src, ledger);
      expect(again.report.runs[0].status).toBe('skipped');
      expect(again.requests.target['points']).toBe(0);
      expect(again.requests.target['files']).toBe(0);

      // Ledger lost: the run is found again by custom run id and no series point is sent again.
      const fresh = await migrateFolder(emu, src, join(tmp, `${runId}-fresh.sqlite`));
      expect(fresh.report.runs[0].status).toBe('migrated');
      expect(fresh.requests.target['points']).toBe(0);
      // The files are sent again, to the same entries (no duplicate): a run folder lists no MD5, and a
      // file of the same size in Neptune is not proven the same bytes (test/e2e/lost-ledger-same-size.test.ts).
      expect(first.requests.target['files']).toBeGreaterThan(0);
      expect(fresh.requests.target['files']).toBe(first.requests.target['files']);
      expect(fresh.report.runs[0].written['filesAlreadyPresent'] ?? 0).toBe(0);
      expect(fresh.report.runs[0].written['historyPoints'] ?? 0).toBe(0);

      // A copy of the folder under another parent path is the same W&B run.
      const copy = join(tmp, `copy-${runId}`, folder);
      cpSync(src, copy, { recursive: true });
      const moved = await migrateFolder(emu, copy, join(tmp, `${runId}-copy.sqlite`));
      expect(moved.report.runs[0].status).toBe('migrated');
      expect(moved.requests.target['points']).toBe(0);
      expect(moved.requests.target['files']).toBe(first.requests.target['files']);

      const runs2 = findRuns(emu, runId);
      expect(runs2.map((r) => r.id)).toEqual([runs1[0].id]);
      const after = seriesOf(emu, runs2[0]);
      expect(pointTotal(after)).toBe(pointTotal(before));
      expect(after).toEqual(before);
      expect(Object.keys(emu.inspect.fileSet(runs2[0].id, 'files')).sort()).toEqual(files);
    });
  }
});
