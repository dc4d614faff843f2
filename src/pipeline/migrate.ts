import { setMaxListeners } from 'node:events';
import { runPath } from '../core/records.ts';
import type { RunKey, SourceProject } from '../core/records.ts';
import type { TargetProject } from '../core/sink.ts';
import type { RunFilter } from '../core/source.ts';
import { ConfigError, MigrationError, isAbortError } from '../core/errors.ts';
import { LedgerError, asLedgerError } from '../ledger/errors.ts';
import { planProjectNames } from '../mapping/project-name.ts';
import { mapProjectFields, projectDescription } from '../mapping/run-fields.ts';
import type { MigrationContext } from './context.ts';
import { migrateRun } from './migrate-run.ts';
import { forEachConcurrent, Pool } from './pool.ts';
import { readAhead } from './read-ahead.ts';
import { checkLedgerServer, noteLedgerProtocol, noteLedgerServer, runTargetMoved } from './ledger-target.ts';
import { checkProjectMap, checkRunIds, emptySelectionError, preflightStep, selectProjects } from './selection.ts';

export interface MigrateSelection {
  /** Neptune workspace the projects go to. */
  workspace: string;
  /** W&B project names, or 'all'. */
  projects: readonly string[] | 'all';
  projectMap: ReadonlyMap<string, string>;
  filter: RunFilter;
  /** Runs migrated at once. */
  concurrency: number;
  /** The source in words, for messages ("folder ./wandb"); default: `W&B entity "<entity>"`. */
  sourceLabel?: string;
  /** The entity the key would read without `--entity`, for the message when the chosen one has nothing. */
  defaultEntity?: () => Promise<string | undefined>;
}

/** Runs selected ahead of their migration (at least twice the concurrency). */
const READ_AHEAD = 50;

export interface MigrateResult {
  /** Runs this pass selected (the ledger notes which: `Ledger.eachPassRun`, the pass's report). */
  selected: number;
  migrated: number;
  skipped: number;
  failed: number;
  interrupted: boolean;
}

/**
 * The migration: check the source before reading any run (its projects against the selection), and
 * the target's credentials and workspace before the first write (see checkNeptune), plan project names (collisions are an error
 * before anything is written), then migrate the runs of every project, `concurrency` at a time, each
 * project made in the target only when a run needs it. A run that fails is recorded as failed in the
 * ledger and the others go on; an abort (Ctrl-C) or a fatal error (credentials, the ledger) stops
 * taking new runs, and runs in flight go back to pending with their acknowledged progress kept.
 * A selection that matched no run is a usage error naming what exists.
 */
