/**
 * The export read file by file in step order, each file's range from its footer (a ranged request),
 * gives every row of every all-shapes run cell by cell as the paged scan does: from a server that honours
 * Range and from one that ignores it (200, the whole file), from the start and from mid-export (where the
 * files wholly before the step are not downloaded when Range is honoured). The first file is read while
 * the last one has not come yet.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateEntity, startWandbEmulator, type WandbEmulator } from '../../../emulators/wandb/index.ts';
import { silentLogger } from '../../core/logger.ts';
import type { HistoryRow, RunInfo } from '../../core/records.ts';
import { HttpClient, type HttpRequest } from '../../http/client.ts';
import { blockRows } from '../history-block.ts';
import { GraphqlTransport } from './graphql.ts';
import { readHistory, readHistoryBlocks, type HistoryReaderDeps } from './history.ts';
import { createWandbSource } from './index.ts';
import { downloadToFile } from './download.ts';
import { exportFooter } from './export-footers.ts';
import { parquetStepRange } from './parquet-rows.ts';
import { RUN_PARQUET_HISTORY } from './queries.ts';

const KEY = 'emulatorkey-0123456789abcdef0123456789abcd';
let emu: WandbEmulator;
let tmp: string;
const clients: HttpClient[] = [];
beforeAll(async () => {
  // 40 rows per export file: the all-shapes runs' exports come in many files.
  emu = await startWandbEmulator({ apiKeys: [KEY], entity: generateEntity({ seed: 11, preset: 'all-shapes' }), exportRowsPerFile: 40 });
  tmp = mkdtempSync(join(tmpdir(), 'w2n-footers-'));
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await emu.close();
  rmSync(tmp, { recursive: true, force: true });
});

interface Storage {
  /** Requests that reached storage: `<file> <range or "whole">`. */
  seen: string[];
  /** Held until it resolves: the whole-file GET of a file whose name is a key. */
  hold: Map<string, Promise<void>>;
}

/** Reader deps whose storage client forgets `Range` when `ignoreRange` (a server that ignores it answers 200, the whole file). */
function deps(ignoreRange: boolean, storage: Storage = { seen: [], hold: new Map() }): HistoryReaderDeps {
  const api = new HttpClient({ service: 'W&B' });
  const real = new HttpClient({ service: 'W&B storage' });
  clients.push(api, real);
  const gql = new GraphqlTransport({ http: api, baseUrl: emu.url, apiKey: KEY });
  const http = {
    async stream(req: HttpRequest) {
      const headers = { ...(req.headers as Record<string, string>) };
      const file = /\/(\d+\.parquet)\?/.exec(req.url)?.[1] ?? req.url;
      storage.seen.push(`${file} ${headers.Range ?? 'whole'}`);
      if (ignoreRange) delete headers.Range;
      if (!headers.Range) await storage.hold.get(file);
      return real.stream({ ...req, headers });
    },
  } as unknown as HttpClient;
  const route = (url: string) => (gql.isUnderBase(url) ? { http: api, headers: gql.authHeadersFor(url) } : { http, headers: {} });
  return { gql, route, tmpDir: tmp, pageSize: 10, preferParquet: true, log: silentLogger };
}

async function rowsOf(read: AsyncIterable<HistoryRow>): Promise<HistoryRow[]> {
  const out: HistoryRow[] = [];
  for await (const r of read) out.push(r);
  return out;
}

async function blockRowsOf(d: HistoryReaderDeps, run: RunInfo, fromStep: number): Promise<HistoryRow[]> {
  const out: HistoryRow[] = [];
  for await (const b of readHistoryBlocks(d, run, fromStep)) out.push(...blockRows(b));
  return out;
}

async function allRuns(): Promise<RunInfo[]> {
  const source = createWandbSource({ baseUrl: emu.url, apiKey: KEY, env: {} });
  try {
    const runs: RunInfo[] = [];
    for await (const p of source.listProjects()) for await (const r of source.listRuns(p.name, {})) runs.push(r);
    return runs;
  } finally {
    await source.close();
  }
}

