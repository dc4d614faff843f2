/**
 * System-metric values that are not numbers (a string, null, a list, an object with a string leaf,
 * text that is not JSON), in a `.wandb` log's stats records and in a pre-0.10 `wandb-events.jsonl`:
 * each is a counted `unsupported-value` line naming its monitoring path; every number beside them lands.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNeptuneEmulator, type NeptuneEmulator } from '../../emulators/neptune/index.ts';
import type { MigrationReport, RunReport } from '../../src/pipeline/report.ts';
import { encodeLog, rec } from '../../src/sources/local/wandb-log/test-log-writer.ts';
import { findRuns, migrateFolderCli } from './helpers.ts';

const T0 = 1_700_000_000;
let emu: NeptuneEmulator;
let tmp: string;
let report: MigrationReport;
let code: number | null;

beforeAll(async () => {
  emu = await startNeptuneEmulator({ workspaces: ['demo'] });
  tmp = mkdtempSync(join(tmpdir(), 'w2n-sysvalues-'));
  const wandb = join(tmp, 'proj', 'wandb');

  const modern = join(wandb, 'run-20231114_221320-sysmod');
  mkdirSync(join(modern, 'files'), { recursive: true });
  writeFileSync(join(modern, 'run-sysmod.wandb'), encodeLog([
    rec.header('0.19.8'),
    rec.run({ runId: 'sysmod', project: 'sysvalues', startTime: T0 }),
    rec.stats(T0 + 10, [
      { key: 'cpu', value: '5' },
      { key: 'gpu.0.name', value: '"Tesla T4"' },
      { key: 'disk.temp', value: 'null' },
      { key: 'network', value: '{"sent": 3, "iface": "lo"}' },
      { key: 'cores', value: '[1, 2]' },
      { key: 'broken', value: '{"x": ' },
    ]),
    rec.stats(T0 + 20, [{ key: 'cpu', value: '6' }, { key: 'gpu.0.name', value: '"Tesla T4"' }, { key: 'network', value: '{"sent": 4, "iface": "lo"}' }]),
    rec.exit(0),
  ]).bytes);

  const legacy = join(wandb, 'run-20200101_000000-syslegacy');
  mkdirSync(legacy, { recursive: true });
  writeFileSync(join(legacy, 'wandb-metadata.json'), JSON.stringify({ project: 'sysvalues', state: 'finished', startedAt: '2020-01-01T00:00:00' }));
  writeFileSync(join(legacy, 'wandb-history.jsonl'), `${JSON.stringify({ _step: 0, _timestamp: T0, x: 1 })}\n`);
  writeFileSync(join(legacy, 'wandb-events.jsonl'), [
    { 'system.cpu': 7, 'system.gpu.0.name': 'Tesla K80', _timestamp: T0 + 30, _runtime: 30 },
    { 'system.cpu': 8, 'system.proc': { rss: 9, state: 'R' }, _timestamp: T0 + 60, _runtime: 60 },
  ].map((o) => JSON.stringify(o)).join('\n') + '\n');

  ({ report, code } = await migrateFolderCli(emu, join(tmp, 'proj'), join(tmp, 'ledger.sqlite'), tmp, ['--concurrency', '1']));
}, 120_000);

afterAll(async () => {
  await emu?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

const runReport = (id: string): RunReport => report.runs.find((x) => x.run.endsWith(`/${id}`))!;
const series = (id: string, path: string) => {
  const runs = findRuns(emu, id);
  expect(runs, id).toHaveLength(1);
  return emu.inspect.floatSeries(runs[0].id, path).map((p) => [p.step, p.value, p.timestampMs]);
};
const unsupported = (id: string) =>
  Object.fromEntries(runReport(id).notWritten.filter((o) => o.reason === 'unsupported-value').map((o) => [o.subject, [o.count, o.detail]]));

describe('system-metric values that are not numbers', () => {
  it('both runs migrate, and the lines make the run a non-default omission', () => {
    expect(runReport('sysmod').status).toBe('migrated');
    expect(runReport('syslegacy').status).toBe('migrated');
    expect(code).toBe(0);
    expect(report.nonDefaultOmissions).toBe(7 + 2); // the values listed below, each counted
  });

  it('.wandb stats: every number lands with its step and timestamp; each other value is a line by metric', () => {
    expect(series('sysmod', 'monitoring/cpu')).toEqual([[10, 5, (T0 + 10) * 1000], [20, 6, (T0 + 20) * 1000]]);
    expect(series('sysmod', 'monitoring/network.sent')).toEqual([[10, 3, (T0 + 10) * 1000], [20, 4, (T0 + 20) * 1000]]);
    expect(unsupported('sysmod')).toEqual({
      'monitoring/gpu.0.name': [2, 'a system-metric value that is not a number (first: "Tesla T4")'],
      'monitoring/disk.temp': [1, 'a system-metric value that is not a number (first: null)'],
      'monitoring/network.iface': [2, 'a system-metric value that is not a number (first: "lo")'],
      'monitoring/cores': [1, 'a system-metric value that is not a number (first: [1,2])'],
      'monitoring/broken': [1, 'a system-metric value that is not a number (first: {"x": )'],
    });
  });

  it('pre-0.10 wandb-events.jsonl: the same rule', () => {
    expect(series('syslegacy', 'monitoring/cpu')).toEqual([[30, 7, (T0 + 30) * 1000], [60, 8, (T0 + 60) * 1000]]);
    expect(series('syslegacy', 'monitoring/proc.rss')).toEqual([[60, 9, (T0 + 60) * 1000]]);
    expect(unsupported('syslegacy')).toEqual({
      'monitoring/gpu.0.name': [1, 'a system-metric value that is not a number (first: "Tesla K80")'],
      'monitoring/proc.state': [1, 'a system-metric value that is not a number (first: "R")'],
    });
  });
});
