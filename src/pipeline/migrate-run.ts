import type { RunInfo } from '../core/records.ts';
import type { TargetProject, TargetRun, TargetRunState } from '../core/sink.ts';
import { mapConsoleLine } from '../mapping/console.ts';
import { STDOUT_PATH } from '../mapping/console.ts';
import { emptyPoints, mapHistoryRow } from '../mapping/history.ts';
import { mapMigrationFields, mapRunFields, parseWandbDate } from '../mapping/run-fields.ts';
import { SeriesPathPlanner } from '../mapping/series-paths.ts';
import { mapSystemSample, systemStep } from '../mapping/system.ts';
import type { MigrationContext } from './context.ts';
import { runFingerprint } from './fingerprint.ts';
import { migrateFiles } from './migrate-files.ts';
import { PointBatch, StreamWriter } from './stream-writer.ts';

export type RunOutcome = { status: 'migrated' | 'skipped' };

/**
 * Migrates one run: fields, then history, system metrics and console (each double-buffered into the
 * target), with files flowing through the shared file pool alongside. Resumable at every batch: each
 * stream restarts after its ledger cursor, and points the target already holds are never re-sent.
 */
export async function migrateRun(
  run: RunInfo,
  projectTarget: () => Promise<TargetProject>,
  ctx: MigrationContext,
): Promise<RunOutcome> {
  const { ledger, key } = { ledger: ctx.ledger, key: run.key };
  const fingerprint = runFingerprint(run);
  const before = ledger.getRun(key);
  if (before?.status === 'done' && before.fingerprint === fingerprint) {
    ctx.emit({ type: 'run.skipped', run: key, reason: 'already migrated, unchanged' });
    return { status: 'skipped' };
  }
  const project = await projectTarget();
  ledger.startRun(key, { displayName: run.displayName, targetProject: project.qualifiedName });
  ctx.emit({ type: 'run.started', run: key, name: run.displayName, resumed: before !== undefined });

  const target = await ctx.target.openRun(project, key.runId, ctx.signal);
  ledger.setTargetRun(key, target.id);
  const state = await target.state(ctx.signal);

  const fields = mapRunFields(run, ctx.mapping);
  target.assign(fields.fields);
  const refusedFields = await target.flush(ctx.signal);
  ledger.replaceScope(key, 'fields', { fields: fields.fields.length - sumCounts(refusedFields) }, [...fields.omissions, ...refusedFields]);
  ctx.emit({ type: 'run.progress', run: key, stream: 'fields', points: 0, files: 0, bytes: 0 });

  const fallbackTs = parseWandbDate(run.createdAt) ?? 0;
  // Files move through their own pool while the point streams run.
  const files = migrateFiles(run, target, ctx);
  // Handled here so a file failure while the streams still run is not an unhandled rejection;
  // it is re-raised by the `await files` below.
  files.catch(() => {});
  try {
    await migrateHistory(run, target, state, fallbackTs, ctx);
    await migrateSystem(run, target, state, ctx);
    await migrateConsole(run, target, state, fallbackTs, ctx);
  } finally {
    await files.catch(() => {});
  }
  await files;

  target.assign(mapMigrationFields({ toolVersion: ctx.toolVersion, fingerprint, completedAtMs: Date.now() }));
  await target.flush(ctx.signal);
  ledger.finishRun(key, fingerprint);
  const counts = ledger.counts(key);
  ctx.emit({
    type: 'run.done',
    run: key,
    points: (counts.points ?? 0),
    files: counts.files ?? 0,
    bytes: counts.bytes ?? 0,
    omitted: ledger.omissions(key).reduce((n, o) => n + o.count, 0),
  });
  return { status: 'migrated' };
}

function sumCounts(list: ReadonlyArray<{ count: number }>): number {
  return list.reduce((n, o) => n + o.count, 0);
}

async function migrateHistory(run: RunInfo, target: TargetRun, state: TargetRunState, fallbackTs: number, ctx: MigrationContext): Promise<void> {
  const { ledger } = ctx;
  const key = run.key;
  const planner = new SeriesPathPlanner(ledger.seriesPaths(key));
  let committedPaths = planner.added.length;
  const cursor = ledger.cursor(key, 'history');
  const fromStep = cursor === undefined ? undefined : Math.floor(cursor) + 1;
  let total = 0;
  const writer = new StreamWriter<HistoryBatch>(target, ctx.signal, (batch, refused) => {
    const newPaths = planner.added.slice(committedPaths, batch.pathsAt);
    committedPaths = batch.pathsAt ?? committedPaths;
    const renames = planner.renames.filter((r) => newPaths.some((p) => p.key === r.key));
    ledger.commit(key, 'history', {
      cursor: batch.cursor === undefined ? undefined : { stream: 'history', position: batch.cursor },
      counts: { points: batch.points - sumCounts(refused), historyPoints: batch.points - sumCounts(refused), pointsAlreadyPresent: batch.alreadyPresent },
      omissions: [
        ...batch.omissions,
        ...refused,
        ...renames.map((r) => ({ reason: 'renamed' as const, subject: r.key, count: 1, detail: `→ ${r.path}: ${r.why}` })),
      ],
      seriesPaths: newPaths,
    });
    total += batch.points;
    ctx.emit({ type: 'run.progress', run: key, stream: 'history', points: total, files: 0, bytes: 0 });
  });
  let batch = new HistoryBatch(state.lastSteps);
  for await (const row of ctx.source.history(run, { fromStep }, ctx.signal)) {
    const mapped = mapHistoryRow(row, planner, ctx.mapping, fallbackTs, emptyPoints());
    for (const f of mapped.floats) batch.addFloat(f.path, f.point);
    for (const s of mapped.strings) batch.addString(s.path, s.point);
    for (const o of mapped.omissions) batch.omit(o);
    batch.cursor = row.step;
    if (batch.points >= ctx.batchPoints) {
      batch.pathsAt = planner.added.length;
      await writer.submit(batch);
      batch = new HistoryBatch(state.lastSteps);
    }
  }
  batch.pathsAt = planner.added.length;
  if (batch.cursor !== undefined || batch.omissions.length) await writer.submit(batch);
  await writer.drain();
}

