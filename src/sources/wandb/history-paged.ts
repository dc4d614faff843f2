import { runPath } from '../../core/records.ts';
import { SourceDataError } from '../../core/errors.ts';
import { HISTORY_PAGE } from './queries.ts';
import type { GraphqlTransport } from './graphql.ts';
import { parseHistoryString } from './history-rows.ts';
import type { RawRow } from './parquet-rows.ts';
import type { RunKey } from '../../core/records.ts';

interface HistoryPageData {
  project: { run: { history: string[] } | null } | null;
}

export interface PagedScanOptions {
  gql: GraphqlTransport;
  key: RunKey;
  /** First step (inclusive). */
  from: number;
  /** Stop step (exclusive): `lastStep + 1`. */
  stop: number;
  pageSize: number;
  signal?: AbortSignal;
  /** A row that is not valid JSON: skipped and reported here (the rest of the run still comes); without it, an error. */
  onBadRow?: (error: SourceDataError) => void;
}

/**
 * The classic `scan_history`: `HistoryPage` over windows `[offset, offset + pageSize)` up to `stop`.
 * A window exactly `pageSize` steps wide never needs down-sampling, so every row comes back. Empty pages
 * do not end the scan (a gap in step numbers is not the end). The next page is fetched while the
 * current one is consumed (one page ahead, so memory stays at two pages).
 */
export async function* pagedHistoryScan(o: PagedScanOptions): AsyncGenerator<RawRow> {
  const where = `history of ${runPath(o.key)}`;
  const fetchPage = async (min: number): Promise<RawRow[]> => {
    const max = Math.min(min + o.pageSize, o.stop);
    const data = await o.gql.graphql<HistoryPageData>(
      HISTORY_PAGE,
      { entity: o.key.entity, project: o.key.project, run: o.key.runId, minStep: min, maxStep: max, pageSize: o.pageSize },
      where,
      o.signal,
    );
    if (!data.project) throw missing(where, 'project');
    if (!data.project.run) throw missing(where, 'run');
    return pageRows(data.project.run.history, min, max, where, o.onBadRow);
  };
  let offset = Math.max(0, o.from);
  if (offset >= o.stop) return;
  let next: Promise<RawRow[]> | undefined = fetchPage(offset);
  let last = -Infinity;
  try {
    while (next) {
      const page: RawRow[] = await next;
      offset += o.pageSize;
      next = offset < o.stop ? fetchPage(offset) : undefined;
      next?.catch(() => {}); // awaited on the next turn; an early exit must not leave it unhandled
      for (const row of page) {
        const step = row._step as number;
        if (step <= last) continue;
        last = step;
        yield row;
      }
    }
  } finally {
    // A consumer that stops early leaves at most one request in flight; it ends on its own.
    next = undefined;
  }
}

function missing(where: string, what: 'project' | 'run'): Error {
  return new SourceDataError(`${where}: the ${what} was not found (the server answered null)`);
}

/**
 * The rows of one `history(minStep, maxStep, samples)` answer: parsed, kept to the window `[min, max)`
 * and in step order whatever the server sent (also for a page that came in a batched run document).
 */
export function pageRows(texts: readonly string[], min: number, max: number, where: string, onBadRow?: (error: SourceDataError) => void): RawRow[] {
  const rows: RawRow[] = [];
  for (const text of texts) {
    try {
      rows.push(parseHistoryString(text, where, min));
    } catch (error) {
      if (!(error instanceof SourceDataError) || !onBadRow) throw error;
      onBadRow(error);
    }
  }
  return rows.filter((r) => (r._step as number) >= min && (r._step as number) < max).sort((a, b) => (a._step as number) - (b._step as number));
}
