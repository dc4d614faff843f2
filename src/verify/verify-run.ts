import { runPath, type RunInfo, type RunKey } from '../core/records.ts';
import type { RunSource } from '../core/source.ts';
import type { Omission } from '../core/target.ts';
import type { Ledger } from '../ledger/ledger.ts';
import { capabilitiesOf, EXCLUDE_OPTIONS, INCLUDE_OPTIONS, type ExcludeOption, type IncludeOption, type MappingOptions } from '../mapping/options.ts';
import { neptuneCustomRunId } from '../mapping/run-id.ts';
import type { SeriesPath } from '../mapping/series-paths.ts';
import { runFingerprint } from '../pipeline/fingerprint.ts';
import type { ProjectInfo } from '../sinks/neptune/projects.ts';
import type { HeldField } from '../sinks/neptune/read-back.ts';
import { Explainer, isDefaultReason } from './explain.ts';
import { compareArtifacts } from './compare-artifacts.ts';
import { compareFields } from './compare-fields.ts';
import { compareFiles } from './compare-files.ts';
import { compareMedia, ExpectedMedia } from './compare-media.ts';
import { compareSeries } from './compare-series.ts';
import type { TargetReader } from './reader.ts';
import type { Difference, RunVerification } from './types.ts';

export interface VerifyRunContext {
  source: RunSource;
  /** Reads the run back through the protocol that wrote it. */
  reader: TargetReader;
  /** With the capabilities of the migration's target (the mapping shaped values to them). */
  mapping: MappingOptions;
  /** A private copy of the migration's ledger, when there is one. */
  ledger?: Ledger;
  /** What the source could not give, per run path, as it reads it now (damaged logs, bad rows). */
  sourceDamage?: ReadonlyMap<string, number>;
  /**
   * Another run of the migration, as Neptune holds it (with the ledger: the run that copied an artifact
   * version this run logged or used). Undefined when Neptune has no such run.
   */
  locate?: (run: RunKey, targetProject: string, shortId: string | undefined) => Promise<LocatedRun | undefined>;
  /** Keep a small chart of each run's main metric, both sides (for the HTML report). */
  charts?: boolean;
  signal?: AbortSignal;
}

/** A run found in Neptune: the reader of its project, its container and its fields. */
export interface LocatedRun {
  reader: TargetReader;
  containerId: string;
  held: ReadonlyMap<string, HeldField>;
}

/**
 * Verifies one run: finds it in Neptune (by the ledger's run id, else by custom run id), then compares
 * its fields, series, console and files with what the migration of the W&B run should have left
 * there. Differences the migration's report accounts for are marked `expected`.
 */
export async function verifyRun(run: RunInfo, project: ProjectInfo | undefined, targetProject: string, ctx: VerifyRunContext): Promise<RunVerification> {
  const key = run.key;
  const result: RunVerification = {
    run: key, name: run.displayName, targetProject, status: 'verified', differences: [],
    checked: { fields: 0, series: 0, points: 0, consoleEntries: 0, files: 0, md5: 0 }, omitted: 0,
  };
  const ledgerRun = ctx.ledger?.getRun(key);
  // The run is checked against the options its migration used (the ledger knows them), not today's flags.
  if (ledgerRun?.optionsKey) ctx = { ...ctx, mapping: { ...ctx.mapping, ...mappingOptionsFromKey(ledgerRun.optionsKey) } };
  const customRunId = neptuneCustomRunId(key.runId, capabilitiesOf(ctx.mapping));
  const containerId = project && (await ctx.reader.findRun(project, { shortId: ledgerRun?.targetRun, customRunId }, ctx.signal));
  if (!containerId) {
    result.status = 'missing';
    result.differences.push({ scope: 'run', subject: customRunId, detail: project ? `no run with custom run id "${customRunId}" in Neptune project ${targetProject}` : `Neptune project ${targetProject} does not exist` });
    return result;
  }
  result.targetRun = containerId;

  const ledgerOmissions = ctx.ledger?.omissions(key) ?? [];
  const explainer = new Explainer(ledgerOmissions);
  const mappingOmissions: Omission[] = [];
  const onOmission = (_stream: string, o: Omission) => {
    if (!isDefaultReason(o.reason)) mappingOmissions.push(o);
  };
  const held = await ctx.reader.fields(containerId, ctx.signal);
  const diffs: Difference[] = [];

  const completed = held.get('wandb/migration/completed_at');
  if (!completed) diffs.push({ scope: 'run', subject: 'wandb/migration/completed_at', detail: 'the migration of this run did not complete (no wandb/migration/completed_at): run migrate again' });
  const fp = held.get('wandb/migration/source_fingerprint')?.value;
  if (completed && fp !== runFingerprint(run)) {
    diffs.push({ scope: 'run', subject: 'wandb/migration/source_fingerprint', detail: 'the W&B run changed since it was migrated: run migrate again to bring it up to date' });
  }

  diffs.push(...(await compareFields(run, held, ctx, onOmission, result)));
  const existing: SeriesPath[] = ctx.ledger?.seriesPaths(key) ?? [];
  const media = new ExpectedMedia();
  diffs.push(...(await compareSeries(run, containerId, held, existing, ctx, onOmission, result, media)));
  diffs.push(...(await compareMedia(run, containerId, held, media, ctx, onOmission, result)));
  diffs.push(...(await compareFiles(run, containerId, held, ctx, onOmission, result)));
  diffs.push(...(await compareArtifacts(run, containerId, held, ctx, onOmission, result)));

  for (const d of diffs) {
    const why = explainer.explain(d);
    if (why) d.explainedBy = why;
  }
  result.differences = diffs;
  // The migration's report says what it left out; without one, the mapping's own omissions do.
  const omissions = ctx.ledger ? ledgerOmissions.filter((o) => !isDefaultReason(o.reason)) : mappingOmissions;
  // Records a damaged source could not give are left out too (as the migration report counts them).
  const damage = ctx.ledger
    ? ctx.ledger.notices(key).filter((n) => n.kind !== 'sampled').reduce((n, x) => n + Math.max(1, x.count ?? 1), 0)
    : (ctx.sourceDamage?.get(runPath(key)) ?? 0);
  result.omitted = omissions.reduce((n, o) => n + Math.max(1, o.count), 0) + damage;
  const unexplained = diffs.some((d) => !d.explainedBy);
  result.status = unexplained ? 'mismatch' : diffs.length > 0 || result.omitted > 0 ? 'verified-with-omissions' : 'verified';
  return result;
}

/** The inverse of `mappingOptionsKey` (mapping/options.ts): the `--include` and `--exclude` sets a ledger run was migrated with. */
export function mappingOptionsFromKey(key: string): MappingOptions {
  const include = new Set<IncludeOption>();
  const exclude = new Set<ExcludeOption>();
  for (const item of key.split(',')) {
    if ((INCLUDE_OPTIONS as readonly string[]).includes(item)) include.add(item as IncludeOption);
    else if (item.startsWith('-') && (EXCLUDE_OPTIONS as readonly string[]).includes(item.slice(1))) exclude.add(item.slice(1) as ExcludeOption);
  }
  return exclude.size ? { include, exclude } : { include };
}
