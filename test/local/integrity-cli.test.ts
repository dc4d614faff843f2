/**
 * Issue 9 (items 2, 4–11, 25, 26, 23's `1e308`) and issue 11's big integers: run folders with bad or
 * awkward data, migrated through the real CLI into the Neptune emulator. Every datum lands with its
 * value, or is a line of the report (an omission by reason, or a source notice).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNeptuneEmulator, type NeptuneEmulator } from '../../emulators/neptune/index.ts';
import type { MigrationReport, RunReport } from '../../src/pipeline/report.ts';
import { encodeLog, rec } from '../../src/sources/local/wandb-log/test-log-writer.ts';
import { events, runCli } from '../support/cli.ts';
import { findRuns, type StoredRun } from './helpers.ts';

const T0 = 1_700_000_000;
let emu: NeptuneEmulator;
let tmp: string;
let report: MigrationReport;
let stderr = '';

function legacyRun(parent: string, id: string, files: Record<string, string>): void {
  const dir = join(parent, `run-20200101_000000-${id}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'wandb-metadata.json'), JSON.stringify({ project: 'integrity', state: 'finished', startedAt: '2020-01-01T00:00:00' }));
  for (const [n, content] of Object.entries(files)) writeFileSync(join(dir, n), content);
}

function modernRun(parent: string, id: string, records: Uint8Array[], files: Record<string, string> = {}): string {
  const dir = join(parent, `run-20231114_221320-${id}`);
  mkdirSync(join(dir, 'files'), { recursive: true });
  writeFileSync(join(dir, `run-${id}.wandb`), encodeLog([rec.header('0.19.8'), rec.run({ runId: id, project: 'integrity', startTime: T0 }), ...records, rec.exit(0)]).bytes);
  for (const [n, content] of Object.entries(files)) writeFileSync(join(dir, 'files', n), content);
  return dir;
}

const jl = (rows: unknown[]): string => rows.map((r) => (typeof r === 'string' ? r : JSON.stringify(r))).join('\n') + '\n';

async function migrate(source: string, ledger: string, extra: string[] = []): Promise<MigrationReport> {
  return (await migrateWithCode(source, ledger, extra)).report;
}

async function migrateWithCode(source: string, ledger: string, extra: string[] = []): Promise<{ report: MigrationReport; code: number | null }> {
  const cli = runCli(
    ['migrate', '--source', source, '--workspace', 'demo', '--projects', 'all', '--yes', '--json', '--concurrency', '1', '--ledger', ledger, ...extra],
    { NEPTUNE_API_TOKEN: emu.apiToken(), NEPTUNE_PROJECT: 'demo/placeholder' },
    tmp,
  );
  const out = await cli.done;
  stderr += out.stderr;
  const ev = events(out.stdout).find((e) => e.type === 'report') as unknown as { report: MigrationReport } | undefined;
  if (!ev) throw new Error(`no report (exit ${out.code}): ${out.stderr}`);
  return { report: ev.report, code: out.code };
}

beforeAll(async () => {
  emu = await startNeptuneEmulator({ workspaces: ['demo'] });
  tmp = mkdtempSync(join(tmpdir(), 'w2n-integrity-'));
  const wandb = join(tmp, 'proj', 'wandb');
  mkdirSync(wandb, { recursive: true });

  // Items 2, 7, 11: a pre-0.10 folder with backward/repeated steps, a null value, a broken line, odd events.
  legacyRun(wandb, 'legsteps', {
    'wandb-history.jsonl': jl([
      { _step: 0, _timestamp: T0 + 1, loss: 1.0 },
      { _step: 1, _timestamp: T0 + 2, loss: 0.9 },
      { _step: 2, _timestamp: T0 + 3, loss: 0.8 },
      '{"_step": 3, "loss": ',
      { _step: 1, _timestamp: T0 + 4, loss: 0.7 },
      { _step: 2, _timestamp: T0 + 5, loss: 0.6 },
      { _step: 3, _timestamp: T0 + 6, loss: 0.5 },
      { _step: 4, _timestamp: T0 + 7, loss: null, acc: 0.25 },
    ]),
    'wandb-events.jsonl': jl([
      { 'system.cpu': 10, _wandb: true, _timestamp: T0 + 30, _runtime: 30 },
      { 'system.cpu': 11, _wandb: true, _runtime: 45 },
      { 'system.cpu': 12, _wandb: true, _timestamp: 'soon', _runtime: 50 },
      { 'system.cpu': 13, gpu_temp: 50, _wandb: true, _timestamp: T0 + 60, _runtime: 60 },
    ]),
  });

  // Items 8, 10, 23 (1e308) and big integers: a legacy config.yaml read by a real YAML reader.
  legacyRun(wandb, 'legyaml', {
    'wandb-history.jsonl': jl([{ _step: 0, _timestamp: T0, x: 1 }]),
    'config.yaml': [
      'wandb_version: 1',
      '_wandb:',
      '  desc: null',
      '  value:',
      '    cli_version: 0.9.7',
      '_name_or_path:',
      '  desc: null',
      '  value: bert-base-uncased',
      'defaults:',
      '  desc: null',
      '  value: &D',
      '    lr: 0.125',
      '    tags: [a, b]',
      'copy:',
      '  desc: null',
      '  value: *D',
      'big:',
      '  desc: null',
      '  value: 9007199254740993',
      'huge:',
      '  desc: null',
      '  value: 1.0e+308',
      '',
    ].join('\n'),
  });

  // Item 26: a config.yaml no YAML reader can parse.
  legacyRun(wandb, 'legbadyaml', {
    'wandb-history.jsonl': jl([{ _step: 0, _timestamp: T0, x: 1 }]),
    'config.yaml': 'wandb_version: 1\nlr:\n  value: [0.1,\n  desc: "unterminated\n',
  });

  // Items 8, 23, big integers from the log; item 4 collisions; item 5 per-series system steps.
  modernRun(wandb, 'modkeys', [
    rec.config([
      { key: 'spaced', value: '1' },
      { key: ' spaced ', value: '2' },
      { key: 'a//b', value: '3' },
      { key: 'a/_/b', value: '4' },
      { key: 'x/', value: '5' },
      { key: 'x/_', value: '6' },
      { key: '', value: '7' },
      { key: '/leading', value: '8' },
      { key: '_name_or_path', value: '"gpt2"' },
      { key: '_wandb', value: '{}' },
      { key: 'big', value: '9007199254740993' },
      { key: 'neg', value: '-123456789012345678901' },
      { key: 'huge', value: '1e308' },
    ]),
    rec.history([{ key: 'loss', value: '1' }, { key: 'loss/val', value: '2' }, { key: '_step', value: '0' }, { key: '_timestamp', value: `${T0 + 1}` }], 0),
    rec.summary([{ key: 'm', value: '1' }, { key: ' m', value: '2' }, { key: 'loss', value: '1' }, { key: 'loss/val', value: '2' }, { key: 'big', value: '12345678901234567890' }]),
    rec.stats(T0 + 15, [{ key: 'cpu', value: '1' }, { key: 'gpu.0.gpu', value: '2' }]),
    rec.stats(T0 + 14.999995, [{ key: 'memory_percent', value: '3' }]),
    rec.stats(T0 + 30, [{ key: 'cpu', value: '4' }, { key: 'memory_percent', value: '5' }]),
    rec.stats(T0 + 29, [{ key: 'cpu', value: '6' }]),
  ]);

  // Items 6, 25: console redraws with a bare \r, from the log and from output.log.
  modernRun(wandb, 'modcons', [
    rec.output('abcdef\rXY\n', 'stdout', T0 + 1),
    rec.output('Epoch 1: 10%\rEpoch 1: 50%\r', 'stdout', T0 + 2),
    rec.output('Epoch 1: 100%\n', 'stdout', T0 + 3),
    rec.output('plain\n', 'stdout', T0 + 4),
  ]);
  legacyRun(wandb, 'legcons', {
    'wandb-history.jsonl': jl([{ _step: 0, _timestamp: T0, x: 1 }]),
    'output.log': 'start\nload 1\rload 22\rload 3\nlong text\rshort\n',
  });

  // Item 9: files renamed or skipped on the way.
  const files = modernRun(wandb, 'modfiles', [], { 'back\\slash.txt': 'bs', 'plain.txt': 'p' });
  mkdirSync(join(tmp, 'elsewhere'));
  writeFileSync(join(tmp, 'elsewhere', 'inner.txt'), 'inner');
  symlinkSync(join(tmp, 'elsewhere'), join(files, 'files', 'linkdir'));
  execFileSync('mkfifo', [join(files, 'files', 'pipe')]);

  report = await migrate(join(tmp, 'proj'), join(tmp, 'ledger.sqlite'));
}, 120_000);

afterAll(async () => {
  await emu?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

const runReport = (r: MigrationReport, id: string): RunReport => {
  const found = r.runs.find((x) => x.run.endsWith(`/${id}`));
  if (!found) throw new Error(`no report for ${id}: ${r.runs.map((x) => x.run).join(', ')}\n${stderr}`);
  return found;
};
const stored = (id: string): StoredRun => {
  const runs = findRuns(emu, id);
  expect(runs, id).toHaveLength(1);
  return runs[0];
};
const value = (run: StoredRun, path: string): unknown => run.attrs[path]?.value;
const floats = (run: StoredRun, path: string) => emu.inspect.floatSeries(run.id, path).map((p) => [p.step, p.value, p.timestampMs]);
const strings = (run: StoredRun, path: string) => emu.inspect.stringSeries(run.id, path).map((p) => [p.step, p.value]);

describe('integrity of run folders migrated through the CLI', () => {
  it('every run migrated', () => {
    for (const id of ['legsteps', 'legyaml', 'legbadyaml', 'modkeys', 'modcons', 'legcons', 'modfiles']) expect(runReport(report, id).status, id).toBe('migrated');
  });

  it('item 2: backward and repeated steps of a pre-0.10 history are reported, the others land with their values', () => {
    const run = stored('legsteps');
    expect(floats(run, 'loss')).toEqual([[0, 1.0, (T0 + 1) * 1000], [1, 0.9, (T0 + 2) * 1000], [2, 0.8, (T0 + 3) * 1000], [3, 0.5, (T0 + 6) * 1000]]);
    const notice = runReport(report, 'legsteps').notices.find((n) => n.stream === 'history' && n.kind === 'skipped');
    expect(notice?.count).toBe(2);
    expect(notice?.message).toMatch(/step/);
  });

  it('item 11: a history line that is not JSON is named by its line, and not said to be kept', () => {
    const n = runReport(report, 'legsteps').notices.filter((x) => x.stream === 'history' && x.kind === 'invalid');
    expect(n).toHaveLength(1);
    expect(n[0].count).toBe(1);
    expect(n[0].message).toMatch(/wandb-history\.jsonl/);
    expect(n[0].message).toMatch(/line 4\b/);
    expect(n[0].message).not.toMatch(/kept/);
  });

  it('item 7: null history values and events lines without a timestamp or with other keys are reported', () => {
    const r = runReport(report, 'legsteps');
    expect(r.notWritten.find((o) => o.reason === 'null-value')).toMatchObject({ subject: 'loss', count: 1 });
    expect(floats(stored('legsteps'), 'acc')).toEqual([[4, 0.25, (T0 + 7) * 1000]]);
    const sys = r.notices.filter((n) => n.stream === 'system');
    expect(sys.find((n) => n.kind === 'invalid')).toMatchObject({ count: 2 });
    expect(sys.find((n) => n.kind === 'invalid')?.message).toMatch(/lines? 2, 3\b/);
    const other = sys.find((n) => n.kind === 'skipped');
    expect(other?.count).toBe(1);
    expect(other?.message).toMatch(/gpu_temp/);
    expect(floats(stored('legsteps'), 'monitoring/cpu')).toEqual([[30, 10, (T0 + 30) * 1000], [60, 13, (T0 + 60) * 1000]]);
  });

  it('items 8, 10, 23: config.yaml read as YAML — anchors, user `_` keys, big integers exact, 1e308 a float', () => {
    const run = stored('legyaml');
    expect(value(run, 'config/_name_or_path')).toBe('bert-base-uncased');
    expect(run.attrs['config/_wandb/cli_version']).toBeUndefined();
    expect(value(run, 'config/defaults/lr')).toBe(0.125);
    expect(value(run, 'config/copy/lr')).toBe(0.125);
    expect(value(run, 'config/copy/tags')).toBe('["a","b"]');
    expect(run.attrs['config/big']).toEqual({ type: 'string', value: '9007199254740993' });
    expect(run.attrs['config/huge']).toEqual({ type: 'float', value: 1e308 });
  });

  it('item 26: a config.yaml that cannot be parsed is reported', () => {
    const n = runReport(report, 'legbadyaml').notices.find((x) => x.stream === 'config');
    expect(n?.kind).toBe('invalid');
    expect(n?.message).toMatch(/config\.yaml/);
  });

  it('items 8, 23 and big integers from the log: `_` user keys carried, digits kept, 1e308 a float', () => {
    const run = stored('modkeys');
    expect(value(run, 'config/_name_or_path')).toBe('gpt2');
    expect(Object.keys(run.attrs).filter((p) => p.startsWith('config/_wandb'))).toEqual([]);
    expect(run.attrs['config/big']).toEqual({ type: 'string', value: '9007199254740993' });
    expect(run.attrs['config/neg']).toEqual({ type: 'string', value: '-123456789012345678901' });
    expect(run.attrs['config/huge']).toEqual({ type: 'float', value: 1e308 });
    expect(run.attrs['summary/big']).toEqual({ type: 'string', value: '12345678901234567890' });
  });

  it('item 4: colliding config and summary keys all land, each renamed deterministically and reported', () => {
    const run = stored('modkeys');
    const config = Object.fromEntries(Object.entries(run.attrs).filter(([p]) => p.startsWith('config/') && !p.startsWith('config/_name') && !['config/big', 'config/neg', 'config/huge'].includes(p)).map(([p, a]) => [p, a.value]));
    expect(config).toEqual({
      'config/spaced': 1, 'config/a/_/b': 4, 'config/x/_': 6, // clean keys keep their path
      'config/_': 7, 'config/spaced_': 2, 'config/__/leading': 8, 'config/a/_/b_': 3, 'config/x/__': 5,
    });
    expect(value(run, 'summary/m')).toBe(1);
    expect(value(run, 'summary/m_')).toBe(2);
    expect(value(run, 'summary/loss')).toBe(1);
    expect(value(run, 'summary/loss_/val')).toBe(2);
    expect(floats(run, 'loss').map(([s, v]) => [s, v])).toEqual([[0, 1]]);
    expect(floats(run, 'loss_/val').map(([s, v]) => [s, v])).toEqual([[0, 2]]);
    const renamed = Object.fromEntries(runReport(report, 'modkeys').notWritten.filter((o) => o.reason === 'renamed').map((o) => [o.subject, o.detail]));
    for (const [subject, to] of [
      ['config/', 'config/_'], ['config/ spaced ', 'config/spaced_'], ['config//leading', 'config/__/leading'], ['config/a//b', 'config/a/_/b_'],
      ['config/x/', 'config/x/__'], ['summary/ m', 'summary/m_'], ['summary/loss/val', 'summary/loss_/val'], ['loss/val', 'loss_/val'],
    ]) expect(renamed[subject], subject).toContain(`→ ${to}`);
  });

  it('item 5: system steps increase per series, not across all monitoring series', () => {
    const run = stored('modkeys');
    const st = (path: string) => floats(run, path).map(([s, v]) => [Math.round((s as number) * 1e6) / 1e6, v]);
    expect(st('monitoring/cpu')).toEqual([[15, 1], [30, 4]]);
    expect(st('monitoring/gpu.0.gpu')).toEqual([[15, 2]]);
    expect(st('monitoring/memory_percent')).toEqual([[14.999995, 3], [30, 5]]);
    const back = runReport(report, 'modkeys').notWritten.filter((o) => o.reason === 'step-not-increasing');
    expect(back).toEqual([expect.objectContaining({ subject: 'monitoring/cpu', count: 1 })]);
  });

  it('items 6, 25: a console line is what the terminal showed; overwritten text is counted', () => {
    const run = stored('modcons');
    expect(strings(run, 'monitoring/stdout')).toEqual([[0, 'XYcdef'], [1, 'Epoch 1: 100%'], [2, 'plain']]);
    const o = runReport(report, 'modcons').notWritten.find((x) => x.reason === 'console-overwritten');
    expect(o).toMatchObject({ subject: 'monitoring/stdout', count: 3 });
    const leg = stored('legcons');
    expect(strings(leg, 'monitoring/stdout')).toEqual([[0, 'start'], [1, 'load 32'], [2, 'shorttext']]);
    expect(runReport(report, 'legcons').notWritten.find((x) => x.reason === 'console-overwritten')).toMatchObject({ count: 3 });
  });

  it('item 6: --include console-raw keeps every segment, in order, at fractional steps of the line', async () => {
    const rawSrc = join(tmp, 'raw', 'wandb');
    mkdirSync(rawSrc, { recursive: true });
    modernRun(rawSrc, 'rawcons', [
      rec.output('abcdef\rXY\n', 'stdout', T0 + 1),
      rec.output('Epoch 1: 10%\rEpoch 1: 50%\r', 'stdout', T0 + 2),
      rec.output('Epoch 1: 100%\n', 'stdout', T0 + 3),
    ]);
    const rawReport = await migrate(join(tmp, 'raw'), join(tmp, 'ledger-raw.sqlite'), ['--include', 'console-raw']);
    expect(runReport(rawReport, 'rawcons').status).toBe('migrated');
    const run = stored('rawcons');
    expect(strings(run, 'monitoring/stdout')).toEqual([
      [0, 'abcdef'], [0.5, 'XYcdef'],
      [1, 'Epoch 1: 10%'], [1 + 1 / 3, 'Epoch 1: 50%'], [1 + 2 / 3, 'Epoch 1: 100%'],
    ]);
    expect(runReport(rawReport, 'rawcons').notWritten.filter((x) => x.reason === 'console-overwritten')).toEqual([]);
  });

  it('item 9: renamed files and skipped entries are reported with their reason', () => {
    const run = stored('modfiles');
    const set = emu.inspect.fileSet(run.id, 'files');
    expect(Object.fromEntries(Object.entries(set).map(([k, v]) => [k, v.toString()]))).toEqual({ 'back/slash.txt': 'bs', 'plain.txt': 'p' });
    const r = runReport(report, 'modfiles');
    expect(r.notWritten.find((o) => o.reason === 'renamed' && o.subject === 'back\\slash.txt')?.detail).toMatch(/→ back\/slash\.txt/);
    const skipped = r.notices.filter((n) => n.stream === 'files' && n.kind === 'skipped').map((n) => n.message);
    expect(skipped.find((m) => m.includes('linkdir'))).toMatch(/directory/);
    expect(skipped.find((m) => m.includes('pipe'))).toMatch(/not a regular file/);
  });

  it('item 6: overwritten console states are a documented default, so --strict does not fail on a progress bar', async () => {
    const src = join(tmp, 'strict', 'wandb');
    mkdirSync(src, { recursive: true });
    modernRun(src, 'strictcons', [rec.output('10%\r50%\r100%\n', 'stdout', T0 + 1)]);
    const out = await migrateWithCode(join(tmp, 'strict'), join(tmp, 'ledger-strict.sqlite'), ['--strict']);
    expect(runReport(out.report, 'strictcons').notWritten.find((o) => o.reason === 'console-overwritten')?.count).toBe(2);
    expect(strings(stored('strictcons'), 'monitoring/stdout')).toEqual([[0, '100%']]);
    expect(out.report.nonDefaultOmissions).toBe(0);
    expect(out.code).toBe(0);
  });
});
