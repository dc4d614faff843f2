import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../../emulators/stack.ts';
import { generateEntity } from '../../emulators/wandb/index.ts';
import { startHangProxy, tokenWith } from '../support/hang-proxy.ts';
import { HAS_TMUX, TmuxCli } from '../support/tmux.ts';

/**
 * Issue 9 items 19 and 23, in a real terminal (tmux): the prompts offer the workspaces, default from
 * NEPTUNE_PROJECT, check answers at the prompt, and are skipped when flags answer them; the progress
 * display leaves one summary ("Runs: …"), not two; a hung server shows as retrying (item 17).
 */
let stack: Stack;
let dir: string;
const open: TmuxCli[] = [];
const terminal = (args: string[], env: Record<string, string> = {}) => {
  const t = new TmuxCli(['migrate', ...args], { ...stack.env, ...env }, dir);
  open.push(t);
  return t;
};

describe.skipIf(!HAS_TMUX)('the CLI in a terminal (needs tmux; skipped when it is not installed)', () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'w2n-tty-'));
    stack = await startStack({
      entity: generateEntity({ seed: 13, preset: 'many-small-runs', runs: 2, entity: 'tty-team' }),
      workDir: join(dir, 'export'),
      neptune: { workspaces: ['demo', 'other'] },
    });
  }, 60_000);
  afterAll(async () => {
    for (const t of open) t.close();
    await stack?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('asks nothing when the flags answer everything, and prints the run summary once', async () => {
    const t = terminal(['--workspace', 'demo', '--projects', 'all', '--ledger', join(dir, 'flags.sqlite')]);
    // The end, or a question: whichever comes first.
    const first = await t.waitFor(/^EXIT=\d+$|^\? /m);
    expect(first).not.toMatch(/^\? /m);
    expect(await t.exitCode()).toBe(0);
    const screen = t.screen();
    expect(screen).not.toContain('W&B entity');
    expect(screen).not.toContain('How many runs');
    expect(screen.match(/^Runs: 2 \(migrated 2, skipped 0, failed 0, pending 0\)$/gm)).toHaveLength(1);
    expect(screen).not.toMatch(/^runs: \d+ migrated/m);
    // `auto` picks Protocol B on the emulator: ingest requests and their status checks, not batches.
    expect(screen).toMatch(/^requests: W&B \d+ \(API \d+, storage \d+\); Neptune \d+ \(\d+ ingest requests, \d+ status checks, [\d.]+ KiB sent\)$/m);
  });

  it('offers the workspaces with NEPTUNE_PROJECT as default and checks the project answer at the prompt', async () => {
    const t = terminal(['--ledger', join(dir, 'asked.sqlite')], { NEPTUNE_PROJECT: 'other/anything' });
    await t.waitFor('W&B entity (tty-team)');
    t.send('Enter');
    const listed = await t.waitFor('Neptune workspace');
    // A list, the default (from NEPTUNE_PROJECT) under the cursor.
    expect(listed).toMatch(/^❯ other$/m);
    expect(listed).toMatch(/^ {2}demo$/m);
    t.send('Enter');
    await t.waitFor('Projects to migrate');
    t.type('nosuch');
    t.send('Enter');
    await t.waitFor('not a W&B project: nosuch (there are: many-runs)');
    for (let i = 0; i < 'nosuch'.length; i++) t.send('BSpace');
    t.type('many-runs');
    t.send('Enter');
    await t.waitFor('How many runs at once');
    t.send('Enter');
    expect(await t.exitCode()).toBe(0);
    expect(stack.neptune.inspect.projects().map((p) => `${p.workspace}/${p.name}`)).toContain('other/many-runs');
  });

  it('a server that never answers shows as retrying; Ctrl-C leaves one clean report, every selected run pending', async () => {
    const proxy = await startHangProxy(stack.neptune.url, (req) => (req.url ?? '').startsWith('/api/backend/v1/projects/get'));
    try {
      const hung = tokenWith(stack.env.NEPTUNE_API_TOKEN, { api_address: proxy.url, api_url: proxy.url });
      const t = terminal(['--workspace', 'demo', '--projects', 'all', '--concurrency', '1', '--timeout', '2', '--ledger', join(dir, 'hung.sqlite')], { NEPTUNE_API_TOKEN: hung });
      await t.waitFor(/^ {2}retrying: Neptune project demo\/many-runs \(GET http:\/\/127\.0\.0\.1:\d+\/api\/backend\/v1\/projects\/get\?…\): Headers Timeout Error; retry 1 of 6 in [\d.]+ s$/m);
      t.send('C-c');
      expect(await t.exitCode()).toBe(130);
      const screen = t.screen();
      expect(screen.match(/stopping: finishing in-flight batches/g)).toHaveLength(1);
      // The bars were redrawn in place and cleared at the end: none left behind.
      expect(screen).not.toMatch(/^runs: \d+ migrated/m);
      expect(screen).not.toMatch(/retrying:/);
      expect(screen.match(/^Runs: 2 \(migrated 0, skipped 0, failed 0, pending 2\)$/gm)).toHaveLength(1);
    } finally {
      await proxy.close();
    }
  });
});
