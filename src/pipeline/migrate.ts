import { runPath } from '../core/records.ts';
import type { RunKey, SourceProject } from '../core/records.ts';
import type { TargetProject } from '../core/sink.ts';
import type { RunFilter } from '../core/source.ts';
import { ConfigError, MigrationError, isAbortError } from '../core/errors.ts';
import { planProjectNames } from '../mapping/project-name.ts';
import { mapProjectFields, projectDescription } from '../mapping/run-fields.ts';
import type { MigrationContext } from './context.ts';
import { migrateRun } from './migrate-run.ts';
import { forEachConcurrent } from './pool.ts';

export interface MigrateSelection {
  /** Neptune workspace the projects go to. */
  workspace: string;
  /** W&B project names, or 'all'. */
  projects: readonly string[] | 'all';
  projectMap: ReadonlyMap<string, string>;
  filter: RunFilter;
  /** Runs migrated at once. */
  concurrency: number;
}

export interface MigrateResult {
  runs: RunKey[];
  migrated: number;
  skipped: number;
  failed: number;
  interrupted: boolean;
}

/**
 * The migration: plan project names (collisions are an error before anything is written), make sure
 * each Neptune project exists, then migrate the runs of every project, `concurrency` at a time. A run
 * that fails is recorded as failed in the ledger and the others go on; an abort (Ctrl-C) stops taking
 * new runs, and runs in flight go back to pending with their acknowledged progress kept.
 */
export async function migrate(sel: MigrateSelection, ctx: MigrationContext): Promise<MigrateResult> {
  const all: SourceProject[] = [];
  for await (const p of ctx.source.listProjects(ctx.signal)) all.push(p);
  const wanted = sel.projects === 'all' ? all : all.filter((p) => sel.projects.includes(p.name));
  if (sel.projects !== 'all') {
    const missing = sel.projects.filter((n) => !all.some((p) => p.name === n));
    for (const m of missing) ctx.log.warn(`W&B project "${m}" was not found in the source`);
  }
  const names = planProjectNames(wanted.map((p) => p.name), sel.projectMap);
  const result: MigrateResult = { runs: [], migrated: 0, skipped: 0, failed: 0, interrupted: false };

  let fatal: unknown;
  for (const project of wanted) {
    if (ctx.signal?.aborted || fatal) break;
    const neptuneName = names.get(project.name)!;
    ctx.emit({ type: 'project.planned', wandbProject: project.name, neptuneProject: `${sel.workspace}/${neptuneName}` });
    // Looked up (or created) only when a run needs it: an unchanged re-run sends nothing to Neptune.
    let target: Promise<TargetProject> | undefined;
    const projectTarget = () =>
      (target ??= ctx.target.ensureProject(
        sel.workspace,
        neptuneName,
        { description: projectDescription(project), fields: mapProjectFields(project) },
        ctx.signal,
      ));
    // Protocol B only: a display name shared by two runs of the W&B project must not become B's
    // experiment name (it moves between runs). Listed once, lazily, over the whole project.
    let displayNames: Promise<Map<string, number>> | undefined;
    const nameUnique = async (name: string) => {
      displayNames ??= countDisplayNames(ctx, project.name);
      return (await displayNames).get(name) === 1;
    };
    await forEachConcurrent(
      ctx.source.listRuns(project.name, sel.filter, ctx.signal),
      sel.concurrency,
      async (run) => {
        result.runs.push(run.key);
        if (fatal) return;
        try {
          const outcome = await migrateRun(run, projectTarget, ctx, nameUnique);
          if (outcome.status === 'skipped') result.skipped++;
          else result.migrated++;
        } catch (error) {
          if (isAbortError(error) || ctx.signal?.aborted) {
            ctx.ledger.interruptRun(run.key);
            result.interrupted = true;
            return;
          }
          const message = error instanceof Error ? error.message : String(error);
          ctx.ledger.failRun(run.key, message, run.displayName);
          // Bad credentials or settings fail every run the same way: stop, and let the caller say so once.
          if (isFatal(error)) fatal ??= error;
          ctx.emit({ type: 'run.failed', run: run.key, error: message });
          ctx.log.error(`${runPath(run.key)}: ${message}`);
          result.failed++;
        }
      },
      ctx.signal,
    );
  }
  if (fatal) throw fatal;
  if (ctx.signal?.aborted) result.interrupted = true;
  ctx.emit({ type: 'migration.done', migrated: result.migrated, skipped: result.skipped, failed: result.failed, interrupted: result.interrupted });
  return result;
}

async function countDisplayNames(ctx: MigrationContext, project: string): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for await (const r of ctx.source.listRuns(project, {}, ctx.signal)) {
    if (r.displayName) counts.set(r.displayName, (counts.get(r.displayName) ?? 0) + 1);
  }
  return counts;
}

function isFatal(error: unknown): boolean {
  return error instanceof ConfigError || (error instanceof MigrationError && error.code === 'AUTH');
}
