import { runPath } from '../../core/records.ts';
import { rm } from 'node:fs/promises';
import type { HistoryBlock, HistoryRow, RunInfo, RunKey, SourceNotice } from '../../core/records.ts';
import { rowBlocks, sliceBlock } from '../history-block.ts';
import { parquetFileBlocks } from './parquet-blocks.ts';
import { GraphQLError, SourceDataError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import { downloadToFile, makeTempDir, SignedUrlRefusedError, type Route } from './download.ts';
import { numberFromJsonField } from '../extended-json.ts';
import type { GraphqlTransport } from './graphql.ts';
import { pagedHistoryScan } from './history-paged.ts';
import { toHistoryRow } from './history-rows.ts';
import { parquetFileRows, parquetStepRange, textColumnRule, type RawRow, type TextColumnRule } from './parquet-rows.ts';
import { RUN_HISTORY_KEYS, RUN_PARQUET_HISTORY } from './queries.ts';
import { lastStepOf } from './run-info.ts';

export interface HistoryReaderDeps {
  gql: GraphqlTransport;
  /** Client and headers per URL: signed storage URLs get no credentials, whatever redirects they take. */
  route: (url: string) => Route;
  tmpDir: string;
  pageSize: number;
  preferParquet: boolean;
  log: Logger;
  onNotice?: (n: SourceNotice) => void;
}

interface ParquetHistoryData {
  project: { run: { parquetHistory: { parquetUrls: string[]; liveData: unknown[] } } | null } | null;
}

interface HistoryKeysData {
  project: { run: { historyKeys: unknown } | null } | null;
}

/**
 * How a history reader hands out what it reads: rows one by one, or blocks of rows by column
 * (history-block.ts). Everything else (export or paged scan, live tail, duplicates) is one reader.
 */
interface HistoryShape<T> {
  /** The export files' items in step order (files merged by step where they overlap). */
  exported(files: string[], o: ExportReadOptions): AsyncIterable<T>;
  /** Rows of the paged scan, as items. */
  paged(rows: AsyncIterable<RawRow>): AsyncIterable<T>;
  /** The item without its rows at or below `last` (undefined when none is left), and its last step. */
  after(item: T, last: number): { item: T; lastStep: number } | undefined;
}

interface ExportReadOptions {
  fromStep: number;
  textRule: TextColumnRule;
  where: string;
}

const ROWS: HistoryShape<HistoryRow> = {
  exported: (files, o) => mapRows(exportRows(files, o)),
  paged: mapRows,
  after: (row, last) => (row.step <= last ? undefined : { item: row, lastStep: row.step }),
};

/** Live-tail rows go into blocks of at most this many rows (a page is 1,000 by default). */
const PAGED_BLOCK_ROWS = 1000;

const BLOCKS: HistoryShape<HistoryBlock> = {
  exported: exportBlocks,
  paged: (rows) => rowBlocks(increasing(rows), PAGED_BLOCK_ROWS),
  after(block, last) {
    // Steps increase within a block: the rows at or below `last` are a prefix.
    let first = 0;
    while (first < block.length && block.steps[first] <= last) first++;
    if (first === block.length) return undefined;
    return { item: first === 0 ? block : sliceBlock(block, first, block.length), lastStep: block.steps[block.length - 1] };
  },
};

/**
 * A block's steps increase (`after` cuts a prefix): a row at or below the one before it is dropped here,
 * as the row reader's `after` drops it.
 */
async function* increasing(rows: AsyncIterable<RawRow>): AsyncGenerator<HistoryRow> {
  let prev = -Infinity;
  for await (const r of rows) {
    const step = r._step as number;
    if (step <= prev) continue;
    prev = step;
    yield toHistoryRow(r);
  }
}

async function* mapRows(rows: AsyncIterable<RawRow>): AsyncGenerator<HistoryRow> {
  for await (const r of rows) yield toHistoryRow(r);
}

/**
 * Every history row with `step >= fromStep`, in step order, each step once.
 * Export path: the parquet files (downloaded without credentials, merged by `_step`), then the live
 * tail not yet exported, through paged `HistoryPage` from the first live step. No export: the paged
 * scan over `[fromStep, lastStep + 1)`. Both paths give the same rows; duplicates between export and
 * live tail are dropped by step (the later source's copy of an already emitted step is skipped).
 */
export function readHistory(deps: HistoryReaderDeps, run: RunInfo, fromStep: number, signal?: AbortSignal): AsyncGenerator<HistoryRow> {
  return readHistoryAs(ROWS, deps, run, fromStep, signal);
}

/** The same rows as `readHistory`, in blocks: the export by column, the live tail in blocks of its rows. */
export function readHistoryBlocks(deps: HistoryReaderDeps, run: RunInfo, fromStep: number, signal?: AbortSignal): AsyncGenerator<HistoryBlock> {
  return readHistoryAs(BLOCKS, deps, run, fromStep, signal);
}

async function* readHistoryAs<T>(shape: HistoryShape<T>, deps: HistoryReaderDeps, run: RunInfo, fromStep: number, signal?: AbortSignal): AsyncGenerator<T> {
  const key = run.key;
  const where = `history of ${runPath(key)}`;
  // Re-read lastStep only for a running run: it may have logged past what the listing said.
  const historyKeys = run.state === 'running' || run.lastStep === undefined ? await freshHistoryKeys(deps.gql, key, where, signal) : undefined;
  const lastStep = Math.max(run.lastStep ?? -1, historyKeys === undefined ? -1 : lastStepOf(historyKeys));
  if (lastStep < fromStep && run.state !== 'running') return;
  let last = fromStep - 1;
  const accept = (item: T): T | undefined => {
    const kept = shape.after(item, last);
    if (!kept) return undefined;
    last = kept.lastStep;
    return kept.item;
  };

  // With somewhere to report it, a row W&B cannot give as JSON is skipped and reported; without, it is an error.
  const notice = deps.onNotice;
  const onBadRow = notice
    ? (error: SourceDataError) => notice({ run: key, stream: 'history', kind: 'invalid', message: `${error.message}; the row was skipped`, count: 1 })
    : undefined;
  let liveSteps: number[] = [];
  // A window that one HistoryPage covers costs one request; the export costs a query and downloads.
  const smallWindow = lastStep - Math.max(0, fromStep) + 1 <= deps.pageSize && run.state !== 'running';
  if (deps.preferParquet && !smallWindow) {
    let exp = await parquetExport(deps.gql, key, where, signal, deps.log);
    if (exp && exp.urls.length > 0) {
      // The export's text columns are told apart (plain strings vs JSON text) by the run's historyKeys:
      // asked for while the export downloads, needed once it is read.
      const textRuleAsked = historyKeys !== undefined ? Promise.resolve(textColumnRule(historyKeys)) : freshHistoryKeys(deps.gql, key, where, signal).then(textColumnRule);
      // Awaited below; a download that fails first must not leave it unhandled.
      textRuleAsked.catch(() => {});
      const tmp = await makeTempDir(deps.tmpDir, 'w2n-history');
      try {
        let files: string[];
        // Signed export URLs expire: when storage refuses one, ask for the export again (fresh URLs; the
        // list's order may differ, so every file is fetched again) — as the SDK refetches expired URLs.
        for (let refresh = 0; ; refresh++) {
          try {
            files = await downloadAll(deps, exp.urls, tmp.dir, where, refresh, signal);
            break;
          } catch (error) {
            if (!(error instanceof SignedUrlRefusedError) || refresh >= URL_REFRESHES) throw error;
            deps.log.debug(`${where}: ${error.message}; asking for fresh export URLs`);
            const again = await parquetExport(deps.gql, key, where, signal, deps.log);
            if (!again || again.urls.length === 0) throw error;
            exp = again;
          }
        }
        liveSteps = exp.liveSteps;
        const textRule = await textRuleAsked;
        for await (const item of shape.exported(files, { fromStep, textRule, where })) {
          const h = accept(item);
          if (h) yield h;
        }
      } finally {
        await tmp.remove();
      }
      // The live tail: steps not exported yet. Start at the first live step (or where the export ended).
      // Like wandb-core, trust that no rows lie between the export's end and the first live step.
      const { min: minLive, max: maxLive } = minMax(liveSteps);
      const stop = Math.max(lastStep, maxLive) + 1;
      const start = Math.max(fromStep, last + 1, minLive === Infinity ? -Infinity : minLive);
      if (start < stop) {
        for await (const item of shape.paged(pagedHistoryScan({ gql: deps.gql, key, from: start, stop, pageSize: deps.pageSize, signal, onBadRow }))) {
          const h = accept(item);
          if (h) yield h;
        }
      }
      return;
    }
    if (exp) liveSteps = exp.liveSteps;
  }
  const stop = Math.max(lastStep, minMax(liveSteps).max) + 1;
  for await (const item of shape.paged(pagedHistoryScan({ gql: deps.gql, key, from: Math.max(0, fromStep), stop, pageSize: deps.pageSize, signal, onBadRow }))) {
    const h = accept(item);
    if (h) yield h;
  }
}

/** Fresh signed URLs asked for after storage refused one, before giving up. */
const URL_REFRESHES = 2;

async function freshHistoryKeys(gql: GraphqlTransport, key: RunKey, where: string, signal?: AbortSignal): Promise<unknown> {
  const data = await gql.graphql<HistoryKeysData>(RUN_HISTORY_KEYS, { entity: key.entity, project: key.project, name: key.runId }, where, signal);
  if (!data.project?.run) throw new SourceDataError(`${where}: the run was not found`);
  const hk = data.project.run.historyKeys;
  return typeof hk === 'string' ? safeJson(hk) : hk;
}

/** The export, or undefined when the server has no `parquetHistory` (older self-hosted servers). */
async function parquetExport(gql: GraphqlTransport, key: RunKey, where: string, signal: AbortSignal | undefined, log: Logger) {
  let data: ParquetHistoryData;
  try {
    data = await gql.graphql<ParquetHistoryData>(
      RUN_PARQUET_HISTORY,
      { entity: key.entity, project: key.project, runName: key.runId, liveKeys: ['_step'] },
      where,
      signal,
    );
  } catch (error) {
    if (error instanceof GraphQLError) {
      log.debug(`${where}: no parquet export (${error.message}); using the paged history scan`);
      return undefined;
    }
    throw error;
  }
  if (!data.project?.run) throw new SourceDataError(`${where}: the run was not found`);
  const ph = data.project.run.parquetHistory;
  const liveSteps: number[] = [];
  for (const item of ph.liveData ?? []) {
    const obj = typeof item === 'string' ? safeJson(item) : item;
    const s = numberFromJsonField((obj as { _step?: unknown } | null)?._step);
    if (s !== undefined && Number.isFinite(s)) liveSteps.push(Math.trunc(s));
  }
  return { urls: ph.parquetUrls ?? [], liveSteps };
}

function minMax(xs: number[]): { min: number; max: number } {
  let min = Infinity;
  let max = -Infinity;
  for (const x of xs) {
    if (x < min) min = x;
    if (x > max) max = x;
  }
  return { min, max };
}

function safeJson(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return null;
  }
}

