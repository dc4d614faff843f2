import { runPath } from '../../core/records.ts';
import type { RunKey, SourceNotice, SystemMetrics, SystemSample } from '../../core/records.ts';
import { SourceDataError } from '../../core/errors.ts';
import { extendedJsonText, parseExtendedJsonObject } from '../extended-json.ts';
import type { GraphqlTransport } from './graphql.ts';
import { RUN_EVENTS, RUN_EVENTS_COUNT } from './queries.ts';

interface EventsCountData {
  project: { run: { eventsLineCount?: number | null } | null } | null;
}
interface EventsData {
  project: { run: { events: string[] } | null } | null;
}

/**
 * Which source of system metrics is most complete (wandb-api.md §2.6.3, open question Q5):
 *  1. The run file `wandb-events.jsonl`, when the run lists it: it is the file the SDK's filestream
 *     wrote, one sample per line, nothing dropped. Read in full (`sampled: false`).
 *  2. Otherwise GraphQL `events(samples: N)`, the only other read path. The server down-samples to N,
 *     so we ask for N = `eventsLineCount` (everything it says exists). If fewer rows come back than
 *     `eventsLineCount`, the stream is marked `sampled` with `totalAvailable`, and a notice says so;
 *     if all came back, it is complete. No source of the sample timestamps beyond these exists.
 */
export async function eventsFromGraphql(
  gql: GraphqlTransport,
  key: RunKey,
  onNotice: ((n: SourceNotice) => void) | undefined,
  signal?: AbortSignal,
): Promise<SystemMetrics> {
  const where = `system metrics of ${runPath(key)}`;
  const vars = { project: key.project, entity: key.entity, name: key.runId };
  const countData = await gql.graphql<EventsCountData>(RUN_EVENTS_COUNT, vars, where, signal);
  if (!countData.project?.run) throw new SourceDataError(`${where}: the run was not found`);
  const total = countData.project.run.eventsLineCount ?? 0;
  if (total <= 0) return { sampled: false, totalAvailable: 0, samples: fromArray([]) };
  const data = await gql.graphql<EventsData>(RUN_EVENTS, { ...vars, samples: total }, where, signal);
  if (!data.project?.run) throw new SourceDataError(`${where}: the run was not found`);
  return metricsFromEvents(data.project.run.events, total, key, onNotice);
}

/**
 * The samples of an `events(samples: N)` answer, given `total` = `eventsLineCount`: fewer rows than
 * that is a sampled stream (a notice says so), as many is complete.
 */
export function metricsFromEvents(events: readonly string[], total: number, key: RunKey, onNotice: ((n: SourceNotice) => void) | undefined): SystemMetrics {
  const where = `system metrics of ${runPath(key)}`;
  const samples: SystemSample[] = [];
  for (const text of events) {
    const s = eventToSample(text, where, key, onNotice);
    if (s) samples.push(s);
  }
  samples.sort((a, b) => a.timestamp - b.timestamp);
  const sampled = events.length < total;
  if (sampled) {
    onNotice?.({
      run: key,
      stream: 'system',
      kind: 'sampled',
      message: `W&B returned ${events.length} of ${total} system-metric samples (server-side down-sampling; no wandb-events.jsonl file)`,
      count: total - events.length,
    });
  }
  return { sampled, totalAvailable: total, samples: fromArray(samples) };
}

/** One events row → a sample; rows without a timestamp are reported and skipped (they cannot be placed). */
export function eventToSample(text: string, where: string, key: RunKey, onNotice?: (n: SourceNotice) => void): SystemSample | undefined {
  let row: Record<string, unknown>;
  try {
    row = parseExtendedJsonObject(text);
  } catch (error) {
    onNotice?.({ run: key, stream: 'system', kind: 'invalid', message: `${where}: a system-metrics row is not valid JSON (${error instanceof Error ? error.message : String(error)})`, count: 1 });
    return undefined;
  }
  const ts = row._timestamp;
  if (typeof ts !== 'number' || !Number.isFinite(ts)) {
    onNotice?.({ run: key, stream: 'system', kind: 'invalid', message: `${where}: a system-metrics row has no _timestamp`, count: 1 });
    return undefined;
  }
  const values: Record<string, number> = {};
  const unsupported: Record<string, string> = {};
  for (const [k, v] of Object.entries(row)) {
    if (k.startsWith('_')) continue;
    if (typeof v === 'number') values[k] = v;
    else if (typeof v === 'bigint') values[k] = Number(v);
    else if (typeof v === 'boolean') values[k] = v ? 1 : 0;
    else unsupported[k] = extendedJsonText(v); // a report line by metric, never dropped silently
  }
  const s: SystemSample = { timestamp: ts, values };
  if (Object.keys(unsupported).length > 0) s.unsupported = unsupported;
  if (typeof row._runtime === 'number') s.runtime = row._runtime;
  return s;
}

async function* fromArray<T>(xs: T[]): AsyncGenerator<T> {
  yield* xs;
}
