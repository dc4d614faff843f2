import { isAbortError, TargetError } from '../core/errors.ts';
import type { HistoryBlock, HistoryRow, RunInfo, RunKey } from '../core/records.ts';
import type { RunCreation, TargetProject, TargetRunState } from '../core/sink.ts';
import type { FieldAssignment } from '../core/target.ts';
import { mapConsoleLine, STDOUT_PATH } from '../mapping/console.ts';
import { emptyPoints, mapHistoryRow, type MappedPoints } from '../mapping/history.ts';
import { mapHistoryBlock } from '../mapping/history-block.ts';
import { mapSummaryMedia } from '../mapping/media.ts';
import { mapMigrationFields, mapRunFields, parseWandbDate, sharedNameLine } from '../mapping/run-fields.ts';
import { neptuneCustomRunId } from '../mapping/run-id.ts';
import { capabilitiesOf, mappingOptionsKey, type MappingOptions } from '../mapping/options.ts';
import { PROTOCOL_A_CAPABILITIES } from '../mapping/capabilities.ts';
import { SeriesPathPlanner } from '../mapping/series-paths.ts';
import { anyStale, staleFields, type StaleFields } from '../mapping/stale-fields.ts';
import { heldStep } from '../mapping/steps.ts';
import { mapSystemSample, SeriesStepGuard, systemStep } from '../mapping/system.ts';
import type { Ledger } from '../ledger/ledger.ts';
import type { MigrationContext } from './context.ts';
import { runFingerprint } from './fingerprint.ts';
import { migrateArtifacts } from './migrate-artifacts.ts';
import { migrateFiles } from './migrate-files.ts';
import { MediaCarrier } from './migrate-media.ts';
import { startedNow, type StartedNow } from './read-ahead.ts';
import { RunBatcher } from './run-batcher.ts';
import { untilSourceFails, type SourceFailure } from './source-failure.ts';
import { TrailingFields } from './trailing-fields.ts';

export type RunOutcome = { status: 'migrated' | 'skipped' };

/**
 * Migrates one run: its fields and the points of its history, system metrics and console flow into
 * shared batches (see RunBatcher), with files moving through the shared file pool alongside.
 * Resumable at every batch: each stream restarts after its ledger cursor, and points the target
 * already holds are never re-sent. The migration fields go last, once everything else is acknowledged.
 */
export async function migrateRun(
  run: RunInfo,
  projectTarget: () => Promise<TargetProject>,
  ctx: MigrationContext,
  /** Whether no other run of the W&B project has this display name (asked only by targets that need it). */
  nameUnique: (name: string) => Promise<boolean> = async () => false,
): Promise<RunOutcome> {
  const { ledger } = ctx;
  const key = run.key;
  const fingerprint = runFingerprint(run);
  const optionsKey = mappingOptionsKey(ctx.mapping);
  // What the run's migration needs of the ledger's record: the record itself must not live through the
  // run's awaits, not even in a spent register of this async function (ledgerKnown says why).
  const known = ledgerKnown(ledger, key, fingerprint, optionsKey);
  if (known === 'unchanged') {
    ctx.emit({ type: 'run.skipped', run: key, reason: 'already migrated, unchanged' });
    return { status: 'skipped' };
  }
  try {
    return await migrateChangedRun(run, fingerprint, optionsKey, known, projectTarget, ctx, nameUnique);
  } finally {
    await ctx.source.releaseRun?.(run);
  }
}

/**
 * What a run's migration needs to know of the ledger's record of it, or that the run is done and
 * unchanged. Only these facts live on through the run's awaits, not the record (read here, in a plain
 * function, so that no register of the async caller keeps it: V8 saves an async function's registers
 * at each await, spent ones too). The ledger's records are all made by one object literal (ledger.ts,
 * toLedgerRun); when most of them outlive V8's scavenges, V8 allocates that literal's objects straight
 * in the old generation from then on (allocation-site pretenuring), and the report at the end, three
 * records a run, went there as garbage: on Node 24 +3.4 MB at the end of 2,000 runs, ~+17 MB at 10,000
 * (`--trace-gc`: what each scavenge promoted), against +0.4 MB with the record read here.
 */
function ledgerKnown(ledger: Ledger, key: RunKey, fingerprint: string, optionsKey: string): LedgerKnown | 'unchanged' {
  const before = ledger.getRun(key);
  if (before?.status === 'done' && before.fingerprint === fingerprint && before.optionsKey === optionsKey) return 'unchanged';
  return { started: before?.startedAt !== undefined, otherOptions: before !== undefined && before.optionsKey !== optionsKey };
}

