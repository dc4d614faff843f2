/**
 * Run folders a user cannot read, found by hand: a `.wandb` log or a run folder without read
 * permission (copied from another account), a file of `files/` without it. Through the real CLI, as a
 * user whom permissions bind (see runCliUnprivileged), into the Neptune emulator.
 */
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNeptuneEmulator, type NeptuneEmulator } from '../../emulators/neptune/index.ts';
import { rec } from '../../src/sources/local/wandb-log/test-log-writer.ts';
import { events } from '../support/cli.ts';
import { writeRunFolder } from '../support/run-folder.ts';
import { runCliUnprivileged } from '../support/unprivileged.ts';

const T0 = 1_796_000_000;
let emu: NeptuneEmulator;
let root: string;

beforeAll(async () => {
  emu = await startNeptuneEmulator({ workspaces: ['demo'] });
  root = mkdtempSync(join(tmpdir(), 'w2n-folders-unreadable-'));
  chmodSync(root, 0o777);
});
afterAll(async () => {
  await emu.close();
});

/** A wandb/ folder of two runs, `ok1` and `bad1`, in project `project`; returns the run folders. */
function twoRuns(project: string): { wandb: string; ok: string; bad: string } {
  const wandb = join(root, project, 'wandb');
  const folder = (name: string, id: string): string => {
    const records = [rec.run({ runId: id, project, startTime: T0 }), rec.history([{ key: 'loss', value: '0.5' }, { key: '_step', value: '0' }, { key: '_timestamp', value: String(T0 + 1) }], 0), rec.exit(0)];
    return writeRunFolder(wandb, name, id, records, { 'notes.txt': `notes of ${id}\n` });
  };
  return { wandb, ok: folder('run-20261130_100000-ok1', 'ok1'), bad: folder('run-20261130_100100-bad1', 'bad1') };
}

async function migrate(source: string, ledger: string) {
  const out = await runCliUnprivileged(['migrate', '--source', source, '--workspace', 'demo', '--yes', '--json', '--protocol', 'a', '--ledger', ledger], { NEPTUNE_API_TOKEN: emu.apiToken() }, root);
  const report = (events(out.stdout).find((e) => e.type === 'report') as unknown as { report: { runs: Array<{ run: string; status: string; notices: Array<{ stream: string; message: string }> }> } } | undefined)?.report;
  return { ...out, report };
}

describe('what the user cannot read', () => {
  it('a .wandb log without read permission is exit 2 naming the file, before anything is written (it was an internal error, exit 1)', async () => {
    const { wandb, bad } = twoRuns('no-read-log');
    chmodSync(join(bad, 'run-bad1.wandb'), 0o000);
    const out = await migrate(wandb, join(root, 'l1.sqlite'));
    expect(out.code, out.stderr).toBe(2);
    expect(out.stderr).toContain(`${join(bad, 'run-bad1.wandb')} (EACCES)`);
    expect(out.stderr).not.toContain('internal error');
    expect(emu.inspect.runs('demo/no-read-log')).toEqual([]);
  });

  it("a legacy folder's wandb-history.jsonl without read permission is exit 2 naming the file", async () => {
    const project = 'no-read-legacy';
    const dir = join(root, project, 'wandb', 'run-20190101_000000-old1');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'wandb-metadata.json'), JSON.stringify({ project, state: 'finished' }));
    writeFileSync(join(dir, 'wandb-history.jsonl'), JSON.stringify({ _step: 0, loss: 1 }) + '\n');
    chmodSync(join(dir, 'wandb-history.jsonl'), 0o000);
    const out = await migrate(join(root, project), join(root, 'l5.sqlite'));
    expect(out.code, out.stderr).toBe(2);
    expect(out.stderr).toContain(`${join(dir, 'wandb-history.jsonl')} (EACCES)`);
    expect(emu.inspect.runs(`demo/${project}`)).toEqual([]);
  });

  it('a run folder without read permission is exit 2 naming it (it was passed over without a word)', async () => {
    const { wandb, bad } = twoRuns('no-read-folder');
    chmodSync(bad, 0o000);
    const out = await migrate(wandb, join(root, 'l2.sqlite'));
    expect(out.code, out.stderr).toBe(2);
    expect(out.stderr).toContain(`${bad} (EACCES)`);
    expect(emu.inspect.runs('demo/no-read-folder')).toEqual([]);
  });

  it("a file of files/ without read permission is a report line naming it; the run's other data and the other run land (it stopped every run as a ledger error)", async () => {
    const { wandb, bad } = twoRuns('no-read-file');
    writeFileSync(join(bad, 'files', 'secret.txt'), 'not for you\n');
    chmodSync(join(bad, 'files', 'secret.txt'), 0o000);
    const out = await migrate(wandb, join(root, 'l3.sqlite'));
    expect(out.code, out.stderr).toBe(0);
    expect(out.report!.runs.map((r) => [r.run, r.status]).sort()).toEqual([['local/no-read-file/bad1', 'migrated'], ['local/no-read-file/ok1', 'migrated']]);
    const runs = emu.inspect.runs('demo/no-read-file');
    const files = (id: string) => {
      const r = runs.find((x) => x.customId === id)!;
      return Object.fromEntries(Object.entries(emu.inspect.fileSet(r.id, 'files')).map(([k, v]) => [k, v.toString()]));
    };
    expect(files('ok1')).toEqual({ 'notes.txt': 'notes of ok1\n' });
    expect(files('bad1')).toEqual({ 'notes.txt': 'notes of bad1\n' });
    const bad1 = out.report!.runs.find((r) => r.run.endsWith('/bad1'))!;
    expect(bad1.notices.filter((n) => n.stream === 'files').map((n) => n.message)).toEqual(['file secret.txt skipped: cannot be read (EACCES)']);
  });

  it("an output.log without read permission (the console of a folder whose log has none) fails that run naming the file; the other run lands (it stopped every run as a ledger error)", async () => {
    const project = 'no-read-console';
    const wandb = join(root, project, 'wandb');
    for (const id of ['leg1', 'leg2']) {
      const dir = join(wandb, `run-20240101_000000-${id}`);
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'wandb-metadata.json'), JSON.stringify({ project, state: 'finished', startedAt: '2024-01-01T00:00:00' }));
      writeFileSync(join(dir, 'wandb-history.jsonl'), JSON.stringify({ _step: 0, _timestamp: 1704067201, loss: 0.5 }) + '\n');
      writeFileSync(join(dir, 'output.log'), `console of ${id}\n`);
    }
    const unreadable = join(wandb, 'run-20240101_000000-leg1', 'output.log');
    chmodSync(unreadable, 0o000);
    const out = await migrate(wandb, join(root, 'l4.sqlite'));
    expect(out.code, out.stderr).toBe(3);
    const status = Object.fromEntries(out.report!.runs.map((r) => [r.run, r.status]));
    expect(status).toEqual({ [`local/${project}/leg1`]: 'failed', [`local/${project}/leg2`]: 'migrated' });
    const failed = out.report!.runs.find((r) => r.run.endsWith('/leg1')) as unknown as { error: string };
    expect(failed.error).toContain(`${unreadable}: cannot be read (EACCES)`);
    const leg2 = emu.inspect.runs(`demo/${project}`).find((r) => r.customId === 'leg2')!;
    expect(emu.inspect.stringSeries(leg2.id, 'monitoring/stdout').map((p) => p.value)).toEqual(['console of leg2']);
  });
});