describe('the export read file by file from its footers', () => {
  it('gives the paged scan’s rows, cell by cell, with Range honoured and ignored, from the start and mid-export', async () => {
    const scan = { ...deps(false), preferParquet: false, pageSize: 97 };
    let multiFile = 0;
    for (const run of await allRuns()) {
      const all = await rowsOf(readHistory(scan, run, 0));
      const midIndex = Math.floor(all.length * 0.6);
      const mid = all.length > 0 ? all[midIndex].step : 0;
      for (const fromStep of [0, mid]) {
        const expected = fromStep === 0 ? all : all.filter((r) => r.step >= fromStep);
        for (const ignoreRange of [false, true]) {
          const storage: Storage = { seen: [], hold: new Map() };
          const d = deps(ignoreRange, storage);
          const what = `${run.displayName} from ${fromStep}, Range ${ignoreRange ? 'ignored' : 'honoured'}`;
          expect(await rowsOf(readHistory(d, run, fromStep)), what).toEqual(expected);
          expect(await blockRowsOf(deps(ignoreRange), run, fromStep), what).toEqual(expected);
          const files = new Set(storage.seen.map((s) => s.split(' ')[0])).size;
          const whole = storage.seen.filter((s) => s.endsWith(' whole')).length;
          if (files > 1 && !ignoreRange) {
            multiFile++;
            // Every footer asked for by range; mid-export, the files wholly before the step are not downloaded.
            expect(storage.seen.filter((s) => s.includes('bytes=-')).length, what).toBe(files);
            if (fromStep === 0) expect(whole, what).toBe(files);
            // The export's first file holds its first 40 rows: wholly before a step past them.
            else if (midIndex >= 40) expect(whole, what).toBeLessThan(files);
          }
          // A server that ignores Range sends each file once, whole, in answer to the footer request.
          if (ignoreRange && files > 0) expect(whole, what).toBe(0);
        }
      }
    }
    expect(multiFile).toBeGreaterThan(2);
  });

  it('a footer longer than the first guess is asked for again, whole; both give the ranges the downloaded files give', async () => {
    const d = deps(false);
    const [run] = (await allRuns()).sort((a, b) => (b.lastStep ?? 0) - (a.lastStep ?? 0));
    const data = await d.gql.graphql<{ project: { run: { parquetHistory: { parquetUrls: string[] } } } }>(RUN_PARQUET_HISTORY, { entity: run.key.entity, project: run.key.project, runName: run.key.runId, liveKeys: ['_step'] }, 'test');
    const urls = data.project.run.parquetHistory.parquetUrls;
    expect(urls.length).toBeGreaterThan(1);
    for (const [i, url] of urls.entries()) {
      const o = { route: d.route, url, dir: tmp, fileName: `f-${i}.parquet`, what: `file ${i}` };
      const whole = await downloadToFile(o);
      const expected = await parquetStepRange(whole.path);
      expect(expected).toBeDefined();
      expect(await exportFooter({ ...o, guess: 16 })).toEqual({ range: expected });
      expect(await exportFooter(o)).toEqual({ range: expected });
      const ignoring = deps(true);
      expect(await exportFooter({ ...o, route: ignoring.route, fileName: `g-${i}.parquet` })).toEqual({ range: expected, whole: join(tmp, `g-${i}.parquet`) });
      expect(readFileSync(join(tmp, `g-${i}.parquet`))).toEqual(readFileSync(whole.path));
    }
  });

  it('reads the first file while the last one has not come', async () => {
    const run = (await allRuns()).find((r) => r.displayName === 'long-run') ?? (await allRuns()).sort((a, b) => (b.lastStep ?? 0) - (a.lastStep ?? 0))[0];
    const storage: Storage = { seen: [], hold: new Map() };
    const d = deps(false, storage);
    // Learn the files' names (their order by step is the emulator's order by name).
    await rowsOf(readHistory(d, run, 0));
    const names = [...new Set(storage.seen.map((s) => s.split(' ')[0]))].sort((a, b) => parseInt(a) - parseInt(b));
    expect(names.length).toBeGreaterThan(2);
    let release!: () => void;
    storage.hold.set(names[names.length - 1], new Promise<void>((r) => (release = r)));
    storage.seen = [];
    const rows: HistoryRow[] = [];
    for await (const r of readHistory(d, run, 0)) {
      // The last file's download waits for this: a reader that waited for every file would never get here.
      if (rows.length === 0) release();
      rows.push(r);
    }
    expect(rows.length).toBeGreaterThan(0);
    expect(storage.seen.filter((s) => s.endsWith(' whole'))).toEqual(names.map((n) => `${n} whole`));
  });
});
