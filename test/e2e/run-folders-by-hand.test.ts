/**
 * Run folders as a new user meets them, through the real CLI into the Neptune emulator (both
 * protocols where the case is about what lands): what was found by hand on folders written by the
 * wandb SDK 0.17.9 (offline) and fixed. Every case compares what the emulator holds with the folder.
 */
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNeptuneEmulator, type NeptuneEmulator } from '../../emulators/neptune/index.ts';
import { encodeLog, rec, type ItemIn } from '../../src/sources/local/wandb-log/test-log-writer.ts';
import { events, runCli } from '../support/cli.ts';
import { writeRunFolder } from '../support/run-folder.ts';

const T0 = 1_796_000_000;
let emu: NeptuneEmulator;
let root: string;

beforeAll(async () => {
  emu = await startNeptuneEmulator({ workspaces: ['demo'] });
  root = mkdtempSync(join(tmpdir(), 'w2n-folders-by-hand-'));
});
afterAll(async () => {
  await emu.close();
});

interface Report {
  runs: Array<{ run: string; status: string; written: Record<string, number>; notices: Array<{ stream: string; kind: string; message: string; count?: number }> }>;
}

async function migrate(source: string, protocol: 'a' | 'b', ledger: string, extra: string[] = []) {
  const out = await runCli(['migrate', '--source', source, '--workspace', 'demo', '--yes', '--json', '--protocol', protocol, '--ledger', ledger, ...extra],
    { NEPTUNE_API_TOKEN: emu.apiToken() }, root).done;
  const report = (events(out.stdout).find((e) => e.type === 'report') as unknown as { report: Report } | undefined)?.report;
  return { ...out, report };
}

/** A history row as wandb 0.17.9 logs it: the values, `_step`, `_timestamp`, `_runtime`. */
function row(step: number, loss: number): Uint8Array {
  const items: ItemIn[] = [
    { key: 'loss', value: String(loss) },
    { key: '_step', value: String(step) },
    { key: '_timestamp', value: String(T0 + step) },
    { key: '_runtime', value: String(step) },
  ];
  return rec.history(items, step);
}

function lossPoints(project: string, runId: string): Array<{ step: number; value: number }> {
  const run = emu.inspect.runs(`demo/${project}`).find((r) => r.customId === runId);
  if (!run) return [];
  return emu.inspect.floatSeries(run.id, 'loss').map((p) => ({ step: p.step, value: p.value }));
}

/** A run file's bytes in Neptune: A keeps them in the run's file set, B in storage behind a FileRef. */
function runFileBytes(project: string, runId: string, name: string): Buffer | undefined {
  const run = emu.inspect.runs(`demo/${project}`).find((r) => r.customId === runId)!;
  const inSet = emu.inspect.fileSet(run.id, 'files')[name];
  if (inSet) return inSet;
  const ref = emu.b.inspect.attributes(`demo/${project}`, runId)[`files/${name}`];
  return ref ? emu.b.inspect.object(`demo/${project}`, (ref.value as { path: string }).path)?.data : undefined;
}

describe('a run resumed offline: its second folder restarts its steps at 0 (wandb 0.17.9, resume="allow", WANDB_MODE=offline)', () => {
  for (const protocol of ['a', 'b'] as const) {
    it(`over ${protocol.toUpperCase()}: the rows whose steps the first folder already had are a report line naming the folder, and the report equals what Neptune holds`, async () => {
      const project = `resumed-${protocol}`;
      const wandb = join(root, project, 'wandb');
      const first = [rec.run({ runId: 'res1', project, startTime: T0 }), ...[0, 1, 2, 3].map((s) => row(s, s + 1)), rec.exit(0)];
      // The resumed process could not ask the server where the run was: its steps start at 0 again.
      const second = [rec.run({ runId: 'res1', project, startTime: T0 + 100 }), ...[0, 1, 2, 3, 4, 5].map((s) => row(s, 10 + s)), rec.exit(0)];
      writeRunFolder(wandb, 'offline-run-20261130_101347-res1', 'res1', first);
      writeRunFolder(wandb, 'offline-run-20261130_101353-res1', 'res1', second);
      const out = await migrate(join(root, project), protocol, join(root, `${project}.sqlite`));
      expect(out.code, out.stderr).toBe(0);
      // The first folder's rows, then the second's above step 3 (4 and 5): what the emulator holds.
      expect(lossPoints(project, 'res1')).toEqual([
        { step: 0, value: 1 }, { step: 1, value: 2 }, { step: 2, value: 3 }, { step: 3, value: 4 }, { step: 4, value: 14 }, { step: 5, value: 15 },
      ]);
      const run = out.report!.runs.find((r) => r.run.endsWith('/res1'))!;
      expect(run.written).toMatchObject({ historyPoints: 6, historyRows: 6 });
      const skipped = run.notices.filter((n) => n.stream === 'history');
      expect(skipped).toHaveLength(1);
      expect(skipped[0].count).toBe(4);
      expect(skipped[0].message).toContain('offline-run-20261130_101353-res1');
      expect(skipped[0].message).toContain('not above step 3');
    });
  }
});

