import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startStack } from '../../emulators/stack.ts';
import { generateEntity, type GenRun } from '../../emulators/wandb/index.ts';
import { events, runCli } from '../support/cli.ts';
import { expectedHistory } from '../support/expected.ts';
import { neptuneRunId } from '../support/neptune-snapshot.ts';

/**
 * Issue 4, "Done when" 3: a second `migrate` of an unchanged source sends no data; after the source
 * gains steps and files, a third sends exactly those.
 */
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

interface ReportEvent {
  report: { totals: { migrated: number; skipped: number; failed: number } };
  requests: { target: { points: number; files: number; requests: number } };
}

/** The run as W&B would serve it after the user logged `extra` more rows and saved one more file. */
function grown(run: GenRun, extra: number): GenRun {
  const rows = [...run.history()];
  const last = rows[rows.length - 1];
  const more = Array.from({ length: extra }, (_, i) => {
    const row: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(last)) row[k] = typeof v === 'number' ? v + (i + 1) * 0.5 : v;
    row._step = (last._step as number) + i + 1;
    return row;
  });
  const bytes = Buffer.from('notes written after the first migration\n');
  return {
    ...run,
    history: () => [...rows, ...more],
    historyFrom: undefined,
    historyRowCount: rows.length + extra,
    lastStep: more[more.length - 1]._step as number,
    heartbeatAt: new Date(Date.parse(run.heartbeatAt) + 3_600_000).toISOString(),
    files: [
      ...run.files,
      { name: 'notes/after.txt', sizeBytes: bytes.length, md5: createHash('md5').update(bytes).digest('base64'), content: () => bytes },
    ],
  };
}

describe('incremental sync', () => {
  it('sends nothing for an unchanged source, then exactly the new steps and files', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'w2n-incr-'));
    dirs.push(dir);
    const entity = generateEntity({ seed: 23, preset: 'all-shapes', entity: 'incr-team' });
    const stack = await startStack({ entity, workDir: join(dir, 'export') });
    try {
      const args = ['migrate', '--workspace', 'demo', '--projects', 'all', '--yes', '--json', '--protocol', 'a', '--ledger', join(dir, 'ledger.sqlite')];
      const report = (stdout: string) => events(stdout).find((e) => e.type === 'report') as unknown as ReportEvent;
      const runs = entity.projects.reduce((n, p) => n + p.runs.length, 0);

      const first = await runCli(args, stack.env, dir).done;
      expect(first.code).toBe(0);
      expect(report(first.stdout).report.totals.migrated).toBe(runs);

      const before = { ...stack.neptune.stats().byEndpoint };
      const second = await runCli(args, stack.env, dir).done;
      expect(second.code).toBe(0);
      expect(report(second.stdout).report.totals).toMatchObject({ migrated: 0, skipped: runs });
      // Nothing at all (issue 13): the token, server and workspace checks wait for a run with something to write.
      const sent = Object.fromEntries(Object.entries(stack.neptune.stats().byEndpoint).map(([k, v]) => [k, v - (before[k] ?? 0)]).filter(([, n]) => n));
      expect(sent).toEqual({});

      // A finished run with history gains 40 steps and a file.
      const project = entity.projects.find((p) => p.runs.some((r) => r.state === 'finished' && r.historyRowCount > 50))!;
      const index = project.runs.findIndex((r) => r.state === 'finished' && r.historyRowCount > 50);
      const old = project.runs[index];
      const now = grown(old, 40);
      project.runs[index] = now;
      const oldPoints = expectedHistory(old);
      const newPoints = expectedHistory(now);
      const count = (s: ReturnType<typeof expectedHistory>) =>
        [...s.floats.values(), ...s.strings.values()].reduce((n, l) => n + l.length, 0);

      const third = await runCli(args, stack.env, dir).done;
      expect(third.code).toBe(0);
      const r3 = report(third.stdout);
      expect(r3.report.totals).toMatchObject({ migrated: 1, skipped: runs - 1 });
      expect(r3.requests.target.points).toBe(count(newPoints) - count(oldPoints));
      // The new file, and the media files of the new rows (issue 11: a histogram is one file, a table its JSON and CSV).
      const mediaFiles = [...now.history()].slice(old.historyRowCount).flatMap((r) => Object.values(r))
        .map((v) => (v as { _type?: string } | null)?._type)
        .reduce((n, t) => n + (t === 'histogram' ? 1 : t === 'table-file' ? 2 : 0), 0);
      expect(mediaFiles).toBeGreaterThan(0);
      expect(r3.requests.target.files).toBe(1 + mediaFiles);

      const id = neptuneRunId(stack.neptune, `demo/${project.name.replace(/_/g, '-')}`, now.id)!;
      for (const [path, points] of newPoints.floats) expect(stack.neptune.inspect.floatSeries(id, path)).toEqual(points);
      expect(Object.keys(stack.neptune.inspect.fileSet(id, 'files'))).toContain('notes/after.txt');
    } finally {
      await stack.close();
    }
  }, 240_000);
});