/** What a run's migration needs to know of the ledger's record of it. */
interface LedgerKnown {
  /** An earlier pass started the run (it resumes). */
  started: boolean;
  /** The run was last read with other mapping options: its streams are read again. */
  otherOptions: boolean;
}

async function migrateChangedRun(
  run: RunInfo,
  fingerprint: string,
  optionsKey: string,
  known: LedgerKnown,
  projectTarget: () => Promise<TargetProject>,
  baseCtx: MigrationContext,
  nameUnique: (name: string) => Promise<boolean>,
): Promise<RunOutcome> {
  // The history is read from now, while the run is opened on the target (project, run, its state): a big
  // run's export downloads meanwhile. Where it starts is the ledger's cursor alone (the target's last steps
  // filter what it already holds later, in the batcher). A run that fails first (the target refused it)
  // ends what the read does for it alone (its export's download: minutes of a big run's bytes nobody
  // would read), and what the source shares with other runs goes on (see startHistory).
  const own = new AbortController();
  const history = startHistory(run, known, baseCtx, own.signal);
  try {
    return await openAndMigrate(run, fingerprint, optionsKey, known, projectTarget, baseCtx, nameUnique, history.read);
  } finally {
    own.abort();
    await history.started.close();
  }
}

/** A run's history, rows or blocks as its source gives them, its first item asked for already. */
type History = { started: StartedNow<HistoryBlock>; read: { blocks: AsyncIterable<HistoryBlock> } } | { started: StartedNow<HistoryRow>; read: { rows: AsyncIterable<HistoryRow> } };

function startHistory(run: RunInfo, known: LedgerKnown, ctx: MigrationContext, runSignal: AbortSignal): History {
  // Other mapping options restart the streams (openAndMigrate clears the cursors): from the start then.
  const cursor = known.otherOptions ? undefined : ctx.ledger.cursor(run.key, 'history');
  const fromStep = cursor === undefined ? undefined : Math.floor(cursor) + 1;
  // The migration's signal for what a source's first read starts and shares with other runs (a batched
  // document, their small files fetched ahead), which must not end with this run; `runSignal` for what
  // the read does for this run alone.
  if (ctx.source.historyBlocks) {
    const started = startedNow(ctx.source.historyBlocks(run, { fromStep, runSignal }, ctx.signal));
    return { started, read: { blocks: started.items } };
  }
  const started = startedNow(ctx.source.history(run, { fromStep, runSignal }, ctx.signal));
  return { started, read: { rows: started.items } };
}