describe('a run folder whose .wandb log is gone, only files/ left (copied without it, or deleted to save space)', () => {
  function filesOnly(wandb: string): string {
    const dir = join(wandb, 'run-20261130_101500-only1');
    mkdirSync(join(dir, 'files', 'media', 'images'), { recursive: true });
    writeFileSync(join(dir, 'files', 'wandb-metadata.json'), JSON.stringify({ host: 'vm', startedAt: '2026-11-30T10:15:00.000000', program: 'train.py' }));
    writeFileSync(join(dir, 'files', 'wandb-summary.json'), JSON.stringify({ loss: 0.25, _step: 3 }));
    writeFileSync(join(dir, 'files', 'config.yaml'), 'wandb_version: 1\n\nlr:\n  desc: null\n  value: 0.125\n');
    writeFileSync(join(dir, 'files', 'output.log'), 'epoch 1\nepoch 2\n');
    writeFileSync(join(dir, 'files', 'media', 'images', 'img_0_ab.png'), 'PNG-bytes');
    return dir;
  }

  it('is migrated from its files (config, summary, console, files) beside the other runs, with a report line that its history is not on disk', async () => {
    const project = 'files-only';
    const wandb = join(root, project, 'wandb');
    writeRunFolder(wandb, 'run-20261130_101400-full1', 'full1', [rec.run({ runId: 'full1', project, startTime: T0 }), row(0, 1), rec.exit(0)]);
    filesOnly(wandb);
    const out = await migrate(wandb, 'a', join(root, `${project}.sqlite`));
    expect(out.code, out.stderr).toBe(0);
    expect(out.report!.runs.map((r) => [r.run, r.status]).sort()).toEqual([['local/files-only/full1', 'migrated'], ['local/uncategorized/only1', 'migrated']]);
    // Its log named its project; nothing else in the folder does.
    const run = emu.inspect.runs('demo/uncategorized').find((r) => r.customId === 'only1')!;
    expect(run).toBeDefined();
    const attrs = emu.inspect.attributes(run.id);
    expect(attrs['config/lr']).toEqual({ type: 'float', value: 0.125 });
    expect(attrs['summary/loss']).toEqual({ type: 'float', value: 0.25 });
    expect(emu.inspect.stringSeries(run.id, 'monitoring/stdout').map((p) => p.value)).toEqual(['epoch 1', 'epoch 2']);
    expect(Object.keys(emu.inspect.fileSet(run.id, 'files')).sort()).toEqual(['output.log']);
    const notice = out.report!.runs.find((r) => r.run.endsWith('/only1'))!.notices.filter((n) => n.stream === 'history');
    expect(notice.map((n) => n.message)).toEqual([expect.stringContaining('run-20261130_101500-only1: no run-only1.wandb')]);
  });

  it('--source naming the files/ folder of a run folder is exit 2 naming the run folder to pass, and nothing is written', async () => {
    const wandb = join(root, 'files-sub', 'wandb');
    const dir = filesOnly(wandb);
    const out = await migrate(join(dir, 'files'), 'a', join(root, 'files-sub.sqlite'));
    expect(out.code).toBe(2);
    expect(out.stderr).toContain(`is the files/ folder of run folder ${dir}`);
    expect(emu.inspect.runs('demo/uncategorized').find((r) => r.customId === 'files')).toBeUndefined();
  });
});

describe('a log read while its run was still writing it (or cut by a crash), read again once complete', () => {
  it('the second pass brings the run up to date, and verify finds Neptune equal to the folder: no damage left from the first pass', async () => {
    const project = 'grown';
    const wandb = join(root, project, 'wandb');
    const records = [rec.run({ runId: 'grow1', project, startTime: T0 }), ...[0, 1, 2, 3, 4, 5].map((s) => row(s, s + 0.5)), rec.exit(0)];
    const dir = writeRunFolder(wandb, 'run-20261130_101600-grow1', 'grow1', records);
    const full = encodeLog(records);
    // Cut inside the fifth row's record (step 3): a crashed writer's last chunk, its payload incomplete.
    writeFileSync(join(dir, 'run-grow1.wandb'), full.bytes.subarray(0, full.offsets[4] + 9));
    const ledger = join(root, `${project}.sqlite`);
    const first = await migrate(wandb, 'a', ledger);
    expect(first.code, first.stderr).toBe(0);
    expect(lossPoints(project, 'grow1').map((p) => p.step)).toEqual([0, 1, 2]);
    writeFileSync(join(dir, 'run-grow1.wandb'), full.bytes);
    const second = await migrate(wandb, 'a', ledger);
    expect(second.code, second.stderr).toBe(0);
    expect(lossPoints(project, 'grow1')).toEqual([0, 1, 2, 3, 4, 5].map((s) => ({ step: s, value: s + 0.5 })));
    const run = emu.inspect.runs(`demo/${project}`).find((r) => r.customId === 'grow1')!;
    expect(emu.inspect.attributes(run.id)['wandb/logDamagedRegions']).toEqual({ type: 'int', value: 0 });
    // The first pass's "log truncated" notice goes with the damage (the ledger keeps a run's notices per pass).
    expect(first.report!.runs.find((r) => r.run.endsWith('/grow1'))!.notices.map((n) => n.stream)).toContain('log');
    expect(second.report!.runs.find((r) => r.run.endsWith('/grow1'))!.notices).toEqual([]);
    const verify = await runCli(['verify', '--source', wandb, '--workspace', 'demo', '--protocol', 'a', '--ledger', ledger], { NEPTUNE_API_TOKEN: emu.apiToken() }, root).done;
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
  });
});

