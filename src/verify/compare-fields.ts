import type { RunInfo } from '../core/records.ts';
import type { AtomValue } from '../core/target.ts';
import type { HeldField } from '../sinks/neptune/read-back.ts';
import { isMappedAtom, MAPPED_SETS } from '../mapping/stale-fields.ts';
import { expectedFields, type OnOmission } from './expected.ts';
import type { Difference, RunVerification } from './types.ts';
import type { VerifyRunContext } from './verify-run.ts';


/** JSON text of a value; an int64 (a `bigint` on Protocol B, either side) as its digits (JSON has no bigint). */
function valueText(v: unknown): string {
  return typeof v === 'bigint' ? v.toString() : JSON.stringify(v);
}

export function heldText(f: HeldField): string {
  return `${f.type} ${valueText(f.value)}`;
}

export function expectedText(v: AtomValue): string {
  return v.type === 'stringSet' ? `stringSet ${JSON.stringify([...v.values].sort())}` : `${v.type} ${valueText(v.value)}`;
}

/** Whether Neptune holds the value the mapping gives (type and value; a string set as a set). */
export function sameAtom(expected: AtomValue, held: HeldField): boolean {
  if (held.type !== expected.type) return false;
  if (expected.type === 'stringSet') {
    const want = [...new Set(expected.values)].sort();
    const got = Array.isArray(held.value) ? (held.value as string[]) : [];
    return want.length === got.length && want.every((v, i) => v === got[i]);
  }
  // Protocol B keeps int64 exactly (a bigint here): an int is the same int when its digits are.
  if (expected.type === 'int' && typeof held.value === 'bigint') return held.value.toString() === String(expected.value);
  return held.value === expected.value;
}

/**
 * Every mapped config/summary/sys/wandb field: present, same type, same value; and no field W&B lacks
 * (mapping/stale-fields.ts: what a migration pass takes away, a field or a tag W&B no longer has).
 */
export async function compareFields(
  run: RunInfo,
  held: ReadonlyMap<string, HeldField>,
  ctx: VerifyRunContext,
  onOmission: OnOmission,
  result: RunVerification,
): Promise<Difference[]> {
  const { fields, omissions } = await expectedFields(run, ctx.source, ctx.mapping, ctx.signal);
  for (const o of omissions) onOmission('fields', o);
  const diffs: Difference[] = [];
  const wanted = new Set<string>();
  for (const f of fields) {
    wanted.add(f.path);
    result.checked.fields++;
    const h = held.get(f.path);
    if (!h) diffs.push({ scope: 'field', subject: f.path, detail: `missing in Neptune (W&B: ${expectedText(f.value)})` });
    else if (!sameAtom(f.value, h)) diffs.push({ scope: 'field', subject: f.path, detail: `W&B: ${expectedText(f.value)}, Neptune: ${heldText(h)}` });
  }
  for (const [path, h] of held) {
    if (wanted.has(path)) continue;
    if (isMappedAtom(path, h.type)) diffs.push({ scope: 'field', subject: path, detail: `in Neptune (${heldText(h)}) but not in the W&B run` });
    else if (MAPPED_SETS.includes(path) && Array.isArray(h.value) && h.value.length > 0) {
      diffs.push({ scope: 'field', subject: path, detail: `in Neptune (${heldText(h)}) but the W&B run has none` });
    }
  }
  return diffs;
}
