/**
 * Issue 8, W&B downloads: `File.url` redirects to a signed storage URL, and signed URLs expire. With
 * every run's first file listing and first parquet export handing out already-expired URLs (as a
 * listing made hours before its files are reached would), the CLI still migrates every file byte for
 * byte and every history point, and the W&B key never reaches the storage origin.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../../emulators/stack.ts';
import { generateEntity } from '../../emulators/wandb/index.ts';
import { events, runCli } from '../support/cli.ts';
import { expectedFileSet, expectedHistory, fileBytes } from '../support/expected.ts';
import { neptuneRunId } from '../support/neptune-snapshot.ts';

const PROJECT = 'vision-models';
let stack: Stack;
let dir: string;
let out: { code: number | null; stdout: string; stderr: string };

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'w2n-signed-'));
  stack = await startStack({ entity: generateEntity({ seed: 7, preset: 'all-shapes', entity: 'signed-team' }), wandbFaults: { staleFirstUrls: true }, workDir: join(dir, 'export') });
  out = await runCli(['migrate', '--workspace', 'demo', '--projects', PROJECT, '--yes', '--json', '--ledger', join(dir, 'ledger.sqlite')], stack.env, dir).done;
}, 180_000);

afterAll(async () => {
  await stack?.close();
  rmSync(dir, { recursive: true, force: true });
});

const runs = () => stack.entity.projects.find((p) => p.name === PROJECT)!.runs;
const runId = (id: string) => neptuneRunId(stack.neptune, `demo/${PROJECT}`, id)!;

describe('signed URLs that expire, and File.url redirects', () => {
  it('exits 0 with every run migrated and no download failure in the report', () => {
    expect(out.code, out.stderr).toBe(0);
    const report = (events(out.stdout).find((e) => e.type === 'report') as unknown as {
      report: { totals: { migrated: number; failed: number }; runs: Array<{ notWritten: Array<{ reason: string }> }> };
    }).report;
    expect(report.totals).toMatchObject({ migrated: runs().length, failed: 0 });
    expect(report.runs.flatMap((r) => r.notWritten).filter((n) => /download|fail/.test(n.reason))).toEqual([]);
    // the faults were met: expired URLs refused, redirects followed
    expect(stack.wandb.stats().expiredUrls).toBeGreaterThan(0);
    expect(stack.wandb.stats().redirects).toBeGreaterThan(0);
  });

  it('lands every file byte for byte', () => {
    for (const run of runs()) {
      const got = { files: stack.neptune.inspect.fileSet(runId(run.id), 'files'), checkpoints: stack.neptune.inspect.fileSet(runId(run.id), 'checkpoints'), 'source_code/files': stack.neptune.inspect.fileSet(runId(run.id), 'source_code/files') };
      for (const f of run.files) {
        const set = expectedFileSet(f) as keyof typeof got | undefined;
        if (set) expect(got[set][f.name]?.equals(fileBytes(f)), `${run.id} ${f.name}`).toBe(true);
      }
    }
  });

  it('lands every history point, the exported runs included (fresh export URLs asked for)', () => {
    for (const run of runs()) {
      for (const [path, points] of expectedHistory(run).floats) expect(stack.neptune.inspect.floatSeries(runId(run.id), path), `${run.id} ${path}`).toEqual(points);
    }
  });

  it('never sends the W&B key to the storage origin, redirect targets included', () => {
    expect(stack.wandb.stats().downloadsWithAuth).toBe(0);
  });
});
