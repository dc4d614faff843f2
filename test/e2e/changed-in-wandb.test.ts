import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../../emulators/stack.ts';
import { generateEntity, type GenRun } from '../../emulators/wandb/index.ts';
import { events, runCli } from '../support/cli.ts';
import { neptuneSnapshot } from '../support/neptune-snapshot.ts';

/**
 * A run edited in W&B after it was migrated (the UI or `run.update()`: a tag taken off, the group
 * cleared, a config key deleted or given another type, a summary key deleted, a rename, a file saved afterwards). The next pass
 * brings the Neptune run up to date: what W&B no longer has goes from Neptune too (Protocol A deletes
 * fields; Protocol B cannot, and says so in the report), and `verify` agrees. Tried by hand first: the
 * second pass exited 0 and left the old tag, group, keys and values in place; `verify` then called
 * four of six runs `mismatch`.
 */
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

interface ReportLine { reason: string; subject: string; detail?: string }
interface Report { report: { totals: Record<string, number>; runs: Array<{ run: string; notWritten: ReportLine[] }> } }
type Snapshot = Record<string, Record<string, unknown>>;

function setUp(): { entity: ReturnType<typeof generateEntity>; runs: GenRun[] } {
  const entity = generateEntity({ seed: 5, preset: 'many-small-runs', runs: 7, entity: 'edits' });
  const runs = entity.projects[0].runs;
  const [tags, config, summary, renamed, untagged] = runs;
  tags.tags = ['old-a', 'keep'];
  config.config = { index: 1, lr: 0.002, depth: 3 };
  summary.summary = { ...summary.summary, loss: 0.25, acc: 0.5 };
  renamed.displayName = 'first-name';
  renamed.group = 'g-old';
  untagged.tags = ['stale'];
  return { entity, runs };
}

/** What the user changes in W&B between the two passes. */
function edit(runs: GenRun[]): void {
  const [tags, config, summary, renamed, untagged] = runs;
  expect(runs[5].state).not.toBe('running');
  tags.tags = ['keep', 'new-tag'];
  config.config = { lr: 'changed', depth: 3 };
  delete summary.summary.loss;
  renamed.displayName = 'second-name';
  renamed.group = undefined;
  untagged.tags = [];
  // A file saved to the finished run afterwards (`run.upload_file`): only W&B's file count changes.
  const bytes = Buffer.from('evaluated after the run ended\n');
  runs[5].files.push({ name: 'eval/results.txt', sizeBytes: bytes.length, md5: createHash('md5').update(bytes).digest('base64'), content: () => bytes });
}

/** The set-up entity (`before` changes it first) on both emulators, and a migration over A into it. */
async function overA(
  name: string,
  before: (runs: GenRun[]) => void,
  body: (o: { entity: ReturnType<typeof generateEntity>; runs: GenRun[]; stack: Stack; migrate: () => ReturnType<typeof runCli>['done'] }) => Promise<void>,
): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), `w2n-edits-${name}-`));
  dirs.push(dir);
  const { entity, runs } = setUp();
  before(runs);
  const stack = await startStack({ entity, workDir: join(dir, 'export') });
  try {
    const args = ['migrate', '--workspace', 'demo', '--projects', 'all', '--json', '--protocol', 'a', '--yes', '--ledger', join(dir, 'ledger.sqlite')];
    await body({ entity, runs, stack, migrate: () => runCli(args, stack.env, dir).done });
  } finally {
    await stack.close();
  }
}

