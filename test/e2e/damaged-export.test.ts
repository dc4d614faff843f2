/**
 * A W&B run whose history export file is damaged (its parquet bytes unreadable): the run is failed
 * with a line naming the run and the export file, and the next pass tries it again — but everything
 * else of that run (config, summary, system metrics, console, files) lands in this pass, and every
 * other run is migrated. Once the export reads again, the next pass brings the history, each point
 * once. Through the CLI, over Protocol A and B.
 */
import { copyFileSync, existsSync, readdirSync, statSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Stack } from '../../emulators/stack.ts';
import type { GenRun } from '../../emulators/wandb/index.ts';
import { bufferFile } from '../../emulators/wandb/generator/files.ts';
import type { MigrationReport } from '../../src/pipeline/report.ts';
import { events, runCli } from '../support/cli.ts';
import { neptuneRunId } from '../support/neptune-snapshot.ts';
import { closeStackInTemp, startStackInTemp } from '../support/stack-in-temp.ts';

const CREATED = '2024-03-01T00:00:00';
const PROJECT = 'export_proj';
const ROWS = 1500;
const T0 = 1_709_251_200;
const genRun = (id: string, rows: number): GenRun => ({
  id, displayName: id, tags: [], state: 'finished', createdAt: CREATED, heartbeatAt: CREATED, user: 'u',
  config: { lr: 0.5 }, summary: { best: 0.25 },
  historyRowCount: rows, lastStep: rows - 1, exportedBelowStep: rows,
  history: () => Array.from({ length: rows }, (_, i) => ({ _step: i, _timestamp: T0 + i, _runtime: i, loss: 1 / (i + 1) })),
  systemEvents: () => Array.from({ length: 3 }, (_, i) => ({ 'system.cpu': 10 + i, _timestamp: T0 + 60 * i, _runtime: 60 * i })),
  systemEventCount: 3, eventsFileListed: false, consoleLines: ['first line', 'second line'],
  files: [bufferFile('notes.txt', `notes of ${id}\n`), bufferFile('output.log', 'first line\nsecond line\n')],
});
const DAMAGED = genRun('damaged01', ROWS);
const OTHER = genRun('intact001', ROWS);

let stack: Stack;
let dir: string;

const reportOf = (stdout: string) => (events(stdout).find((e) => e.type === 'report') as unknown as { report: MigrationReport }).report;
const walk = (d: string): string[] => (existsSync(d) ? readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(d, e.name)) : [join(d, e.name)])) : []);

beforeAll(async () => {
  ({ stack, dir } = await startStackInTemp('w2n-damaged-export-', {
    entity: { name: 'export-team', projects: [{ name: PROJECT, createdAt: CREATED, runs: [DAMAGED, OTHER] }], artifacts: [] },
    neptune: { protocolB: { statusDelayMs: 1 } },
  }));
}, 60_000);

afterAll(() => closeStackInTemp(stack, dir));

describe.each(['a', 'b'])('a damaged history export, over Protocol %s', (protocol) => {
  const migrate = (target: string) =>
    runCli(['migrate', '--workspace', 'demo', '--projects', PROJECT, '--project-map', `${PROJECT}=${target}`, '--protocol', protocol, '--yes', '--json',
      '--ledger', join(dir, `${target}.sqlite`)], stack.env, dir).done;
  const held = (target: string, runId: string) => {
    if (protocol === 'a') {
      const id = neptuneRunId(stack.neptune, `demo/${target}`, runId);
      const i = stack.neptune.inspect;
      return id ? { attrs: i.attributes(id), series: (p: string) => i.floatSeries(id, p), strings: (p: string) => i.stringSeries(id, p), files: Object.keys(i.fileSet(id, 'files')) } : undefined;
    }
    const b = stack.neptune.b.inspect;
    const project = `demo/${target}`;
    if (!b.run(project, runId)) return undefined;
    const attrs = b.attributes(project, runId);
    return { attrs, series: (p: string) => b.floatSeries(project, runId, p), strings: (p: string) => b.stringSeries(project, runId, p), files: Object.keys(attrs).filter((k) => k.startsWith('files/')).map((k) => k.slice(6)) };
  };

  /** The pass over the damaged export: the run failed and named, the rest of it and the other run landed. */
  const damagedPass = async (target: string) => {
    const first = await migrate(target);
    expect(first.code, first.stderr.slice(-2000)).toBe(3);
    const r = Object.fromEntries(reportOf(first.stdout).runs.map((x) => [x.run.split('/').pop(), x]));
    expect(r[OTHER.id].status).toBe('migrated');
    expect(r[DAMAGED.id].status).toBe('failed');
    expect(r[DAMAGED.id].error).toMatch(new RegExp(`history of export-team/${PROJECT}/${DAMAGED.id} \\(export file 1\\): not a readable parquet file`));
    const h = held(target, DAMAGED.id)!;
    expect(h).toBeDefined();
    expect(h.attrs['config/lr']?.value).toBe(0.5);
    expect(h.attrs['summary/best']?.value).toBe(0.25);
    expect(h.series('monitoring/cpu').map((p) => p.value)).toEqual([10, 11, 12]);
    expect(h.strings('monitoring/stdout').map((p) => p.value)).toEqual(['first line', 'second line']);
    expect(h.files.sort()).toEqual(['notes.txt', 'output.log']);
    expect(r[DAMAGED.id].written).toMatchObject({ systemPoints: 3, consolePoints: 2, files: 2 });
    expect(r[DAMAGED.id].written.historyPoints ?? 0).toBe(0);
    // Not said complete: the run's migration bookkeeping is not written.
    expect(h.attrs['wandb/migration/completed_at']).toBeUndefined();
    expect(held(target, OTHER.id)!.series('loss')).toHaveLength(ROWS);
  };

  it('the run is failed naming the export file, everything else of it lands; once the file reads again the next pass brings the history', async () => {
    // A first migration elsewhere makes the emulator write the exports; one of them is then cut.
    const warm = await migrate(`warm-${protocol}`);
    expect(warm.code, warm.stderr.slice(-2000)).toBe(0);
    const files = walk(join(dir, 'export')).filter((f) => f.endsWith('.parquet') && f.includes(DAMAGED.id));
    expect(files.length).toBeGreaterThan(0);
    const saved = join(dir, `saved-${protocol}.parquet`);
    copyFileSync(files[0], saved);
    truncateSync(files[0], Math.floor(statSync(files[0]).size / 2));
    const target = `dmg-${protocol}`;
    try {
      await damagedPass(target);
    } finally {
      copyFileSync(saved, files[0]);
    }

    const second = await migrate(target);
    expect(second.code, second.stderr.slice(-2000)).toBe(0);
    const again = reportOf(second.stdout).runs.find((x) => x.run.endsWith(DAMAGED.id))!;
    expect(again.status).toBe('migrated');
    const loss = held(target, DAMAGED.id)!.series('loss');
    expect(loss.map((p) => [p.step, p.value])).toEqual(Array.from({ length: ROWS }, (_, i) => [i, 1 / (i + 1)]));
    expect(again.written.historyPoints).toBe(ROWS);
    expect(again.written.systemPoints).toBe(3);
    expect(held(target, DAMAGED.id)!.attrs['wandb/migration/completed_at']).toBeDefined();
  }, 180_000);
});
