import { createHash } from 'node:crypto';
import { isAbortError } from '../core/errors.ts';
import { runPath, type RunKey, type SourceProject } from '../core/records.ts';
import type { RunFilter } from '../core/source.ts';
import { planProjectNames } from '../mapping/project-name.ts';
import { forEachConcurrent } from '../pipeline/pool.ts';
import { checkProjectMap, checkRunIds, emptySelectionError, preflightStep, selectProjects } from '../pipeline/selection.ts';
import type { ProjectInfo } from '../sinks/neptune/projects.ts';
import type { RunVerification, VerifyStatus } from './types.ts';
import type { VerifyTarget } from './reader.ts';
import { verifyRun, type LocatedRun, type VerifyRunContext } from './verify-run.ts';
import { capabilitiesOf } from '../mapping/options.ts';
import { neptuneCustomRunId } from '../mapping/run-id.ts';

export interface VerifySelection {
  workspace: string;
  projects: readonly string[] | 'all';
  projectMap: ReadonlyMap<string, string>;
  filter: RunFilter;
  concurrency: number;
  /** `--sample`: verify about this fraction of the selected runs (0 < f ≤ 1). */
  sample?: number;
  /** The source in words, for messages; default `W&B entity "<entity>"`. */
  sourceLabel?: string;
}

export type VerifyEvent =
  | { type: 'verify.started'; sample?: number; ledger?: string }
  | { type: 'verify.run'; run: RunKey; status: VerifyStatus; differences: number; mismatches: number }
  | { type: 'verify.skipped'; run: RunKey; reason: 'not in the sample' }
  | { type: 'verify.done'; runs: number; selected: number };

/** What verifying one run needs (its reader comes from `target`), and where the events of the whole pass go. */
export interface VerifyContext extends Omit<VerifyRunContext, 'reader'> {
  /** The Neptune server, read through the protocol the migration used. */
  target: Pick<VerifyTarget, 'project' | 'readerFor'> & Partial<Pick<VerifyTarget, 'preflight'>>;
  emit: (e: VerifyEvent) => void;
}

/**
 * Whether a run is in a `--sample` of `fraction`: by a hash of its path, so the same sample comes
 * back on every pass (and a run's neighbours do not matter).
 */
export function inSample(key: RunKey, fraction: number): boolean {
  if (fraction >= 1) return true;
  const h = createHash('sha256').update(runPath(key)).digest().readUInt32BE(0);
  return h / 2 ** 32 < fraction;
}

/**
 * Selects runs as `migrate` does (projects checked against the source, a selection matching nothing
 * is a usage error), then verifies them `concurrency` at a time. Returns one verification per run
 * verified, and how many runs the selection held.
 */
export async function verify(sel: VerifySelection, ctx: VerifyContext): Promise<{ runs: RunVerification[]; selected: number }> {
  const where = sel.sourceLabel ?? `W&B entity "${await ctx.source.entity(ctx.signal)}"`;
  const all: SourceProject[] = [];
  for await (const p of ctx.source.listProjects(ctx.signal)) all.push(p);
  const wanted = selectProjects(all, sel.projects, where);
  checkProjectMap(all, sel.projectMap, where);
  await checkRunIds(ctx.source, wanted, sel.filter, where, ctx.signal);
  await preflightStep('Neptune', async () => ctx.target.preflight?.(sel.workspace, ctx.signal));
  const names = planProjectNames(wanted.map((p) => p.name), sel.projectMap);
  const projects = new Map<string, Promise<ProjectInfo | undefined>>();
  const projectInfo = (qualified: string) => {
    let p = projects.get(qualified);
    if (!p) {
      const slash = qualified.indexOf('/');
      projects.set(qualified, (p = ctx.target.project(qualified.slice(0, slash), qualified.slice(slash + 1), ctx.signal)));
    }
    return p;
  };
  // Runs other runs point at (the holder of a shared artifact version), read once however many point at them.
  const located = new Map<string, Promise<LocatedRun | undefined>>();
  const locate = (run: RunKey, targetProject: string, shortId: string | undefined): Promise<LocatedRun | undefined> => {
    let p = located.get(runPath(run));
    if (!p) {
      p = (async () => {
        const info = await projectInfo(targetProject);
        if (!info) return undefined;
        const { reader, capabilities } = await ctx.target.readerFor(info, ctx.signal);
        const containerId = await reader.findRun(info, { shortId, customRunId: neptuneCustomRunId(run.runId, capabilitiesOf({ ...ctx.mapping, capabilities })) }, ctx.signal);
        return containerId ? { reader, containerId, held: await reader.fields(containerId, ctx.signal) } : undefined;
      })();
      located.set(runPath(run), p);
    }
    return p;
  };
  ctx.emit({ type: 'verify.started', sample: sel.sample, ledger: ctx.ledger?.path });
  const runs: RunVerification[] = [];
  let selected = 0;
  for (const project of wanted) {
    await forEachConcurrent(
      ctx.source.listRuns(project.name, sel.filter, ctx.signal),
      sel.concurrency,
      async (run) => {
        selected++;
        if (sel.sample !== undefined && !inSample(run.key, sel.sample)) {
          ctx.emit({ type: 'verify.skipped', run: run.key, reason: 'not in the sample' });
          return;
        }
        // Where the migration put the run (the ledger knows), else where it would put it now.
        const target = ctx.ledger?.getRun(run.key)?.targetProject ?? `${sel.workspace}/${names.get(project.name)!}`;
        let v: RunVerification;
        try {
          const info = await projectInfo(target);
          const { reader, capabilities } = await ctx.target.readerFor(info, ctx.signal);
          v = await verifyRun(run, info, target, { ...ctx, reader, locate, mapping: { ...ctx.mapping, capabilities } });
        } catch (error) {
          if (isAbortError(error) || ctx.signal?.aborted) throw error;
          const message = error instanceof Error ? error.message : String(error);
          v = {
            run: run.key, name: run.displayName, targetProject: target, status: 'mismatch', error: message,
            differences: [{ scope: 'run', subject: runPath(run.key), detail: `could not be verified: ${message}` }],
            checked: { fields: 0, series: 0, points: 0, consoleEntries: 0, files: 0, md5: 0 }, omitted: 0,
          };
        } finally {
          await ctx.source.releaseRun?.(run);
        }
        runs.push(v);
        const mismatches = v.differences.filter((d) => !d.explainedBy).length;
        ctx.emit({ type: 'verify.run', run: run.key, status: v.status, differences: v.differences.length, mismatches });
      },
      ctx.signal,
    );
  }
  if (selected === 0) throw await emptySelectionError(ctx.source, wanted, sel.filter, where, ctx.signal);
  ctx.emit({ type: 'verify.done', runs: runs.length, selected });
  return { runs, selected };
}