describe('a run changed in W&B since it was migrated', () => {
  for (const protocol of ['a', 'b'] as const) {
    it(`ends equal to W&B after the next pass (Protocol ${protocol.toUpperCase()})`, async () => {
      const dir = mkdtempSync(join(tmpdir(), `w2n-edits-${protocol}-`));
      dirs.push(dir);
      const { entity, runs } = setUp();
      const stack = await startStack({ entity, workDir: join(dir, 'export') });
      try {
        const ledger = join(dir, 'ledger.sqlite');
        const select = ['--workspace', 'demo', '--projects', 'all', '--json', '--protocol', protocol, '--ledger', ledger];
        const first = await runCli(['migrate', ...select, '--yes'], stack.env, dir).done;
        expect(first.code).toBe(0);
        const project = `demo/${entity.projects[0].name}`;
        const at = (snap: Snapshot, run: GenRun) => snap[`${project}/${run.id}`];
        const before = neptuneSnapshot(stack.neptune) as Snapshot;
        expect(at(before, runs[0])['sys/tags']).toEqual(['keep', 'old-a']);
        expect(at(before, runs[3])['wandb/group']).toEqual({ type: 'string', value: 'g-old' });

        edit(runs);
        // Before the pass, verify sees every edit, the emptied tags too (the W&B run has none, Neptune one).
        const stale = await runCli(['verify', ...select], stack.env, dir).done;
        expect(stale.code).toBe(5);
        const mismatched = events(stale.stdout).filter((e) => e.type === 'verify.run' && e.status === 'mismatch').map((e) => (e.run as { runId: string }).runId);
        expect(mismatched.sort()).toEqual(runs.slice(0, 6).map((r) => r.id).sort());
        const verifyReport = events(stale.stdout).find((e) => e.type === 'report') as unknown as { report: { runs: Array<{ run: { runId: string }; differences: Array<{ subject: string; detail: string }> }> } };
        expect(verifyReport.report.runs.find((r) => r.run.runId === runs[4].id)!.differences).toContainEqual({ scope: 'field', subject: 'sys/tags', detail: 'in Neptune (stringSet ["stale"]) but the W&B run has none' });

        const second = await runCli(['migrate', ...select, '--yes'], stack.env, dir).done;
        expect(second.code).toBe(0);
        const report = events(second.stdout).find((e) => e.type === 'report') as unknown as Report;
        expect(report.report.totals).toMatchObject({ migrated: 6, skipped: 1, failed: 0 });
        const after = neptuneSnapshot(stack.neptune) as Snapshot;
        const [tags, config, summary, renamed, untagged, saved, unchanged] = runs;

        // String sets follow W&B on both protocols.
        expect(at(after, tags)['sys/tags']).toEqual(['keep', 'new-tag']);
        expect(at(after, untagged)['sys/tags']).toEqual([]);
        expect(at(after, renamed)['sys/group_tags']).toEqual([]);
        // The file saved afterwards landed (verify below compares its bytes).
        if (protocol === 'a') expect(Object.keys(at(after, saved).files as object)).toContain('eval/results.txt');
        else expect(at(after, saved)['files/eval/results.txt']).toMatchObject({ type: 'fileRef' });
        // What did not change did not move.
        expect(at(after, unchanged)).toEqual(at(before, unchanged));
        expect(at(after, config)['config/depth']).toEqual({ type: 'int', value: 3 });
        expect(at(after, summary)['summary/acc']).toEqual({ type: 'float', value: 0.5 });

        const lines = (run: GenRun) => report.report.runs.find((r) => r.run.endsWith(`/${run.id}`))!.notWritten
          .filter((o) => o.reason !== 'excluded-by-default').map((o) => [o.reason, o.subject]);
        if (protocol === 'a') {
          // Protocol A deletes: the fields are W&B's, exactly.
          expect(at(after, config)['config/index']).toBeUndefined();
          expect(at(after, config)['config/lr']).toEqual({ type: 'string', value: 'changed' });
          expect(at(after, summary)['summary/loss']).toBeUndefined();
          expect(at(after, renamed)['wandb/group']).toBeUndefined();
          expect(at(after, renamed)['sys/name']).toEqual({ type: 'string', value: 'second-name' });
          for (const r of runs) expect(lines(r)).toEqual([]);
        } else {
          // Protocol B has no delete: each field W&B no longer has stays, with a line saying why; a
          // value of another type is the server's refusal; a rename the server's refusal of sys/name.
          expect(at(after, config)['config/index']).toEqual({ type: 'int', value: 1 });
          expect(at(after, config)['config/lr']).toEqual({ type: 'float', value: 0.002 });
          expect(lines(config).sort()).toEqual([['cannot-delete', 'config/index'], ['type-mismatch', 'config/lr']]);
          expect(lines(summary)).toEqual([['cannot-delete', 'summary/loss']]);
          expect(lines(renamed).sort()).toEqual([['cannot-delete', 'wandb/group'], ['invalid-path', 'sys/name']]);
          for (const r of [tags, untagged, saved, unchanged]) expect(lines(r)).toEqual([]);
        }

        // verify agrees with the report: nothing unexplained.
        const checked = await runCli(['verify', ...select], stack.env, dir).done;
        expect(checked.stderr).toBe('');
        expect(checked.code).toBe(0);
        const statuses = events(checked.stdout).filter((e) => e.type === 'verify.run').map((e) => e.status);
        expect(statuses.filter((s) => s === 'mismatch' || s === 'missing')).toEqual([]);

        // And a third pass has nothing left to do.
        const third = await runCli(['migrate', ...select, '--yes'], stack.env, dir).done;
        expect((events(third.stdout).find((e) => e.type === 'report') as unknown as Report).report.totals).toMatchObject({ migrated: 0, skipped: 7 });
      } finally {
        await stack.close();
      }
    }, 180_000);
  }

  it('a notice of a config W&B has mended since goes from the report', async () => {
    await overA('mended', (runs) => (runs[1].configJson = '{"index": {"value": 1}, "lr": {"val'), async ({ entity, runs, stack, migrate }) => {
      const run = runs[1];
      const notices = (stdout: string) => (events(stdout).find((e) => e.type === 'report') as unknown as { report: { runs: Array<{ run: string; notices: Array<{ stream: string }> }> } })
        .report.runs.find((r) => r.run.endsWith(`/${run.id}`))!.notices.map((n) => n.stream);
      const first = await migrate();
      expect(notices(first.stdout)).toEqual(['config']);
      run.configJson = undefined;
      run.tags = [...run.tags, 'mended'];
      const second = await migrate();
      expect(second.code).toBe(0);
      expect(notices(second.stdout)).toEqual([]);
      // And its config lands whole now.
      expect((neptuneSnapshot(stack.neptune) as Snapshot)[`demo/${entity.projects[0].name}/${run.id}`]['config/depth']).toEqual({ type: 'int', value: 3 });
    });
  }, 120_000);

  it('a config W&B now serves damaged is not a config emptied: Neptune keeps what it has', async () => {
    await overA('damaged', () => {}, async ({ entity, runs, stack, migrate }) => {
      expect((await migrate()).code).toBe(0);
      const config = runs[1];
      // The config text cut short, and a tag added (so the run counts as changed).
      config.configJson = '{"index": {"value": 1}, "lr": {"val';
      config.tags = [...config.tags, 'later'];
      const second = await migrate();
      expect(second.code).toBe(0);
      expect(events(second.stdout).some((e) => e.type === 'source.notice' && (e.run as { runId?: string } | undefined)?.runId === config.id)).toBe(true);
      const held = (neptuneSnapshot(stack.neptune) as Snapshot)[`demo/${entity.projects[0].name}/${config.id}`];
      expect(held['config/index']).toEqual({ type: 'int', value: 1 });
      expect(held['config/lr']).toEqual({ type: 'float', value: 0.002 });
      expect(held['config/depth']).toEqual({ type: 'int', value: 3 });
      expect(held['sys/tags']).toEqual([...config.tags].sort());
    });
  }, 120_000);
});
