/**
 * Issue 11: a run with every media kind in history and summary — images (one, and a list of three),
 * a histogram, a table, an html page, a plotly figure, a short and a long list, an image whose file
 * W&B does not hold — migrated through the CLI from the W&B API (half of it in the parquet export,
 * half in the live tail) and from a run folder on disk, then read back from the Neptune emulator.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../../emulators/stack.ts';
import { session } from '../../emulators/neptune/test-client.ts';
import type { GenRun } from '../../emulators/wandb/index.ts';
import { bufferFile } from '../../emulators/wandb/generator/files.ts';
import { events, runCli } from '../support/cli.ts';
import { neptuneRunId } from '../support/neptune-snapshot.ts';

const T0 = 1_704_067_200; // 2024-01-01T00:00:00Z
const CREATED = '2024-01-01T00:00:00';
const png = (n: number) => Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(40 + n, n)]);
const TABLE = { columns: ['id', 'text'], data: [[1, 'a,"b"'], [2, null]] };
const LONG = Array.from({ length: 300 }, (_, i) => i * 1.5);

/** Run files: path → bytes. */
const FILES: Record<string, Buffer> = {};
function row(step: number): Record<string, unknown> {
  const f = (name: string, bytes: Buffer) => {
    FILES[name] = bytes;
    return name;
  };
  return {
    _step: step, _timestamp: T0 + step + 0.5, _runtime: step + 0.5,
    loss: 1 / (step + 1),
    img: { _type: 'image-file', path: f(`media/images/img_${step}_a.png`, png(step)), caption: `step ${step}`, format: 'png', width: 8, height: 8, size: 48 + step },
    grid: { _type: 'images/separated', count: 3, format: 'png', width: 8, height: 8,
      filenames: [0, 1, 2].map((i) => f(`media/images/grid_${step}_${i}.png`, png(10 * step + i + 5))), captions: ['x', 'y', 'z'] },
    'w/hist': { _type: 'histogram', bins: [0, 0.5, 1], values: [step, step + 1] },
    preds: { _type: 'table-file', path: f(`media/table/preds_${step}_b.table.json`, Buffer.from(JSON.stringify({ ...TABLE, data: [...TABLE.data, [step, 'ü']] }))), ncols: 2, nrows: 3 },
    page: { _type: 'html-file', path: f(`media/html/page_${step}_c.html`, Buffer.from(`<p>${step}</p>`)) },
    fig: { _type: 'plotly-file', path: f(`media/plotly/fig_${step}_d.plotly.json`, Buffer.from(`{"data":[${step}]}`)) },
    short: [step, 'a', null],
    long: LONG,
    gone: { _type: 'image-file', path: `media/images/gone_${step}.png`, size: 10 },
  };
}
const ROWS = [0, 1, 2, 3].map(row);
FILES['media/images/best_x.png'] = png(99);
const SUMMARY = { loss: 0.25, best: { _type: 'image-file', path: 'media/images/best_x.png' }, 'w/hist': ROWS[3]['w/hist'] };

function apiRun(): GenRun {
  return {
    id: 'media1', displayName: 'media-run', tags: [], state: 'finished', createdAt: CREATED, heartbeatAt: CREATED, user: 'u',
    config: {}, summary: SUMMARY, historyRowCount: ROWS.length, lastStep: ROWS.length - 1,
    // Rows 0 and 1 come from the parquet export, 2 and 3 from the live tail.
    history: () => ROWS, exportedBelowStep: 2,
    systemEvents: () => [], systemEventCount: 0, eventsFileListed: false, consoleLines: [],
    files: Object.entries(FILES).map(([n, b]) => bufferFile(n, b)),
  };
}

/** The same run as a pre-0.10 run folder: its files root is the folder itself (`media/…`). */
function diskRun(parent: string): void {
  const run = join(parent, 'wandb', 'run-20240101_000000-media1');
  mkdirSync(run, { recursive: true });
  writeFileSync(join(run, 'wandb-metadata.json'), JSON.stringify({ project: 'media_disk', state: 'finished', startedAt: CREATED }));
  writeFileSync(join(run, 'wandb-history.jsonl'), ROWS.map((r) => JSON.stringify(r)).join('\n') + '\n');
  writeFileSync(join(run, 'wandb-summary.json'), JSON.stringify(SUMMARY));
  for (const [name, bytes] of Object.entries(FILES)) {
    mkdirSync(dirname(join(run, name)), { recursive: true });
    writeFileSync(join(run, name), bytes);
  }
}

interface Report {
  runs: Array<{ run: string; written: Record<string, number>; notWritten: Array<{ reason: string; subject: string; count: number; detail?: string }> }>;
}

