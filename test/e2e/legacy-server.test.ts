import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../../emulators/stack.ts';
import { generateEntity } from '../../emulators/wandb/index.ts';
import { events, runCli } from '../support/cli.ts';
import { neptuneRunId } from '../support/neptune-snapshot.ts';

/**
 * Issue 8 (d): an older server that does not know `sys/group_tags` (the emulator's `legacy`). The W&B
 * group is always kept in `wandb/group`; the refused `sys/group_tags` is one report line per run
 * saying so — not a failed run, not a generic refusal.
 */
let stack: Stack;
let dir: string;
let out: { code: number | null; stdout: string; stderr: string };

interface Report {
  totals: { failed: number; migrated: number };
  runs: Array<{ run: string; notWritten: Array<{ reason: string; subject: string; count: number; detail?: string }> }>;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'w2n-legacy-'));
  const entity = generateEntity({ seed: 13, preset: 'all-shapes', entity: 'legacy-team' });
  entity.projects = entity.projects.slice(0, 1);
  stack = await startStack({ entity, workDir: join(dir, 'export'), neptune: { legacy: true } });
  out = await runCli(['migrate', '--workspace', 'demo', '--projects', 'all', '--yes', '--json', '--ledger', join(dir, 'ledger.sqlite')], stack.env, dir).done;
}, 180_000);

afterAll(async () => {
  await stack?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('an older server without sys/group_tags', () => {
  it('fails no run; every grouped run keeps its group in wandb/group and has one line saying why sys/group_tags is missing', () => {
    expect(out.code, out.stderr).toBe(0);
    const report = (events(out.stdout).find((e) => e.type === 'report') as unknown as { report: Report }).report;
    expect(report.totals.failed).toBe(0);
    const project = stack.entity.projects[0];
    const grouped = project.runs.filter((r) => r.group);
    expect(grouped.length).toBeGreaterThan(0);
    for (const run of project.runs) {
      const id = neptuneRunId(stack.neptune, `demo/${project.name.replace(/_/g, '-')}`, run.id)!;
      const attrs = stack.neptune.inspect.attributes(id);
      const lines = report.runs.find((r) => r.run.endsWith(`/${run.id}`))!.notWritten.filter((o) => o.subject === 'sys/group_tags');
      expect(attrs['sys/group_tags'], run.id).toBeUndefined();
      if (!run.group) {
        expect(lines).toEqual([]);
        continue;
      }
      expect(attrs['wandb/group']?.value).toBe(run.group);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatchObject({ reason: 'rejected-by-server', count: 1 });
      expect(lines[0].detail).toMatch(/does not take sys\/group_tags.*kept in wandb\/group/);
    }
  });
});
