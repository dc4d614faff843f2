/**
 * Issue 9, item 3: `wandb-metadata.json` is where W&B keeps 8 `wandb/*` fields (host, os, python, gpu,
 * gpuCount, cpuCount, program, codePath). A failure to download it leaves the run incomplete (exit 3,
 * everything else migrated), and the next pass writes the fields. A file that is gone for good is a
 * report line, which `--strict` counts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../../emulators/stack.ts';
import { generateEntity } from '../../emulators/wandb/index.ts';
import { events, runCli } from '../support/cli.ts';
import { expectedHistory } from '../support/expected.ts';
import { neptuneRunId } from '../support/neptune-snapshot.ts';

const PROJECT = 'rl-sandbox';
const META = 'wandb-metadata.json';
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

type Migrate = (...extra: string[]) => Promise<{ code: number | null; stdout: string; stderr: string }>;

async function setup(status: number): Promise<{ stack: Stack; migrate: Migrate }> {
  const dir = mkdtempSync(join(tmpdir(), 'w2n-provenance-'));
  const stack = await startStack({ entity: generateEntity({ seed: 7, preset: 'all-shapes', entity: 'prov-team' }), wandbFaults: { fileStatus: { [META]: status } }, workDir: join(dir, 'export') });
  cleanups.push(async () => {
    await stack.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const migrate: Migrate = (...extra) => runCli(['migrate', '--workspace', 'demo', '--projects', PROJECT, '--yes', '--json', '--ledger', join(dir, 'ledger.sqlite'), ...extra], stack.env, dir).done;
  return { stack, migrate };
}

type Report = { totals: { migrated: number; failed: number; skipped: number }; runs: Array<{ run: string; status: string; error?: string; notices: Array<{ kind: string; message: string }> }> };
const reportOf = (stdout: string) => (events(stdout).find((e) => e.type === 'report') as unknown as { report: Report }).report;

describe('wandb-metadata.json that fails to download', () => {
  it('leaves the run incomplete (everything else written), and the next pass writes its fields', async () => {
    const { stack, migrate } = await setup(403);
    const runs = stack.entity.projects.find((p) => p.name === PROJECT)!.runs.filter((r) => r.files.some((f) => f.name === META));
    expect(runs.length).toBeGreaterThan(0);

    const first = await migrate();
    expect(first.code).toBe(3);
    const r1 = reportOf(first.stdout);
    for (const run of runs) {
      const line = r1.runs.find((x) => x.run.endsWith(`/${run.id}`))!;
      expect(line.status).toBe('failed');
      expect(line.error).toContain(`${META} of prov-team/${PROJECT}/${run.id} could not be read; the run stays incomplete and is read again on the next pass`);
      const id = neptuneRunId(stack.neptune, `demo/${PROJECT}`, run.id)!;
      // the rest of the run is there; the metadata fields are not
      for (const [path, points] of expectedHistory(run).floats) expect(stack.neptune.inspect.floatSeries(id, path), path).toEqual(points);
      expect(stack.neptune.inspect.attributes(id)['wandb/python']).toBeUndefined();
    }

    stack.wandb.setFaults(undefined);
    const second = await migrate();
    expect(second.code).toBe(0);
    expect(reportOf(second.stdout).totals.failed).toBe(0);
    for (const run of runs) {
      const attrs = stack.neptune.inspect.attributes(neptuneRunId(stack.neptune, `demo/${PROJECT}`, run.id)!);
      expect(attrs['wandb/python']?.value).toBe('3.11.4');
      expect(attrs['wandb/os']?.value).toBe('Linux-6.5.0-x86_64-with-glibc2.35');
      expect(attrs['wandb/gpu']?.value).toBe('NVIDIA A100');
      if (run.host) expect(attrs['wandb/host']?.value).toBe(run.host);
    }
  }, 120_000);

  it('a file that is gone for good is a report line naming the lost fields, and --strict counts it', async () => {
    const { stack, migrate } = await setup(404);
    const out = await migrate('--strict');
    expect(out.code).toBe(4);
    const report = reportOf(out.stdout);
    expect(report.totals.failed).toBe(0);
    const runs = stack.entity.projects.find((p) => p.name === PROJECT)!.runs.filter((r) => r.files.some((f) => f.name === META));
    for (const run of runs) {
      const line = report.runs.find((x) => x.run.endsWith(`/${run.id}`))!;
      expect(line.status).toBe('migrated');
      expect(line.notices.map((n) => n.message)).toContainEqual(expect.stringMatching(/^wandb-metadata\.json is listed but cannot be downloaded \(.*HTTP 404.*\): its host, os, python, gpu, gpuCount, cpuCount, program and codePath \(wandb\/\*\) are not written$/));
    }
  }, 120_000);
});