async function openAndMigrate(
  run: RunInfo,
  fingerprint: string,
  optionsKey: string,
  known: LedgerKnown,
  projectTarget: () => Promise<TargetProject>,
  baseCtx: MigrationContext,
  nameUnique: (name: string) => Promise<boolean>,
  history: History['read'],
): Promise<RunOutcome> {
  const { ledger } = baseCtx;
  const key = run.key;
  // Provenance (W&B's metadata file: a download) is read while the run is opened on the target.
  // Provenance that could not be read does not hold the rest back: everything else is migrated, and
  // the run is then left incomplete (not done), so the next pass reads it again.
  let provenanceError: unknown;
  const provenance = withProvenance(run, baseCtx).catch((error: unknown) => {
    if (baseCtx.signal?.aborted) throw error;
    provenanceError = error;
    return run;
  });
  // Awaited below; a failure before that (the target refused the run) must not go unhandled.
  provenance.catch(() => {});
  const project = await projectTarget();
  // The mapping shapes values to what this target holds (int range, NaN, entry lengths, run ids).
  const capabilities = (await baseCtx.target.capabilities?.(baseCtx.signal)) ?? PROTOCOL_A_CAPABILITIES;
  const mapping: MappingOptions = { ...baseCtx.mapping, capabilities };
  const ctx: MigrationContext = { ...baseCtx, mapping };
  // Other options (e.g. `--include internal`) map rows already migrated differently: read them again;
  // what the target already holds is filtered out by its last steps.
  if (known.otherOptions) {
    ledger.restartStreams(key);
    // The re-read counts every point again (the target's own as already present): start the stream
    // counts afresh so the report does not count a point twice.
    for (const scope of ['history', 'system', 'console'] as const) ledger.replaceScope(key, scope, {}, []);
  }
  ledger.startRun(key, { displayName: run.displayName, targetProject: project.qualifiedName, optionsKey });
  // A run the ledger only noted as selected (never started) starts; one started before resumes.
  ctx.emit({ type: 'run.started', run: key, name: run.displayName, resumed: known.started, expectedRows: run.historyLineCount });

  const createdAtMs = parseWandbDate(run.createdAt);
  const name = run.displayName || undefined;
  const creation: RunCreation = {
    ...(capabilities.backDating ? { createdAtMs, name, nameUnique: name !== undefined && (await nameUnique(name)) } : {}),
    ledgerStarted: known.started,
  };
  // The run's creation is a write the batches wait on (B: its status): a stop must not cut it under them.
  const target = await ctx.target.openRun(project, neptuneCustomRunId(key.runId, capabilities), ctx.writeSignal ?? ctx.signal, creation);
  ledger.setTargetRun(key, target.id);
  const state = await target.state(ctx.signal);
  refuseForeignRun(state, ledger, key, project.qualifiedName, target.id);

  const planner = new SeriesPathPlanner(ledger.seriesPaths(key));
  // The migration fields ride with the run's last write (TrailingFields): one request, not two.
  const trailing = new TrailingFields(target);
  const batcher = new RunBatcher(key, trailing, state.lastSteps, ledger, ctx.emit, planner.added, ctx.batchPoints, ctx.writeSignal ?? ctx.signal, (step) => heldStep(step, capabilities));
  // Files move through their own pool while the provenance is read and the point streams run.
  const files = migrateFiles(run, target, state, ctx);
  // Handled here so a file failure while the streams still run is not an unhandled rejection;
  // it is re-raised once the streams' last batch is sent.
  files.catch(() => {});
  let media: MediaCarrier | undefined;
  let filesFailure: { error: unknown } | undefined;
  const historyFailure: SourceFailure = {};
  try {
    const withMeta = await provenance;
    const fields = mapRunFields(withMeta, ctx.mapping);
    const summaryMedia = mapSummaryMedia(run.summary, ctx.mapping);
    const nameLine = creation.name !== undefined && !creation.nameUnique ? [sharedNameLine(creation.name, key.project)] : [];
    batcher.setFields(fields.fields, [...fields.omissions, ...summaryMedia.omissions, ...nameLine], staleOnTarget(state, fields.fields, provenanceError, ledger, key));
    media = new MediaCarrier(run, target, state, ctx, { omit: (o) => batcher.omit('history', o), count: (counts) => batcher.progress('history', { counts }) });
    const fallbackTs = parseWandbDate(run.createdAt) ?? 0;
    // A history the source fails to read (a damaged export) stops there; the rest of the run still lands.
    await pumpHistory(history, planner, batcher, media, fallbackTs, ctx, historyFailure);
    await media.carry(summaryMedia, 'fields');
    await pumpSystem(run, batcher, ctx);
    await pumpConsole(run, batcher, fallbackTs, ctx);
    // The run is complete once its files, artifacts and last batch landed: the migration fields go
    // with that last batch, so it waits for the files.
    filesFailure = await files.then(() => undefined, (error: unknown) => ({ error }));
    if (ctx.mapping.include.has('artifacts') && ctx.source.artifacts) {
      // Artifacts write fields of their own: never beside a batch in flight.
      await batcher.drain();
      await migrateArtifacts(run, target, ctx, state);
    }
    if (!filesFailure && provenanceError === undefined && historyFailure.error === undefined) {
      trailing.arm(mapMigrationFields({ toolVersion: ctx.toolVersion, fingerprint, completedAtMs: Date.now() }));
    }
    await batcher.drain();
  } catch (error) {
    // A stop (Ctrl-C) ends the reading, not what was sent: the batches in flight are acknowledged into
    // the ledger before the run goes back to pending, so the next pass does not send them again.
    if (isAbortError(error) && ctx.writeSignal !== undefined && !ctx.writeSignal.aborted) await batcher.settle().catch(() => {});
    throw error;
  } finally {
    await files.catch(() => {});
    await media?.close();
  }
  if (historyFailure.error !== undefined) throw historyFailure.error;
  if (filesFailure) throw filesFailure.error;
  if (provenanceError !== undefined) throw provenanceError;
  await trailing.flushRest(ctx.signal);
  // The run is done (everything else landed); migration fields the target refused are its report lines.
  if (trailing.refused.length) ledger.commit(key, 'fields', { omissions: trailing.refused });
  ledger.finishRun(key, fingerprint);
  const counts = ledger.counts(key);
  ctx.emit({
    type: 'run.done',
    run: key,
    points: counts.points ?? 0,
    files: counts.files ?? 0,
    bytes: counts.bytes ?? 0,
    omitted: ledger.omissions(key).reduce((n, o) => n + o.count, 0),
  });
  return { status: 'migrated' };
}

