/**
 * The text report's console count is what the target holds. A W&B console line longer than Protocol
 * A's 1,000-character entry is split into several entries (mapping.md, `output.log` row), so the lines
 * read from W&B and the console points Neptune holds differ; the report showed the lines read, under
 * "points". Through the CLI (`migrate`, then `report`), over A (lines split) and B (not): the report's
 * console number equals the entries of `monitoring/stdout` the emulator holds, and the lines read are
 * labelled as such where they differ.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startStack } from '../../emulators/stack.ts';
import { generateEntity } from '../../emulators/wandb/index.ts';
import { heldStdout } from '../support/neptune-snapshot.ts';
import { runCli } from '../support/cli.ts';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

// Four lines: one of 2,500 characters (three entries of at most 1,000 on A), three short.
const LINES = ['first', 'y'.repeat(2500), 'third', 'last'];
const BYTES = Buffer.from(LINES.map((l) => `${l}\n`).join(''));

describe('the text report\'s console count', () => {
  for (const protocol of ['a', 'b'] as const) {
    it(`over ${protocol.toUpperCase()}: is the console entries Neptune holds; the W&B lines read are said apart when they differ`, async () => {
      const dir = mkdtempSync(join(tmpdir(), `w2n-console-report-${protocol}-`));
      dirs.push(dir);
      const entity = generateEntity({ seed: 12, preset: 'many-small-runs', runs: 1, entity: 'consolerep' });
      const run = entity.projects[0].runs[0];
      run.files = run.files.filter((f) => f.name !== 'output.log' && !f.name.startsWith('logs/output_'));
      run.files.push({ name: 'output.log', sizeBytes: BYTES.length, md5: createHash('md5').update(BYTES).digest('base64'), content: () => BYTES });
      const stack = await startStack({ entity, workDir: join(dir, 'export') });
      try {
        const ledger = join(dir, 'l.sqlite');
        const out = await runCli(['migrate', '--workspace', 'demo', '--projects', 'all', '--yes', '--protocol', protocol, '--ledger', ledger], stack.env, dir).done;
        expect(out.code, out.stderr).toBe(0);
        const held = heldStdout(stack, `demo/${entity.projects[0].name.replace(/_/g, '-')}`, run.id);
        // What the emulator holds: every character of every line, long lines split on A.
        expect(held.join('')).toBe(LINES.join(''));
        expect(held.length).toBe(protocol === 'a' ? 6 : 4);
        const text = await runCli(['report', '--ledger', ledger], {}, dir).done;
        expect(text.code, text.stderr).toBe(0);
        const line = text.stdout.split('\n').find((l) => l.includes(run.id))!;
        const console = /console (\d+)(?: from (\d+) W&B lines)?\)/.exec(line);
        expect(console, line).not.toBeNull();
        expect(Number(console![1])).toBe(held.length);
        expect(console![2] === undefined ? undefined : Number(console![2])).toBe(protocol === 'a' ? LINES.length : undefined);
      } finally {
        await stack.close();
      }
    }, 60_000);
  }
});
