import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startStack } from '../../emulators/stack.ts';
import { generateEntity } from '../../emulators/wandb/index.ts';
import { events, runCli } from '../support/cli.ts';

/**
 * `--dry-run` prints "what each run would write": the plan must be made for the protocol the real pass
 * writes through. Tried by hand: a dry run with `--protocol b` (or `auto` on a 3.x server) planned for
 * Protocol A — histograms as files (34 files where the pass wrote 14), console lines split at A's
 * 1,000 characters (130 points where it wrote 120), a field cap B does not have.
 */
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

interface RunReport { run: string; written: Record<string, number>; notWritten: Array<{ reason: string; subject: string; count: number }> }
const reportOf = (stdout: string) => (events(stdout).find((e) => e.type === 'report') as unknown as { report: { runs: RunReport[] } }).report.runs;

describe('a dry run plans for the protocol the pass writes through', () => {
  for (const protocol of [['--protocol', 'b'], []] as const) {
    it(`${protocol.length ? protocol.join(' ') : 'auto, on a server that speaks Protocol B'}: every run's counts and lines equal the real pass's`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'w2n-dry-b-'));
      dirs.push(dir);
      const entity = generateEntity({ seed: 1, preset: 'all-shapes' });
      const stack = await startStack({ entity, workDir: join(dir, 'export') });
      try {
        // The CLI helper names Protocol A when no protocol is given; `--protocol auto` is the product's default.
        const args = ['migrate', '--workspace', 'demo', '--projects', 'all', '--yes', '--json', ...(protocol.length ? protocol : ['--protocol', 'auto']), '--ledger', join(dir, 'l.sqlite')];
        const dry = await runCli([...args, '--dry-run'], stack.env, dir).done;
        expect(dry.code).toBe(0);
        expect(stack.neptune.inspect.projects()).toEqual([]);
        const real = await runCli(args, stack.env, dir).done;
        expect(real.code).toBe(0);
        const planned = new Map(reportOf(dry.stdout).map((r) => [r.run, r]));
        const written = reportOf(real.stdout);
        expect(written.length).toBe(22);
        // The histograms went as a series (Protocol B): the plan says so too.
        expect(written.reduce((n, r) => n + (r.written.histograms ?? 0), 0)).toBeGreaterThan(0);
        for (const r of written) {
          const p = planned.get(r.run)!;
          const sort = (l: RunReport['notWritten']) => [...l].sort((x, y) => `${x.reason}${x.subject}`.localeCompare(`${y.reason}${y.subject}`));
          expect(sort(p.notWritten), r.run).toEqual(sort(r.notWritten));
          // A table's CSV rendering is made from its JSON, which a dry run does not download: its bytes are not planned.
          const tables = entity.projects.flatMap((x) => x.runs).find((x) => r.run.endsWith(`/${x.id}`))!
            .files.some((f) => f.name.endsWith('.table.json'));
          const { bytes: plannedBytes, ...plannedRest } = p.written;
          const { bytes, ...rest } = r.written;
          expect(plannedRest, r.run).toEqual(rest);
          if (tables) expect(plannedBytes).toBeLessThan(bytes);
          else expect(plannedBytes, r.run).toBe(bytes);
        }
      } finally {
        await stack.close();
      }
    }, 240_000);
  }
});