class HistoryBatch extends PointBatch {
  /** How many planner assignments this batch's commit covers. */
  pathsAt: number | undefined;
}

async function migrateSystem(run: RunInfo, target: TargetRun, state: TargetRunState, ctx: MigrationContext): Promise<void> {
  const { ledger } = ctx;
  const key = run.key;
  const metrics = await ctx.source.systemMetrics(run, ctx.signal);
  const cursor = ledger.cursor(key, 'system');
  let total = 0;
  const writer = new StreamWriter<SystemBatch>(target, ctx.signal, (batch, refused) => {
    const omissions = [...batch.omissions, ...refused];
    ledger.commit(key, 'system', {
      cursor: batch.cursor === undefined ? undefined : { stream: 'system', position: batch.cursor },
      counts: { points: batch.points - sumCounts(refused), systemPoints: batch.points - sumCounts(refused), systemSamples: batch.samples },
      omissions,
    });
    total += batch.points;
    ctx.emit({ type: 'run.progress', run: key, stream: 'system', points: total, files: 0, bytes: 0 });
  });
  let first: number | undefined;
  let lastStep = -Infinity;
  let seen = 0;
  let batch = new SystemBatch(state.lastSteps);
  for await (const sample of metrics.samples) {
    first ??= sample.timestamp;
    seen++;
    const step = systemStep(sample, first);
    // Samples must keep strictly increasing steps; a clock that went backwards cannot be placed.
    if (step <= lastStep) {
      batch.omit({ reason: 'step-not-increasing', subject: 'system metrics', count: Object.keys(sample.values).length });
      continue;
    }
    lastStep = step;
    if (cursor !== undefined && step <= cursor) continue;
    const mapped = mapSystemSample(sample, step);
    for (const p of mapped.points) batch.addFloat(p.path, p.point);
    if (mapped.nonFinite) batch.omit({ reason: 'non-finite', subject: 'system metrics', count: mapped.nonFinite });
    batch.samples++;
    batch.cursor = step;
    if (batch.points >= ctx.batchPoints) {
      await writer.submit(batch);
      batch = new SystemBatch(state.lastSteps);
    }
  }
  // Said once, on the first pass: W&B only let us have a sample of the system metrics.
  if (metrics.sampled && cursor === undefined) {
    batch.omit({
      reason: 'sampled-source',
      subject: 'system metrics',
      count: Math.max(0, (metrics.totalAvailable ?? seen) - seen),
      detail: `the source only offers sampled system metrics: ${seen} of ${metrics.totalAvailable ?? 'an unknown number of'} samples came`,
    });
  }
  if (batch.cursor !== undefined || batch.omissions.length) await writer.submit(batch);
  await writer.drain();
}

class SystemBatch extends PointBatch {
  samples = 0;
}

async function migrateConsole(run: RunInfo, target: TargetRun, state: TargetRunState, fallbackTs: number, ctx: MigrationContext): Promise<void> {
  const { ledger } = ctx;
  const key = run.key;
  const fromLine = ledger.cursor(key, 'console');
  let total = 0;
  const writer = new StreamWriter<ConsoleBatch>(target, ctx.signal, (batch, refused) => {
    ledger.commit(key, 'console', {
      // The console cursor is the next line to send.
      cursor: batch.cursor === undefined ? undefined : { stream: 'console', position: batch.cursor + 1 },
      counts: { points: batch.points - sumCounts(refused), consoleLines: batch.lines },
      omissions: [...batch.omissions, ...refused],
    });
    total += batch.points;
    ctx.emit({ type: 'run.progress', run: key, stream: 'console', points: total, files: 0, bytes: 0 });
  });
  let batch = new ConsoleBatch(state.lastSteps);
  for await (const line of ctx.source.console(run, { fromLine }, ctx.signal)) {
    for (const p of mapConsoleLine(line, fallbackTs)) batch.addString(STDOUT_PATH, p);
    batch.lines++;
    batch.cursor = line.index;
    if (batch.points >= ctx.batchPoints) {
      await writer.submit(batch);
      batch = new ConsoleBatch(state.lastSteps);
    }
  }
  if (batch.cursor !== undefined) await writer.submit(batch);
  await writer.drain();
}

class ConsoleBatch extends PointBatch {
  lines = 0;
}
