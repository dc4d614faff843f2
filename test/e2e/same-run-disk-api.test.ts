/**
 * Issue 9, item 25: the same run, migrated once from its run folder on disk and once from the W&B API,
 * lands identically in Neptune — config, summary, every history point, the console (one `\r` rule
 * for both sources) and the files. Both go through the real CLI into one Neptune emulator, under two
 * W&B project names so that they are two Neptune runs to compare.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../../emulators/stack.ts';
import type { GenRun } from '../../emulators/wandb/index.ts';
import { bufferFile } from '../../emulators/wandb/generator/files.ts';
import { events, runCli } from '../support/cli.ts';

const T0 = 1_704_067_200; // 2024-01-01T00:00:00Z
const CREATED = '2024-01-01T00:00:00';
const RUN_ID = 'same1';
const ROWS = [
  { _step: 0, _timestamp: T0 + 1.25, _runtime: 1.25, loss: 1.5, phase: 'warm' },
  { _step: 1, _timestamp: T0 + 2.5, _runtime: 2.5, loss: 1.25, phase: 'main' },
  { _step: 2, _timestamp: T0 + 3.75, _runtime: 3.75, loss: 1.0, 'eval/acc': 0.5 },
];
const CONFIG = { lr: 0.125, epochs: 3, opt: { name: 'adam', betas: [0.9, 0.999] }, _name_or_path: 'bert-base', spaced: 1, ' spaced ': 2, big: 9007199254740993n, huge: 1e308 };
const SUMMARY = { loss: 1.0, 'eval/acc': 0.5, best: 'yes' };
// Redraws with a bare \r, a shorter redraw leaving the tail of the longer one, a plain line.
const OUTPUT = 'start\nload 1\rload 22\rload 3\nlong text\rshort\nplain end\n';

let stack: Stack;
let dir: string;

function apiRun(): GenRun {
  return {
    id: RUN_ID, displayName: 'same-run', tags: [], state: 'finished', createdAt: CREATED, heartbeatAt: CREATED, user: 'u',
    config: CONFIG, summary: SUMMARY, historyRowCount: ROWS.length, lastStep: ROWS.length - 1,
    history: () => ROWS, exportedBelowStep: 0,
    systemEvents: () => [], systemEventCount: 0, eventsFileListed: false,
    consoleLines: OUTPUT.split('\n').slice(0, -1),
    files: [bufferFile('output.log', OUTPUT)],
  };
}

function diskRun(parent: string): void {
  const run = join(parent, 'wandb', `run-20240101_000000-${RUN_ID}`);
  mkdirSync(run, { recursive: true });
  writeFileSync(join(run, 'wandb-metadata.json'), JSON.stringify({ project: 'same_disk', state: 'finished', startedAt: CREATED }));
  writeFileSync(join(run, 'wandb-history.jsonl'), ROWS.map((r) => JSON.stringify(r)).join('\n') + '\n');
  writeFileSync(join(run, 'wandb-summary.json'), JSON.stringify(SUMMARY));
  writeFileSync(join(run, 'config.yaml'), ['wandb_version: 1', ...Object.entries(CONFIG).flatMap(([k, v]) => [`${JSON.stringify(k)}:`, '  desc: null', `  value: ${typeof v === 'bigint' ? v.toString() : JSON.stringify(v)}`])].join('\n') + '\n');
  writeFileSync(join(run, 'output.log'), OUTPUT);
}

interface Report {
  totals: { migrated: number };
  runs: Array<{ run: string; notWritten: Array<{ reason: string; subject: string; count: number; detail?: string }> }>;
}

async function migrate(args: string[]): Promise<Report> {
  const out = await runCli(['migrate', ...args, '--workspace', 'demo', '--projects', 'all', '--yes', '--json'], stack.env, dir).done;
  expect(out.code, out.stderr).toBe(0);
  return (events(out.stdout).find((e) => e.type === 'report') as unknown as { report: Report }).report;
}

/** Issue 9, item 9: W&B lists files saved by absolute path, with `\\` or `..` in their names. */
const ODD_FILES = { '/tmp/X.txt': 'abs', '//double.txt': 'dbl', 'back\\slash.txt': 'bs', '../up.txt': 'up', 'plain.txt': 'p' };

function oddRun(): GenRun {
  return { ...apiRun(), id: 'odd1', config: {}, summary: {}, historyRowCount: 0, lastStep: -1, history: () => [], consoleLines: [],
    files: Object.entries(ODD_FILES).map(([n, c]) => bufferFile(n, c)) };
}

