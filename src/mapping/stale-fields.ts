import type { FieldAssignment } from '../core/target.ts';

/**
 * Fields a Neptune run holds from an earlier pass that the W&B run no longer has: W&B lets a user
 * remove tags, clear a group, delete config and summary keys or change a value's type after the run
 * (the UI, `run.update()`). A pass over a changed run brings the Neptune run up to date, so what is
 * gone from W&B goes from Neptune too — the same rule `verify` checks (compare-fields.ts).
 */

/** Roots of the atoms the mapping writes from the W&B run (run-fields.ts); `wandb/migration/` is the tool's own. */
const MAPPED_ROOTS: readonly string[] = ['config/', 'summary/', 'wandb/'];
const OWN = 'wandb/migration/';
/** String sets the mapping fills from the W&B run: tags and the group (run-fields.ts). */
export const MAPPED_SETS: readonly string[] = ['sys/tags', 'sys/group_tags'];
/** Neptune's single-value types (A's AttributeTypeDTO names, B's read API the same); series and files are not. */
const ATOMS: ReadonlySet<string> = new Set(['string', 'int', 'float', 'bool', 'datetime', 'stringSet']);

/** Whether a field the target holds is an atom the mapping writes from the W&B run. */
export function isMappedAtom(path: string, type: string): boolean {
  return ATOMS.has(type) && !path.startsWith(OWN) && MAPPED_ROOTS.some((r) => path.startsWith(r));
}

export interface StaleFields {
  /** Atoms W&B no longer has. */
  fields: string[];
  /** Atoms about to be written with another type: a field keeps its type, so it is deleted first where the target can. */
  retyped: string[];
  /** Values to take out of a string set: tags W&B no longer has, the old group. */
  fromSets: Array<{ path: string; values: string[] }>;
}

/**
 * What to take away from the target before `mapped` is written, given what it holds: `types` (path →
 * type name) and `sets` (string-set path → values). Pure; empty for a run the target does not hold yet.
 */
export function staleFields(
  held: { types?: ReadonlyMap<string, string>; sets?: ReadonlyMap<string, readonly string[]> },
  mapped: readonly FieldAssignment[],
): StaleFields {
  const wanted = new Map(mapped.map((f) => [f.path, f.value]));
  const fields: string[] = [];
  const retyped: string[] = [];
  for (const [path, type] of held.types ?? []) {
    if (!isMappedAtom(path, type)) continue;
    const now = wanted.get(path);
    if (!now) fields.push(path);
    else if (now.type !== type) retyped.push(path);
  }
  const fromSets: StaleFields['fromSets'] = [];
  for (const path of MAPPED_SETS) {
    const had = held.sets?.get(path) ?? [];
    const now = wanted.get(path);
    const keep = new Set(now?.type === 'stringSet' ? now.values : []);
    const values = had.filter((v) => !keep.has(v));
    if (values.length > 0) fromSets.push({ path, values });
  }
  return { fields: fields.sort(), retyped: retyped.sort(), fromSets };
}

/** Whether there is anything to take away. */
export function anyStale(s: StaleFields): boolean {
  return s.fields.length > 0 || s.retyped.length > 0 || s.fromSets.length > 0;
}