describe('console output that is not UTF-8 (bytes a program wrote raw: Latin-1 text, a cut multi-byte character)', () => {
  for (const protocol of ['a', 'b'] as const) {
    it(`over ${protocol.toUpperCase()}: the lines land with U+FFFD, the report says how many and that output.log keeps the bytes, which land as they are`, async () => {
      const project = `latin1-${protocol}`;
      const dir = join(root, project, 'wandb', 'run-20240101_000000-lat1');
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'wandb-metadata.json'), JSON.stringify({ project, state: 'finished', startedAt: '2024-01-01T00:00:00' }));
      writeFileSync(join(dir, 'wandb-history.jsonl'), JSON.stringify({ _step: 0, _timestamp: 1704067201, loss: 0.5 }) + '\n');
      const bytes = Buffer.concat([Buffer.from('ok ünï ✓\n'), Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x0a]), Buffer.from('cut '), Buffer.from([0xe2, 0x82]), Buffer.from('\nend\n')]);
      writeFileSync(join(dir, 'output.log'), bytes);
      const out = await migrate(join(root, project), protocol, join(root, `${project}.sqlite`));
      expect(out.code, out.stderr).toBe(0);
      const run = emu.inspect.runs(`demo/${project}`).find((r) => r.customId === 'lat1')!;
      expect(emu.inspect.stringSeries(run.id, 'monitoring/stdout').map((p) => p.value)).toEqual(['ok ünï ✓', 'caf\uFFFD', 'cut \uFFFD', 'end']);
      expect(runFileBytes(project, 'lat1', 'output.log')).toEqual(bytes);
      const notices = out.report!.runs[0].notices.filter((n) => n.stream === 'console');
      expect(notices).toEqual([{ stream: 'console', kind: 'invalid', count: 2, message: expect.stringContaining('run-20240101_000000-lat1/output.log is not UTF-8 throughout: 2 console line(s)') }]);
    });
  }
});

describe('the same run folder twice in the folder given (a copy kept beside it)', () => {
  it('is exit 2 naming both folders, before anything is written (the console was migrated twice over)', async () => {
    const project = 'copied';
    const wandb = join(root, project, 'wandb');
    const records = [rec.run({ runId: 'cp1', project, startTime: T0 }), row(0, 1), rec.output('hello\n'), rec.exit(0)];
    const a = writeRunFolder(wandb, 'run-20261130_101700-cp1', 'cp1', records);
    const b = writeRunFolder(wandb, 'run-20261130_101700-cp1 (copy)', 'cp1', records);
    const out = await migrate(join(root, project), 'a', join(root, `${project}.sqlite`));
    expect(out.code, out.stdout).toBe(2);
    expect(out.stderr).toContain(`run cp1 is in 2 folders started at the same second: ${a}, ${b}`);
    expect(emu.inspect.runs(`demo/${project}`)).toEqual([]);
  });
});

describe('a wandb/ folder gathering runs by symlinks (runs kept elsewhere, linked in), beside the SDK\'s latest-run link', () => {
  it('migrates the linked runs too, each once, under its own folder name (they were passed over without a word)', async () => {
    const project = 'linked';
    const wandb = join(root, project, 'wandb');
    const elsewhere = join(root, 'elsewhere');
    writeRunFolder(wandb, 'run-20261130_101800-here1', 'here1', [rec.run({ runId: 'here1', project, startTime: T0 }), row(0, 1), rec.exit(0)]);
    const away = writeRunFolder(elsewhere, 'run-20261130_101900-away1', 'away1', [rec.run({ runId: 'away1', project, startTime: T0 }), row(0, 2), rec.exit(0)]);
    symlinkSync(away, join(wandb, 'run-20261130_101900-away1'));
    symlinkSync(join(wandb, 'run-20261130_101800-here1'), join(wandb, 'latest-run'));
    const out = await migrate(join(root, project), 'a', join(root, `${project}.sqlite`));
    expect(out.code, out.stderr).toBe(0);
    expect(out.report!.runs.map((r) => [r.run, r.status]).sort()).toEqual([['local/linked/away1', 'migrated'], ['local/linked/here1', 'migrated']]);
    expect(lossPoints(project, 'away1')).toEqual([{ step: 0, value: 2 }]);
    const away1 = emu.inspect.runs(`demo/${project}`).find((r) => r.customId === 'away1')!;
    expect(emu.inspect.attributes(away1.id)['wandb/localFolder']).toEqual({ type: 'string', value: 'run-20261130_101900-away1' });
  });
});