async function downloadAll(deps: HistoryReaderDeps, urls: string[], dir: string, where: string, batch: number, signal?: AbortSignal): Promise<string[]> {
  const paths: string[] = new Array(urls.length);
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (next < urls.length && !failure) {
      const i = next++;
      try {
        // Signed storage URLs: no W&B credentials, ever (the route decides per hop).
        const d = await downloadToFile({ route: deps.route, url: urls[i], dir, fileName: `export-${batch}-${i}.parquet`, what: `${where} (export file ${i + 1})`, signal });
        paths[i] = d.path;
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  // Every worker stops before this returns, so no download of a failed batch outlives it.
  await Promise.all(Array.from({ length: Math.min(4, urls.length) }, worker));
  if (failure) {
    await Promise.all(paths.filter(Boolean).map((p) => rm(p, { force: true })));
    throw failure.error;
  }
  return paths;
}

/**
 * The export files' items in step order. Files whose `_step` ranges (from metadata statistics) do not
 * overlap are read one after another, so only one file is open at a time; otherwise `merged` reads them.
 */
async function* exportItems<T>(paths: string[], open: (i: number) => AsyncIterable<T>, merged: () => AsyncIterable<T>, fromStep: number): AsyncGenerator<T> {
  const ranges = await Promise.all(paths.map((p) => parquetStepRange(p).catch(() => undefined)));
  const order = paths.map((_, i) => i);
  if (ranges.every((r) => r !== undefined)) {
    order.sort((a, b) => ranges[a]!.min - ranges[b]!.min);
    const disjoint = order.every((f, k) => k === 0 || ranges[order[k - 1]]!.max < ranges[f]!.min);
    if (disjoint) {
      for (const i of order) if (ranges[i]!.max >= fromStep) yield* open(i);
      return;
    }
  }
  yield* merged();
}

function exportRows(paths: string[], o: ExportReadOptions): AsyncGenerator<RawRow> {
  const open = (i: number) => parquetFileRows(paths[i], { fromStep: o.fromStep, textRule: o.textRule, where: `${o.where} (export file ${i + 1})` });
  return exportItems(paths, open, () => mergeByStep(paths.map((_, i) => open(i))), o.fromStep);
}

/** Overlapping files (not seen in W&B's exports) are merged row by row, then put back into blocks. */
function exportBlocks(paths: string[], o: ExportReadOptions): AsyncGenerator<HistoryBlock> {
  const open = (i: number) => parquetFileBlocks(paths[i], { fromStep: o.fromStep, textRule: o.textRule, where: `${o.where} (export file ${i + 1})` });
  return exportItems(paths, open, () => BLOCKS.paged(exportRows(paths, o)), o.fromStep);
}

/**
 * K-way merge of step-ordered row streams (the export files; their URL order is not guaranteed, and
 * they might overlap). Holds one row per file.
 */
export async function* mergeByStep(streams: AsyncIterator<RawRow>[]): AsyncGenerator<RawRow> {
  const heads: (RawRow | undefined)[] = await Promise.all(streams.map(async (s) => (await s.next()).value as RawRow | undefined));
  try {
    for (;;) {
      let best = -1;
      for (let i = 0; i < heads.length; i++) {
        const h = heads[i];
        if (h && (best < 0 || (h._step as number) < (heads[best]!._step as number))) best = i;
      }
      if (best < 0) return;
      const row = heads[best]!;
      const n = await streams[best].next();
      heads[best] = n.done ? undefined : n.value;
      yield row;
    }
  } finally {
    await Promise.all(streams.map((s) => s.return?.(undefined)));
  }
}
