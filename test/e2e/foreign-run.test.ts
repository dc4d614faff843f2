import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startStack } from '../../emulators/stack.ts';
import { session } from '../../emulators/neptune/test-client.ts';
import { generateEntity } from '../../emulators/wandb/index.ts';
import { events, runCli } from '../support/cli.ts';
import { neptuneSnapshot } from '../support/neptune-snapshot.ts';

/**
 * A project Neptune's example migration script filled before (peers.md §1.3): its runs carry the W&B
 * run id as custom run id, as ours do, but their series were numbered by Neptune (appended with a
 * timestamp only) and the system metrics sampled. Tried by hand: the tool resumed into such a run,
 * took its last auto-numbered step for the W&B step it had reached, sent only the points after it and
 * reported the rest "already in Neptune" — which held other steps and fewer points. Now such a run is
 * failed with a message saying what to do, nothing is written into it, and the other runs land.
 */
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

interface Report { report: { totals: Record<string, number>; runs: Array<{ run: string; status: string; error?: string }> } }

describe('a Neptune run another tool wrote under the same custom run id', () => {
  for (const protocol of ['a', 'b'] as const) {
    it(`is failed with what to do, not resumed into (Protocol ${protocol.toUpperCase()}); the other runs land`, async () => {
      const dir = mkdtempSync(join(tmpdir(), `w2n-foreign-${protocol}-`));
      dirs.push(dir);
      const entity = generateEntity({ seed: 9, preset: 'many-small-runs', runs: 3, entity: 'old-script' });
      const wandbProject = entity.projects[0];
      const stack = await startStack({ entity, workDir: join(dir, 'export') });
      try {
        // What the script left: the project, a run with the W&B id as custom id, `loss` auto-numbered, wandb/<GraphQL attr> strings.
        const victim = wandbProject.runs[1];
        const client = await session(stack.neptune);
        const project = await client.createProject(wandbProject.name.replace(/_/g, '-'));
        const run = await client.createRun(project.id, victim.id);
        const t = Date.parse('2024-05-01T00:00:00Z');
        const put = await client.ops(run.id, [
          { path: 'loss', logFloats: { entries: Array.from({ length: 10 }, (_, i) => ({ value: i / 10, step: i, timestampMilliseconds: t + i })) } },
          { path: 'wandb/name', assignString: { value: victim.id } },
        ]);
        expect(put.status).toBe(200);
        const before = (neptuneSnapshot(stack.neptune) as Record<string, Record<string, unknown>>)[`demo/${project.name}/${victim.id}`];

        const out = await runCli(['migrate', '--workspace', 'demo', '--projects', 'all', '--yes', '--json', '--protocol', protocol, '--ledger', join(dir, 'l.sqlite')], stack.env, dir).done;
        expect(out.code).toBe(3);
        const report = (events(out.stdout).find((e) => e.type === 'report') as unknown as Report).report;
        const failed = report.runs.filter((r) => r.status === 'failed');
        expect(failed.map((r) => r.run)).toEqual([`old-script/${wandbProject.name}/${victim.id}`]);
        expect(failed[0].error).toContain(`already holds series that wandb-to-neptune did not write`);
        expect(failed[0].error).toContain('delete that run in Neptune and run migrate again, or migrate into another project (--project-map)');
        expect(report.totals).toMatchObject({ migrated: 2, failed: 1 });
        // Nothing was written into it.
        const after = neptuneSnapshot(stack.neptune) as Record<string, Record<string, unknown>>;
        expect(after[`demo/${project.name}/${victim.id}`]).toEqual(before);
        // The next pass says the same: the failure is not forgotten because the ledger started the run.
        const again = await runCli(['migrate', '--workspace', 'demo', '--projects', 'all', '--yes', '--json', '--protocol', protocol, '--ledger', join(dir, 'l.sqlite')], stack.env, dir).done;
        expect(again.code).toBe(3);
        expect(neptuneSnapshot(stack.neptune)[`demo/${project.name}/${victim.id}`]).toEqual(before);
      } finally {
        await stack.close();
      }
    }, 120_000);
  }
});
