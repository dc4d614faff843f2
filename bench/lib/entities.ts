/**
 * W&B entities of the scenarios that the generator's presets do not give as such, built from those
 * presets (same shapes of runs): (c) small runs spread over several projects, (d) several big runs.
 */
import { generateEntity, type GenEntity, type GeneratorSpec } from '../../emulators/wandb/index.ts';

export type EntityRecipe =
  | { kind: 'preset'; spec: GeneratorSpec }
  /** `runs` small runs (preset many-small-runs) spread evenly over `projects` projects. */
  | { kind: 'small-runs-in-projects'; runs: number; projects: number }
  /** `runs` runs of `points` points each (preset big-run), in one project. */
  | { kind: 'big-runs'; runs: number; points: number };

export type Entity = GenEntity;

export function buildEntity(r: EntityRecipe): Entity {
  if (r.kind === 'preset') return generateEntity(r.spec);
  if (r.kind === 'small-runs-in-projects') {
    const base = generateEntity({ seed: 1, preset: 'many-small-runs', runs: 0 });
    const projects = Array.from({ length: r.projects }, (_, k) => {
      const share = Math.floor(r.runs / r.projects) + (k < r.runs % r.projects ? 1 : 0);
      // A seed per project: distinct run ids and values in each.
      const p = generateEntity({ seed: k + 1, preset: 'many-small-runs', runs: share }).projects[0];
      return { ...p, name: `many-runs-${k + 1}` };
    });
    return { ...base, projects };
  }
  const first = generateEntity({ seed: 1, preset: 'big-run', points: r.points });
  const runs = Array.from({ length: r.runs }, (_, k) => generateEntity({ seed: k + 1, preset: 'big-run', points: r.points }).projects[0].runs[0]);
  return { ...first, projects: [{ ...first.projects[0], runs }] };
}