/**
 * What an earlier pass wrote and W&B no longer has goes, so a changed run ends equal to W&B — unless
 * this pass could not read all of the run's fields (provenance failed; a config, summary or metadata
 * document or run log the source noticed as damaged): a key missing from a damaged read is not a key W&B dropped.
 */
/** Fields every pass of this tool writes with a run's first batch (run-fields.ts), or last (the migration's own). */
const OWN_MARKS = ['wandb/path', 'wandb/run_id', 'wandb/migration/tool_version'];

/**
 * A Neptune run with this custom run id that holds series this tool did not write: Neptune's example
 * migration scripts (peers.md §1.3) also named runs by the W&B run id, but numbered steps their own way
 * (auto-numbered, `epoch`, sampled system rows), so a series' last step says nothing of which W&B
 * points it holds. Resuming into it would count W&B points as already there that are not. Such a run
 * has series but none of the fields this tool writes with its first points, and this ledger never
 * acknowledged a write to it.
 */
function refuseForeignRun(state: TargetRunState, ledger: Ledger, key: RunKey, project: string, id: string): void {
  if (state.lastSteps.size === 0 || !state.types || OWN_MARKS.some((p) => state.types!.has(p))) return;
  if (Object.keys(ledger.counts(key)).length > 0) return;
  throw new TargetError(
    `Neptune run ${project}/${id} (custom run id ${key.runId}) already holds series that wandb-to-neptune did not write ` +
      `(none of ${OWN_MARKS.join(', ')}: another tool's, such as Neptune's example migration script, which numbered steps its own way); ` +
      'its points cannot be matched to W&B steps, so nothing is written into it: delete that run in Neptune and run migrate again, or migrate into another project (--project-map)',
  );
}

/** Source notices that say a run's fields may be read incomplete (a damaged `.wandb` log holds the config records too). */
const DAMAGED_READS: ReadonlySet<string> = new Set(['run', 'config', 'summary', 'log']);

function staleOnTarget(state: TargetRunState, fields: readonly FieldAssignment[], provenanceError: unknown, ledger: Ledger, key: RunKey): StaleFields | undefined {
  const stale = staleFields(state, fields);
  // Most runs hold nothing stale (a new run holds nothing): the ledger is asked only when one does.
  if (!anyStale(stale) || provenanceError !== undefined) return undefined;
  if (ledger.notices(key).some((n) => DAMAGED_READS.has(n.stream))) return undefined;
  return stale;
}

async function pumpHistory(history: History['read'], planner: SeriesPathPlanner, batcher: RunBatcher, media: MediaCarrier, fallbackTs: number, ctx: MigrationContext, failed: SourceFailure): Promise<void> {
  const carry = new MappedCarrier(planner, batcher, media);
  if ('blocks' in history) {
    const internal = ctx.mapping.include.has('internal');
    for await (const block of untilSourceFails(history.blocks, failed, ctx.signal)) {
      // Rows in ranges of about what the batch has room for, so batches are cut where the row path cuts them.
      const perRow = Math.max(1, block.numbers.filter((c) => internal || !c.key.startsWith('_')).length + (block.rest ? 1 : 0));
      for (let from = 0; from < block.length; ) {
        const to = Math.min(block.length, from + Math.max(1, Math.ceil(batcher.room / perRow)));
        const mapped = emptyPoints();
        const floats = mapHistoryBlock(block, from, to, planner, ctx.mapping, fallbackTs, mapped);
        if (floats) batcher.addFloatBlock('history', floats);
        await carry.rows(mapped, block.steps[to - 1], to - from);
        from = to;
      }
    }
  } else {
    for await (const row of untilSourceFails(history.rows, failed, ctx.signal)) {
      await carry.rows(mapHistoryRow(row, planner, ctx.mapping, fallbackTs, emptyPoints()), row.step, 1);
    }
  }
  await media.flush('history');
}

/** What the mapping made of history rows → the batch, with their cursor (rows or blocks alike). */
class MappedCarrier {
  private renamesSeen: number;
  constructor(
    private readonly planner: SeriesPathPlanner,
    private readonly batcher: RunBatcher,
    private readonly media: MediaCarrier,
  ) {
    this.renamesSeen = planner.renames.length;
  }