let apiReport: Report;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'w2n-same-run-'));
  stack = await startStack({ entity: { name: 'same-team', projects: [
    { name: 'same_api', createdAt: CREATED, runs: [apiRun()] },
    { name: 'odd_files', createdAt: CREATED, runs: [oddRun()] },
  ] } });
  diskRun(join(dir, 'disk'));
  apiReport = await migrate(['--ledger', join(dir, 'api.sqlite')]);
  expect(apiReport.totals.migrated).toBe(2);
  expect((await migrate(['--source', join(dir, 'disk'), '--ledger', join(dir, 'disk.sqlite')])).totals.migrated).toBe(1);
}, 120_000);

afterAll(async () => {
  await stack?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Everything a run holds that comes from the W&B data (not provenance): fields, series, files. */
function landed(project: string) {
  const neptune = stack.neptune;
  const run = neptune.inspect.runs(project).find((r) => r.customId === RUN_ID);
  expect(run, project).toBeDefined();
  const attrs = neptune.inspect.attributes(run!.id);
  const fields: Record<string, unknown> = {};
  const series: Record<string, unknown> = {};
  for (const [path, a] of Object.entries(attrs)) {
    if (path.startsWith('config/') || path.startsWith('summary/')) fields[path] = a;
    else if (a.type === 'floatSeries') series[path] = neptune.inspect.floatSeries(run!.id, path);
    else if (a.type === 'stringSeries') series[path] = neptune.inspect.stringSeries(run!.id, path);
  }
  const files = Object.fromEntries(Object.entries(neptune.inspect.fileSet(run!.id, 'files')).map(([k, v]) => [k, v.toString('utf8')]));
  return { fields, series, files };
}

describe('the same run from disk and from the API', () => {
  it('lands identically: config, summary, every history point, the console and the files', () => {
    const api = landed('demo/same-api');
    const disk = landed('demo/same-disk');
    expect(disk).toEqual(api);
    // And it is what the run held (not two equal mistakes).
    expect((api.series['monitoring/stdout'] as Array<{ value: string }>).map((p) => p.value)).toEqual(['start', 'load 32', 'shorttext', 'plain end']);
    expect((api.series['loss'] as Array<{ step: number; value: number; timestampMs: number }>)).toEqual([
      { step: 0, value: 1.5, timestampMs: (T0 + 1.25) * 1000 }, { step: 1, value: 1.25, timestampMs: (T0 + 2.5) * 1000 }, { step: 2, value: 1.0, timestampMs: (T0 + 3.75) * 1000 },
    ]);
    expect(api.fields['config/_name_or_path']).toEqual({ type: 'string', value: 'bert-base' });
    expect(api.fields['config/spaced']).toEqual({ type: 'int', value: 1 });
    expect(api.fields['config/spaced_']).toEqual({ type: 'int', value: 2 });
    expect(api.fields['config/opt/betas']).toEqual({ type: 'string', value: '[0.9,0.999]' });
    expect(api.fields['config/big']).toEqual({ type: 'string', value: '9007199254740993' });
    expect(api.fields['config/huge']).toEqual({ type: 'float', value: 1e308 });
    expect(api.files).toEqual({ 'output.log': OUTPUT });
  });

  it('item 9: files saved by absolute path or with \\\\ land under a clean name, reported as renamed; a name with .. is left out', () => {
    const run = stack.neptune.inspect.runs('demo/odd-files').find((r) => r.customId === 'odd1');
    expect(run).toBeDefined();
    const set = stack.neptune.inspect.fileSet(run!.id, 'files');
    expect(Object.fromEntries(Object.entries(set).map(([k, v]) => [k, v.toString('utf8')]))).toEqual({ 'tmp/X.txt': 'abs', 'double.txt': 'dbl', 'back/slash.txt': 'bs', 'plain.txt': 'p' });
    const r = apiReport.runs.find((x) => x.run.endsWith('/odd1'))!;
    const files = Object.fromEntries(r.notWritten.filter((o) => o.subject in ODD_FILES).map((o) => [o.subject, [o.reason, o.detail]]));
    expect(files).toEqual({
      '/tmp/X.txt': ['renamed', '→ tmp/X.txt: leading "/" dropped (a file saved by absolute path)'],
      '//double.txt': ['renamed', '→ double.txt: leading "/" dropped (a file saved by absolute path); empty and "." segments dropped'],
      'back\\slash.txt': ['renamed', '→ back/slash.txt: "\\" read as a folder separator'],
      '../up.txt': ['invalid-path', 'the name climbs out of the run\'s files ("..")'],
    });
  });
});
