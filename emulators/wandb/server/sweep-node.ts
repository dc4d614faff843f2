/**
 * `Project.sweep(sweepName:)`: what wandb 0.17.9's `Run.load` asks for every run with a `sweepName`
 * (wandb/apis/public/sweeps.py `Sweep.QUERY`, falling back to `LEGACY_QUERY` without
 * `runCountExpected`). Without it, iterating `api.runs(...)` fails on any project with a sweep run.
 * The SDK keeps the sweep's name as its id and filters its runs by `{"sweep": <name>}` (Sweep.__init__,
 * Sweep.get), which filters.ts serves.
 */
import type { GenProject, GenRun } from '../generator/types.ts';

export interface SweepNode {
  id: string; name: string; displayName: string | null; method: string; state: string; description: string | null;
  bestLoss: number | null; config: string; createdAt: string; updatedAt: string | null; runCount: number; runCountExpected: number | null;
}

/**
 * The generator records only a run's sweep name, so the sweep's config is derived from its runs: every
 * top-level config key whose value differs between them is a swept parameter. JSON text is valid YAML,
 * and the SDK reads `config` with `util.load_yaml` (Sweep.config).
 */
function sweepConfig(runs: GenRun[]): string {
  const parameters: Record<string, { values: unknown[] }> = {};
  const keys = new Set(runs.flatMap((r) => Object.keys(r.config).filter((k) => k !== '_wandb')));
  for (const k of [...keys].sort()) {
    const seen = new Map<string, unknown>();
    for (const r of runs) if (k in r.config) seen.set(JSON.stringify(r.config[k]), r.config[k]);
    if (seen.size > 1) parameters[k] = { values: [...seen.values()] };
  }
  return JSON.stringify({ method: 'random', parameters });
}

export function sweepNode(project: GenProject, sweepName: string): SweepNode | null {
  const runs = project.runs.filter((r) => r.sweep === sweepName);
  if (runs.length === 0) return null;
  const created = runs.map((r) => r.createdAt).sort();
  return {
    id: Buffer.from(`Sweep:${project.name}:${sweepName}`).toString('base64'),
    name: sweepName,
    displayName: null,
    method: 'random',
    // the backend's sweep states are upper case (RUNNING, PAUSED, FINISHED, ...; wandb/apis/public/sweeps.py callers)
    state: runs.some((r) => r.state === 'running') ? 'RUNNING' : 'FINISHED',
    description: null,
    bestLoss: null,
    config: sweepConfig(runs),
    createdAt: created[0],
    updatedAt: created[created.length - 1],
    runCount: runs.length,
    runCountExpected: null,
  };
}

/** The project's sweeps, by the creation of their first run (the sweep names its runs carry). */
export function sweepNames(project: GenProject): string[] {
  const first = new Map<string, string>();
  for (const r of project.runs) if (r.sweep && (!first.has(r.sweep) || r.createdAt < first.get(r.sweep)!)) first.set(r.sweep, r.createdAt);
  return [...first].sort((a, b) => (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0)).map(([name]) => name);
}
