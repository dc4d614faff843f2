/**
 * Console output of a W&B run whose `output.log` is not UTF-8 (a program wrote Latin-1 bytes, or a
 * multi-byte character cut by a kill): the lines land with U+FFFD, as W&B's own readers show them, and
 * the report says how many lines, that the file keeps the bytes — and `output.log`, carried as a run
 * file, lands byte for byte. Before, the W&B API source decoded the file silently (the run-folder
 * source already said so: run-folders-by-hand.test.ts).
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../../emulators/stack.ts';
import { generateEntity } from '../../emulators/wandb/index.ts';
import { heldStdout } from '../support/neptune-snapshot.ts';
import { events, runCli } from '../support/cli.ts';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

interface Report {
  runs: Array<{ run: string; written: Record<string, number>; notices: Array<{ stream: string; kind: string; message: string; count?: number }> }>;
}

const BYTES = Buffer.concat([
  Buffer.from('ok ünï ✓\n'),
  Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x0a]), // "café" in Latin-1
  Buffer.from('cut '), Buffer.from([0xe2, 0x82]), Buffer.from('\n'), // a euro sign cut after two of its three bytes
  Buffer.from('end\n'),
]);

function heldFile(stack: Stack, project: string, runId: string, name: string): Buffer | undefined {
  const i = stack.neptune.inspect;
  const run = i.runs(project).find((r) => r.customId === runId);
  const inSet = run ? i.fileSet(run.id, 'files')[name] : undefined;
  if (inSet) return inSet;
  const ref = stack.neptune.b.inspect.attributes(project, runId)[`files/${name}`];
  return ref ? stack.neptune.b.inspect.object(project, (ref.value as { path: string }).path)?.data : undefined;
}

describe('W&B API source: an output.log that is not UTF-8', () => {
  for (const protocol of ['a', 'b'] as const) {
    it(`over ${protocol.toUpperCase()}: lines land with U+FFFD, the report counts them, output.log lands byte for byte`, async () => {
      const dir = mkdtempSync(join(tmpdir(), `w2n-latin1-${protocol}-`));
      dirs.push(dir);
      const entity = generateEntity({ seed: 11, preset: 'many-small-runs', runs: 1, entity: 'latin1' });
      const run = entity.projects[0].runs[0];
      run.files = run.files.filter((f) => f.name !== 'output.log' && !f.name.startsWith('logs/output_'));
      run.files.push({ name: 'output.log', sizeBytes: BYTES.length, md5: createHash('md5').update(BYTES).digest('base64'), content: () => BYTES });
      const stack = await startStack({ entity, workDir: join(dir, 'export') });
      try {
        const out = await runCli(['migrate', '--workspace', 'demo', '--projects', 'all', '--yes', '--json', '--protocol', protocol, '--ledger', join(dir, 'l.sqlite')], stack.env, dir).done;
        expect(out.code, out.stderr).toBe(0);
        const project = `demo/${entity.projects[0].name.replace(/_/g, '-')}`;
        expect(heldStdout(stack, project, run.id)).toEqual(['ok ünï ✓', 'caf\uFFFD', 'cut \uFFFD', 'end']);
        expect(heldFile(stack, project, run.id, 'output.log')).toEqual(BYTES);
        const report = (events(out.stdout).find((e) => e.type === 'report') as unknown as { report: Report }).report;
        const notices = report.runs[0].notices.filter((n) => n.stream === 'console');
        expect(notices).toEqual([{ stream: 'console', kind: 'invalid', count: 2, message: expect.stringContaining('output.log is not UTF-8 throughout: 2 console line(s) held other bytes, which landed as U+FFFD') }]);
        expect(report.runs[0].written.consoleLines).toBe(4);
      } finally {
        await stack.close();
      }
    }, 60_000);
  }
});
