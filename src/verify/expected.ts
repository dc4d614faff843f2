import type { RunFile, RunInfo } from '../core/records.ts';
import type { RunSource } from '../core/source.ts';
import type { FieldAssignment, Omission, SeriesKind, SeriesPoint } from '../core/target.ts';
import { mapConsoleLine, STDOUT_PATH } from '../mapping/console.ts';
import { placeFiles, type FileTarget } from '../mapping/files.ts';
import { emptyPoints, mapHistoryRow } from '../mapping/history.ts';
import type { MappedMedia } from '../mapping/media.ts';
import type { MappingOptions } from '../mapping/options.ts';
import { mapRunFields, parseWandbDate } from '../mapping/run-fields.ts';
import type { SeriesPathPlanner } from '../mapping/series-paths.ts';
import { mapSystemSample, SeriesStepGuard, systemStep } from '../mapping/system.ts';

/**
 * What Neptune should hold for a run, derived from the source with the product's own mapping
 * (src/mapping): nothing here re-decides where a value lands. Streams are generated, never collected.
 */

export interface ExpectedPoint {
  stream: 'history' | 'system' | 'console';
  path: string;
  kind: 'float' | 'string';
  point: SeriesPoint<number> | SeriesPoint<string>;
}

/** Omissions the mapping itself makes (the target is not expected to hold these). */
export type OnOmission = (stream: string, o: Omission) => void;

/** The run with the provenance migrate adds before mapping its fields (migrate-run `withProvenance`). */
export async function withProvenance(run: RunInfo, source: RunSource, signal?: AbortSignal): Promise<RunInfo> {
  if (!source.provenance) return run;
  try {
    const p = await source.provenance(run, signal);
    return { ...run, host: run.host ?? p.host, extra: { ...p.extra, ...run.extra } };
  } catch (error) {
    if (signal?.aborted) throw error;
    return run;
  }
}

export async function expectedFields(run: RunInfo, source: RunSource, mapping: MappingOptions, signal?: AbortSignal): Promise<{ fields: FieldAssignment[]; omissions: Omission[] }> {
  return mapRunFields(await withProvenance(run, source, signal), mapping);
}

/**
 * Every point the migration writes for the run, stream by stream (history, system metrics, console),
 * each series in step order, as migrate-run maps them — minus the resume bookkeeping.
 */
export async function* expectedPoints(
  run: RunInfo,
  source: RunSource,
  planner: SeriesPathPlanner,
  mapping: MappingOptions,
  onOmission: OnOmission,
  signal?: AbortSignal,
  /** The media of each history row (images, files), as the same pass maps them. */
  onMedia?: (media: MappedMedia) => void,
): AsyncGenerator<ExpectedPoint> {
  const fallbackTs = parseWandbDate(run.createdAt) ?? 0;
  for await (const row of source.history(run, {}, signal)) {
    const mapped = mapHistoryRow(row, planner, mapping, fallbackTs, emptyPoints());
    for (const o of mapped.omissions) onOmission('history', o);
    onMedia?.(mapped.media);
    for (const f of mapped.floats) yield { stream: 'history', path: f.path, kind: 'float', point: f.point };
    for (const s of mapped.strings) yield { stream: 'history', path: s.path, kind: 'string', point: s.point };
  }
  const metrics = await source.systemMetrics(run, signal);
  const guard = new SeriesStepGuard();
  let first: number | undefined;
  let seen = 0;
  for await (const sample of metrics.samples) {
    first ??= sample.timestamp;
    seen++;
    const mapped = mapSystemSample(sample, systemStep(sample, first));
    const { kept, backward } = guard.accept(mapped.points);
    for (const [path, count] of backward) onOmission('system', { reason: 'step-not-increasing', subject: path, count });
    if (mapped.nonFinite) onOmission('system', { reason: 'non-finite', subject: 'system metrics', count: mapped.nonFinite });
    for (const p of kept) yield { stream: 'system', path: p.path, kind: 'float', point: p.point };
  }
  if (metrics.sampled) onOmission('system', { reason: 'sampled-source', subject: 'system metrics', count: Math.max(0, (metrics.totalAvailable ?? seen) - seen) });
  for await (const line of source.console(run, {}, signal)) {
    const mapped = mapConsoleLine(line, fallbackTs, mapping);
    if (mapped.omission) onOmission('console', mapped.omission);
    for (const p of mapped.points) yield { stream: 'console', path: STDOUT_PATH, kind: 'string', point: p };
  }
}

export interface ExpectedFile {
  file: RunFile;
  target: FileTarget;
  relativePath: string;
}

/** The run's files as migrate places them (mapping/files.ts); those it leaves out go to `onOmission`. */
export async function* expectedFiles(run: RunInfo, source: RunSource, mapping: MappingOptions, onOmission: OnOmission, signal?: AbortSignal): AsyncGenerator<ExpectedFile> {
  const listing: RunFile[] = [];
  for await (const file of source.files(run, signal)) listing.push(file);
  const placements = placeFiles(listing, mapping);
  for (const file of listing) {
    const placement = placements.get(file.name)!;
    if (placement.kind === 'skip') {
      onOmission('files', { reason: placement.reason, subject: file.name, count: 1, detail: placement.detail });
      continue;
    }
    yield { file, target: placement.target, relativePath: placement.relativePath };
  }
}