export async function migrate(sel: MigrateSelection, outer: MigrationContext): Promise<MigrateResult> {
  // The runs this pass selects are noted in the ledger, not held here: 10,000 runs cost no memory.
  try {
    checkLedgerServer(outer.ledger, outer.target.server);
    outer.ledger.beginPass();
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    throw asLedgerError(e, outer.ledger.path);
  }
  const where = sel.sourceLabel ?? `W&B entity "${await preflightStep('W&B', () => outer.source.entity(outer.signal))}"`;
  const all: SourceProject[] = await preflightStep('W&B', async () => {
    const out: SourceProject[] = [];
    for await (const p of outer.source.listProjects(outer.signal)) out.push(p);
    return out;
  });
  const wanted = selectProjects(all, sel.projects, where, all.length === 0 ? await sel.defaultEntity?.() : undefined);
  checkProjectMap(all, sel.projectMap, where);
  await preflightStep('W&B', () => checkRunIds(outer.source, wanted, sel.filter, where, outer.signal));
  const names = planProjectNames(wanted.map((p) => p.name), sel.projectMap);

  // A fatal error in one run (credentials, the ledger) stops the others too, as an interrupt does.
  const stop = new AbortController();
  const signal = outer.signal ? AbortSignal.any([outer.signal, stop.signal]) : stop.signal;
  // Every request in flight listens to it (runs × streams × files).
  setMaxListeners(0, signal);
  // A fatal error aborts what was sent too; a stop (Ctrl-C) only through the caller's writeSignal.
  const writeSignal = outer.writeSignal ? AbortSignal.any([outer.writeSignal, stop.signal]) : signal;
  const ctx: MigrationContext = { ...outer, signal, writeSignal };
  // Neptune's checks (token, server, workspace) are made once, when the first run has something to
  // write: a re-run with nothing changed sends Neptune nothing at all. When they fail, that one error
  // stops the migration before anything is written (exit 2), and no run is counted failed for it.
  let neptuneChecked: Promise<void> | undefined;
  let neptuneRefusal: { error: unknown } | undefined;
  const checkNeptune = () =>
    (neptuneChecked ??= preflightStep('Neptune', async () => {
      await ctx.target.preflight?.(sel.workspace, ctx.signal);
      noteLedgerServer(ctx.ledger, ctx.target.server);
    }).catch((error: unknown) => {
      neptuneRefusal = { error };
      throw error;
    }));
  const result: MigrateResult = { selected: 0, migrated: 0, skipped: 0, failed: 0, interrupted: false };

  let fatal: unknown;
  // Every project is listed and migrated at once, `concurrency` runs at a time over all of them: each
  // W&B listing page is a round trip (~150 ms and more), so the projects' listings go side by side (an
  // unchanged re-run of 10,000 runs in 5 projects is its listing, nothing else). The runs are reported
  // in project order all the same.
  const runSlots = new Pool(Math.max(1, sel.concurrency));
  const migrateProject = async (project: SourceProject): Promise<void> => {
    if (signal.aborted) return;
    const neptuneName = names.get(project.name)!;
    ctx.emit({ type: 'project.planned', wandbProject: project.name, neptuneProject: `${sel.workspace}/${neptuneName}` });
    // Looked up (or created) only when a run needs it: an unchanged re-run sends nothing to Neptune.
    let target: Promise<TargetProject> | undefined;
    const projectTarget = () =>
      (target ??= checkNeptune().then(async () => {
        const made = await ctx.target.ensureProject(
          sel.workspace,
          neptuneName,
          { description: projectDescription(project), fields: mapProjectFields(project) },
          ctx.signal,
        );
        noteLedgerProtocol(ctx.ledger, ctx.target.kind); // `auto` has chosen by now
        return made;
      }));
    // Runs are selected (and counted as pending) a little ahead of their migration: an interrupt
    // reports every run the listing already handed over, started or not.
    // A run the listing repeats is one the ledger noted for this pass already (each run is noted as the
    // listing hands it over, before the next is read): the ledger is the listing's record, not a set of
    // every run id held here.
    const listing = { listed: (key: RunKey) => ctx.ledger.inPass(key) };
    const selected = readAhead(ctx.source.listRuns(project.name, sel.filter, ctx.signal, listing), Math.max(READ_AHEAD, 2 * sel.concurrency), (run) => {
      result.selected++;
      ctx.onSelected?.(run.key);
      try {
        ctx.ledger.notePending(run.key, run.displayName);
      } catch (e) {
        throw asLedgerError(e, ctx.ledger.path);
      }
    });
    // Protocol B only: a display name shared by two runs of the W&B project must not become B's
    // experiment name (it moves between runs). Listed once, lazily, over the whole project; counted in
    // the ledger, not in memory.
    const projectKey = `${project.entity}/${project.name}`;
    let displayNames: Promise<void> | undefined;
    const nameUnique = async (name: string) => {
      displayNames ??= countDisplayNames(ctx, project.name, projectKey);
      await displayNames;
      return ctx.ledger.displayNameRuns(projectKey, name) === 1;
    };
    await forEachConcurrent(
      selected,
      sel.concurrency,
      (run) => runSlots.run(async () => {
        if (fatal || signal.aborted) return;
        // Another workspace or project map than the ledger's: said once (exit 2), the run left as it was.
        const moved = runTargetMoved(ctx.ledger, run.key, `${sel.workspace}/${neptuneName}`);
        if (moved) {
          fatal ??= moved;
          stop.abort(moved);
          return;
        }
        try {
          const outcome = await migrateRun(run, projectTarget, ctx, nameUnique);
          if (outcome.status === 'skipped') {
            result.skipped++;
            ctx.ledger.noteSkipped(run.key);
          } else result.migrated++;
        } catch (caught) {
          if (neptuneRefusal && caught === neptuneRefusal.error && !isAbortError(caught)) {
            // The run was not started: it stays pending, the refusal is said once by the caller.
            fatal ??= caught;
            stop.abort(caught);
            return;
          }
          const error = asLedgerError(caught, ctx.ledger.path);
          if (isFatal(error)) {
            fatal ??= error;
            stop.abort(error);
          }
          if (!fatal && (isAbortError(error) || outer.signal?.aborted)) {
            bestEffort(() => ctx.ledger.interruptRun(run.key));
            result.interrupted = true;
            return;
          }
          const message = error instanceof Error ? error.message : String(error);
          // Bad credentials or settings fail every run the same way: recorded once, said once by the caller.
          if (error === fatal || !fatal) {
            bestEffort(() => ctx.ledger.failRun(run.key, message, run.displayName));
            ctx.emit({ type: 'run.failed', run: run.key, error: message });
            ctx.log.error(`${runPath(run.key)}: ${message}`);
            result.failed++;
          } else bestEffort(() => ctx.ledger.interruptRun(run.key));
        }
      }),
      signal,
    ).catch((e: unknown) => {
      // The listing itself failed (W&B unreachable mid-way, the run iterator aborted), or the ledger
      // could not note a selected run.
      if (isAbortError(e) && signal.aborted) return;
      throw e;
    });
  };
  const listed = await Promise.allSettled(wanted.map(migrateProject));
  if (fatal) throw fatal;
  const listingFailure = listed.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (listingFailure) throw listingFailure.reason;
  if (outer.signal?.aborted) result.interrupted = true;
  if (result.selected === 0 && !result.interrupted) {
    throw await emptySelectionError(outer.source, wanted, sel.filter, where, outer.signal);
  }
  ctx.emit({ type: 'migration.done', migrated: result.migrated, skipped: result.skipped, failed: result.failed, interrupted: result.interrupted });
  return result;
}

/** The display name of every run of the project, noted in the ledger as the listing hands each over (which also drops the runs W&B pages repeat). */
async function countDisplayNames(ctx: MigrationContext, project: string, projectKey: string): Promise<void> {
  // A ledger error here fails the asking run, which names the ledger (asLedgerError) and stops the migration.
  const listing = { listed: (key: RunKey) => ctx.ledger.displayNameNoted(projectKey, key.runId) };
  for await (const r of ctx.source.listRuns(project, {}, ctx.signal, listing)) {
    if (r.displayName) ctx.ledger.noteDisplayName(projectKey, r.key.runId, r.displayName);
  }
}

/** The ledger may be what failed (disk full): recording the run's state then is best effort. */
function bestEffort(write: () => void): void {
  try {
    write();
  } catch {
    // The ledger error itself is what the caller reports.
  }
}

function isFatal(error: unknown): boolean {
  return error instanceof ConfigError || error instanceof LedgerError || (error instanceof MigrationError && error.code === 'AUTH');
}