  /** Carries the points of rows up to the one at `lastStep` (`rows` of them) and records that cursor. */
  async rows(mapped: MappedPoints, lastStep: number, rows: number): Promise<void> {
    const { batcher, planner } = this;
    for (const f of mapped.floats) batcher.addFloat('history', f.path, f.point);
    for (const s of mapped.strings) batcher.addString('history', s.path, s.point);
    for (const o of mapped.omissions) batcher.omit('history', o);
    await this.media.add(mapped.media, 'history');
    while (this.renamesSeen < planner.renames.length) {
      const r = planner.renames[this.renamesSeen++];
      batcher.omit('history', { reason: 'renamed', subject: r.key, count: 1, detail: `→ ${r.path}: ${r.why}` });
    }
    batcher.progress('history', { cursor: lastStep, counts: { historyRows: rows }, pathsAt: planner.added.length });
    // The rows' media land (and are in the ledger) before a batch carrying their cursor is sent: a
    // resume after a kill neither loses nor repeats them.
    if (batcher.full) await this.media.flush('history');
    await batcher.maybeSubmit();
  }
}

async function pumpSystem(run: RunInfo, batcher: RunBatcher, ctx: MigrationContext): Promise<void> {
  const metrics = await ctx.source.systemMetrics(run, ctx.signal);
  const cursor = ctx.ledger.cursor(run.key, 'system');
  let first: number | undefined;
  let seen = 0;
  const guard = new SeriesStepGuard();
  // Resume: the samples up to the cursor's own (in stream order) went in an earlier pass. Steps are
  // not monotonic across series, so after the cursor's sample nothing is skipped by step alone.
  let pastCursor = cursor === undefined;
  for await (const sample of metrics.samples) {
    first ??= sample.timestamp;
    seen++;
    const step = systemStep(sample, first);
    const mapped = mapSystemSample(sample, step, capabilitiesOf(ctx.mapping).nonFinite);
    const { kept, backward } = guard.accept(mapped.points);
    if (!pastCursor && cursor !== undefined) {
      if (step === cursor) pastCursor = true;
      if (step <= cursor) continue;
    }
    for (const p of kept) batcher.addFloat('system', p.path, p.point);
    for (const [path, count] of backward) batcher.omit('system', { reason: 'step-not-increasing', subject: path, count });
    if (mapped.nonFinite) batcher.omit('system', { reason: 'non-finite', subject: 'system metrics', count: mapped.nonFinite });
    for (const u of mapped.unsupported) batcher.omit('system', { reason: 'unsupported-value', subject: u.path, count: 1, detail: `a system-metric value that is not a number (first: ${u.value.slice(0, 80)})` });
    batcher.progress('system', { cursor: step, counts: { systemSamples: 1 } });
    await batcher.maybeSubmit();
  }
  // Said once, on the first pass: the source only let us have a sample of the system metrics.
  if (metrics.sampled && cursor === undefined) {
    batcher.omit('system', {
      reason: 'sampled-source',
      subject: 'system metrics',
      count: Math.max(0, (metrics.totalAvailable ?? seen) - seen),
      detail: `the source only offers sampled system metrics: ${seen} of ${metrics.totalAvailable ?? 'an unknown number of'} samples came`,
    });
  }
}

async function pumpConsole(run: RunInfo, batcher: RunBatcher, fallbackTs: number, ctx: MigrationContext): Promise<void> {
  const fromLine = ctx.ledger.cursor(run.key, 'console');
  for await (const line of ctx.source.console(run, { fromLine }, ctx.signal)) {
    const mapped = mapConsoleLine(line, fallbackTs, ctx.mapping);
    for (const p of mapped.points) batcher.addString('console', STDOUT_PATH, p);
    if (mapped.omission) batcher.omit('console', mapped.omission);
    batcher.progress('console', { cursor: line.index, counts: { consoleLines: 1 } });
    await batcher.maybeSubmit();
  }
}

/**
 * The run with the provenance its source only gives at a cost. What the source can never give is its
 * notice (a report line); a failure to read it leaves the run incomplete (issue 9, item 3).
 */
async function withProvenance(run: RunInfo, ctx: MigrationContext): Promise<RunInfo> {
  if (!ctx.source.provenance) return run;
  const p = await ctx.source.provenance(run, ctx.signal);
  return { ...run, host: run.host ?? p.host, extra: { ...p.extra, ...run.extra } };
}