let stack: Stack;
let dir: string;
const reports: Record<string, Report> = {};

async function migrate(args: string[], ledger: string): Promise<Report> {
  const out = await runCli(['migrate', ...args, '--workspace', 'demo', '--projects', 'all', '--yes', '--json', '--ledger', join(dir, ledger)], stack.env, dir).done;
  expect(out.code, out.stderr).toBe(0);
  return (events(out.stdout).find((e) => e.type === 'report') as unknown as { report: Report }).report;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'w2n-media-'));
  stack = await startStack({ entity: { name: 'media-team', projects: [{ name: 'media_api', createdAt: CREATED, runs: [apiRun()] }] } });
  diskRun(join(dir, 'disk'));
  reports.api = await migrate([], 'api.sqlite');
  reports.disk = await migrate(['--source', join(dir, 'disk')], 'disk.sqlite');
}, 180_000);

afterAll(async () => {
  await stack?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe.each([
  ['W&B API', 'api', 'demo/media-api'],
  ['run folder', 'disk', 'demo/media-disk'],
])('media kinds from the %s (issue 11)', (_label, source, project) => {
  const id = () => neptuneRunId(stack.neptune, project, 'media1')!;

  it('images: series `img` one per step, `grid` three per row at step + i/3, captions as description, bytes through the served reads', async () => {
    const neptune = await session(stack.neptune);
    const stored = (path: string) => stack.neptune.inspect.stringSeries(id(), path).map((e) => ({ step: e.step, ts: e.timestampMs, v: JSON.parse(e.value) as { description?: string } }));
    expect(stored('img').map((s) => [s.step, s.ts, s.v.description])).toEqual(ROWS.map((r) => [r._step, ((r._timestamp as number) * 1000), `step ${r._step as number}`]));
    expect(stored('grid').map((s) => [s.step, s.v.description])).toEqual(ROWS.flatMap((r) => [0, 1, 2].map((i) => [(r._step as number) + i / 3, 'xyz'[i]])));
    const want = {
      img: ROWS.map((r) => FILES[(r.img as { path: string }).path]),
      grid: ROWS.flatMap((r) => (r.grid as { filenames: string[] }).filenames.map((n) => FILES[n])),
    };
    for (const [path, list] of Object.entries(want)) {
      const count = await neptune.api('/api/leaderboard/v1/attributes/series/image', { experimentId: id(), attribute: path });
      expect(count.json).toEqual({ totalItemCount: list.length });
      for (const [i, bytes] of list.entries()) {
        const one = await neptune.api('/api/leaderboard/v1/attributes/series/image/single', { experimentId: id(), attribute: path, index: i });
        expect(one.bytes.equals(bytes), `${path} #${i}`).toBe(true);
      }
    }
  });

  it('histogram, table (JSON and CSV), html, plotly: one file per step in media/<kind>/<key>; the long list in media/lists', () => {
    const set = (path: string) => stack.neptune.inspect.fileSet(id(), path);
    const hist = set('media/histograms/w/hist');
    for (const r of ROWS) expect(JSON.parse(hist[`${r._step as number}.json`].toString())).toEqual(r['w/hist'] && { bins: [0, 0.5, 1], values: [r._step, (r._step as number) + 1] });
    const tables = set('media/tables/preds');
    for (const r of ROWS) {
      const step = r._step as number;
      expect(tables[`${step}.table.json`].equals(FILES[(r.preds as { path: string }).path])).toBe(true);
      expect(tables[`${step}.csv`].toString('utf8')).toBe(`id,text\r\n1,"a,""b"""\r\n2,\r\n${step},ü\r\n`);
      expect(set('media/html/page')[`${step}.html`].equals(FILES[(r.page as { path: string }).path])).toBe(true);
      expect(set('media/plotly/fig')[`${step}.plotly.json`].equals(FILES[(r.fig as { path: string }).path])).toBe(true);
      expect(JSON.parse(set('media/lists/long')[`${step}.json`].toString())).toEqual(LONG);
    }
  });

  it('the short list: a string series of its JSON text; summary media under summary/media/…', () => {
    expect(stack.neptune.inspect.stringSeries(id(), 'short').map((e) => [e.step, e.value])).toEqual(ROWS.map((r) => [r._step, `[${r._step as number},"a",null]`]));
    expect(stack.neptune.inspect.fileSet(id(), 'summary/media/images/best')['summary.png'].equals(FILES['media/images/best_x.png'])).toBe(true);
    expect(JSON.parse(stack.neptune.inspect.fileSet(id(), 'summary/media/histograms/w/hist')['summary.json'].toString())).toEqual({ bins: [0, 0.5, 1], values: [3, 4] });
  });

  it('the report: an image whose file is missing is one line naming the key; nothing else is left out but the raw media/ files', () => {
    const r = reports[source].runs[0];
    // The raw files stay out by default (mapping.md: they reach Neptune through their history values).
    const defaults = r.notWritten.filter((o) => o.reason === 'excluded-by-default');
    expect(defaults.every((o) => o.subject.startsWith('media/') || o.subject.startsWith('wandb-'))).toBe(true);
    expect(r.notWritten.filter((o) => o.reason !== 'excluded-by-default')).toEqual([
      { reason: 'download-failed', subject: 'gone', count: 4, detail: expect.stringContaining("media/images/gone_0.png is not among the run's files") },
    ]);
    expect(r.written.images).toBe(4 + 12);
  });
});

describe('media and re-runs (issue 11)', () => {
  it('a migration with a lost ledger sends no image again; its files, which Protocol A cannot prove the same bytes, go again to the same entries', async () => {
    const images = () => stack.neptune.inspect.stringSeries(neptuneRunId(stack.neptune, 'demo/media-api', 'media1')!, 'grid').length;
    const held = () => {
      const id = neptuneRunId(stack.neptune, 'demo/media-api', 'media1')!;
      const sets = Object.entries(stack.neptune.inspect.attributes(id)).filter(([, a]) => a.type === 'fileSet').map(([path]) => path);
      return Object.fromEntries(sets.map((set) => [set, stack.neptune.inspect.fileSet(id, set)]));
    };
    const before = held();
    expect(images()).toBe(12);
    const again = await migrate([], 'fresh.sqlite');
    // Every file set holds what it held (no entry twice, the same bytes): A lists a set's entries with
    // their sizes only, so its files were sent again (test/e2e/lost-ledger-same-size.test.ts).
    expect(held()).toEqual(before);
    expect(images()).toBe(12);
    expect(again.runs[0].written.images ?? 0).toBe(0);
    expect(again.runs[0].written.imagesAlreadyPresent).toBe(16);
  }, 120_000);

  it('a summary image that changed since the last migration lands again under its name (the ledger keeps what each file was made from)', async () => {
    const project = stack.entity.projects[0];
    const newer = png(77);
    const changed: GenRun = {
      ...apiRun(),
      heartbeatAt: '2024-01-02T00:00:00',
      summary: { ...SUMMARY, best: { _type: 'image-file', path: 'media/images/best_y.png' } },
      files: [...apiRun().files, bufferFile('media/images/best_y.png', newer)],
    };
    project.runs[0] = changed;
    const r = await migrate([], 'api.sqlite');
    expect(r.runs[0].notWritten.filter((o) => o.reason !== 'excluded-by-default')).toHaveLength(1); // `gone`, as before
    const id = neptuneRunId(stack.neptune, 'demo/media-api', 'media1')!;
    expect(stack.neptune.inspect.fileSet(id, 'summary/media/images/best')['summary.png'].equals(newer)).toBe(true);
  }, 120_000);

  it('--exclude leaves each kind out by key; the old --include media works with a notice; a bad --exclude is a usage error', async () => {
    const out = await runCli(['migrate', '--dry-run', '--exclude', 'media,tables', '--exclude', 'histograms,lists', '--include', 'media', '--workspace', 'demo', '--projects', 'all', '--yes', '--json', '--ledger', join(dir, 'excl.sqlite')], stack.env, dir).done;
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout + out.stderr).toContain('--include media is now --include media-files');
    const r = (events(out.stdout).find((e) => e.type === 'report') as unknown as { report: Report }).report.runs[0];
    const excluded = new Map(r.notWritten.filter((o) => o.reason === 'excluded-by-default' && !o.subject.includes('.')).map((o) => [o.subject, o.detail]));
    expect(Object.fromEntries(excluded)).toMatchObject({
      img: 'image-file value (--exclude media)', grid: 'images/separated value (--exclude media)', page: 'html-file value (--exclude media)',
      preds: 'table-file value (--exclude tables)', 'w/hist': 'histogram value (--exclude histograms)', short: 'list value (--exclude lists)',
      'summary/best': 'image-file value (--exclude media)',
    });
    // With --include media (media-files) the raw files are planned as plain files instead.
    expect(r.notWritten.filter((o) => o.subject.startsWith('media/'))).toEqual([]);
    const bad = await runCli(['migrate', '--exclude', 'pictures', '--workspace', 'demo', '--yes', '--json', '--ledger', join(dir, 'bad.sqlite')], stack.env, dir).done;
    expect(bad.code).toBe(2);
    expect(bad.stderr + bad.stdout).toContain('--exclude pictures: expected one of media, tables, histograms, lists');
  }, 120_000);
});
