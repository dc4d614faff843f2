/**
 * The JSON files around a run's log that are not JSON (a `wandb-summary.json` cut mid-write, a
 * `wandb-metadata.json` or `config.json` overwritten): where the run's data comes from such a file, the
 * report names the run and the file and says what came instead (a source notice: exit 4 with
 * `--strict`), and everything else of that run and of the other runs lands. Through the CLI.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNeptuneEmulator, type NeptuneEmulator } from '../../emulators/neptune/index.ts';
import type { MigrationReport } from '../../src/pipeline/report.ts';
import { encodeLog, rec } from '../../src/sources/local/wandb-log/test-log-writer.ts';
import { events, runCli } from '../support/cli.ts';
import { findRuns } from './helpers.ts';

const T0 = 1_700_000_000;
let emu: NeptuneEmulator;
let tmp: string;

const jl = (rows: unknown[]): string => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';
const CUT = '{"best_acc": 0.91, "epochs": ';

function legacyRun(id: string, files: Record<string, string>): void {
  const dir = join(tmp, 'proj', 'wandb', `run-20200101_000000-${id}`);
  mkdirSync(dir, { recursive: true });
  for (const [n, content] of Object.entries(files)) writeFileSync(join(dir, n), content);
}

function modernRun(id: string, records: Uint8Array[], files: Record<string, string>): void {
  const dir = join(tmp, 'proj', 'wandb', `run-20231114_221320-${id}`);
  mkdirSync(join(dir, 'files'), { recursive: true });
  writeFileSync(join(dir, `run-${id}.wandb`), encodeLog([rec.header('0.19.8'), rec.run({ runId: id, project: 'unreadable', startTime: T0 }), ...records]).bytes);
  for (const [n, content] of Object.entries(files)) writeFileSync(join(dir, 'files', n), content);
}

const history = jl([{ _step: 0, _timestamp: T0 + 1, loss: 1.5 }, { _step: 1, _timestamp: T0 + 2, loss: 1.25 }]);
const metadata = JSON.stringify({ project: 'unreadable', state: 'finished', startedAt: '2020-01-01T00:00:00', host: 'gpu-box-7' });

beforeAll(async () => {
  emu = await startNeptuneEmulator({ workspaces: ['demo'] });
  tmp = mkdtempSync(join(tmpdir(), 'w2n-unreadable-json-'));
  // Pre-0.10 folders: the summary, the metadata and the config come from these files alone.
  legacyRun('legsum', { 'wandb-metadata.json': metadata, 'wandb-history.jsonl': history, 'wandb-summary.json': CUT });
  legacyRun('legmeta', { 'wandb-metadata.json': '{"project": "unreadable", "state": "fin', 'wandb-history.jsonl': history, 'wandb-summary.json': '{"best_acc": 0.5}' });
  legacyRun('legconf', { 'wandb-metadata.json': metadata, 'wandb-history.jsonl': history, 'config.json': '{"lr": {"value": 0.1}, ' });
  legacyRun('legok', { 'wandb-metadata.json': metadata, 'wandb-history.jsonl': history, 'wandb-summary.json': '{"best_acc": 0.75}' });
  // A modern run that died before writing a summary record: its summary would be the file's.
  modernRun('modsum', [rec.history([{ key: 'loss', value: '2' }, { key: '_step', value: '0' }, { key: '_timestamp', value: `${T0 + 1}` }], 0)], { 'wandb-summary.json': CUT });
  // A modern run whose log has its summary: the broken file costs nothing, and nothing is said.
  modernRun('modlogsum', [
    rec.history([{ key: 'loss', value: '3' }, { key: '_step', value: '0' }, { key: '_timestamp', value: `${T0 + 1}` }], 0),
    rec.summary([{ key: 'best_acc', value: '0.25' }]),
    rec.exit(0),
  ], { 'wandb-summary.json': CUT });
}, 60_000);

afterAll(async () => {
  await emu?.close();
  rmSync(tmp, { recursive: true, force: true });
});

async function migrate(ledger: string, extra: string[] = []): Promise<{ report: MigrationReport; code: number | null }> {
  const out = await runCli(
    ['migrate', '--source', join(tmp, 'proj'), '--workspace', 'demo', '--projects', 'all', '--yes', '--json', '--ledger', join(tmp, ledger), ...extra],
    { NEPTUNE_API_TOKEN: emu.apiToken(), NEPTUNE_PROJECT: 'demo/placeholder' },
    tmp,
  ).done;
  const ev = events(out.stdout).find((e) => e.type === 'report') as unknown as { report: MigrationReport } | undefined;
  if (!ev) throw new Error(`no report (exit ${out.code}): ${out.stderr}`);
  return { report: ev.report, code: out.code };
}

describe('JSON files around a run that are not JSON', () => {
  it('each is a notice naming the run and the file and what came instead; the rest of every run lands; --strict exits 4', async () => {
    const { report, code } = await migrate('plain.sqlite');
    expect(code).toBe(0);
    const notices = Object.fromEntries(report.runs.map((r) => [r.run.split('/').pop(), r.notices]));
    expect(notices.legsum).toEqual([{ stream: 'summary', kind: 'invalid', count: 1, message: expect.stringMatching(/^run-20200101_000000-legsum: wandb-summary\.json is not valid JSON \(.+\); the summary is the last history values instead$/) }]);
    expect(notices.modsum).toEqual([
      { stream: 'summary', kind: 'invalid', count: 1, message: expect.stringMatching(/^run-20231114_221320-modsum: wandb-summary\.json is not valid JSON \(.+\); the summary is the last history values instead$/) },
    ]);
    expect(notices.legmeta).toEqual([{ stream: 'run', kind: 'invalid', count: 1, message: expect.stringMatching(/^run-20200101_000000-legmeta: wandb-metadata\.json is not valid JSON \(.+\); what the run's metadata says \(state, start, host, git\.\.\.\) is left out$/) }]);
    expect(notices.legconf).toEqual([{ stream: 'config', kind: 'invalid', count: 1, message: expect.stringMatching(/^run-20200101_000000-legconf: config\.json is not valid JSON \(.+\); its config is left out$/) }]);
    expect(notices.legok).toEqual([]);
    expect(notices.modlogsum).toEqual([]);
    for (const r of report.runs) expect(r.status, r.run).toBe('migrated');

    // What else the damaged runs hold lands.
    const attrs = (id: string) => findRuns(emu, id)[0].attrs;
    for (const id of ['legsum', 'legmeta', 'legconf', 'legok']) expect(emu.inspect.floatSeries(findRuns(emu, id)[0].id, 'loss').map((p) => p.value), id).toEqual([1.5, 1.25]);
    expect(attrs('legsum')['summary/loss']?.value).toBe(1.25);
    expect(attrs('legsum')['wandb/host']?.value).toBe('gpu-box-7');
    expect(attrs('legmeta')['summary/best_acc']?.value).toBe(0.5);
    expect(attrs('legok')['summary/best_acc']?.value).toBe(0.75);
    expect(attrs('modlogsum')['summary/best_acc']?.value).toBe(0.25);

    const strict = await migrate('strict.sqlite', ['--strict']);
    expect(strict.code).toBe(4);
  }, 120_000);
});
