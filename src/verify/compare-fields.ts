import type { RunInfo } from '../core/records.ts';
import type { AtomValue } from '../core/target.ts';
import type { HeldField } from '../sinks/neptune/read-back.ts';
import { expectedFields, type OnOmission } from './expected.ts';
import type { Difference, RunVerification } from './types.ts';
import type { VerifyRunContext } from './verify-run.ts';

/** Roots of the fields the migration writes from the W&B run (a field there W&B lacks is a difference). */
const MAPPED_ROOTS = ['config/', 'summary/', 'wandb/'];

/** JSON text of a value; an int64 (a `bigint` on Protocol B, either side) as its digits (JSON has no bigint). */
function valueText(v: unknown): string {
  return typeof v === 'bigint' ? v.toString() : JSON.stringify(v);
}

export function heldText(f: HeldField): string {
  return `${f.type} ${valueText(f.value)}`;
}

/** Field types that hold series or files: compared by compare-series, compare-files and compare-media. */
const NOT_ATOMS: ReadonlySet<string> = new Set(['floatSeries', 'stringSeries', 'fileSet', 'imageSeries', 'fileRef', 'fileRefSeries', 'histogramSeries']);

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

/** Every mapped config/summary/sys/wandb field: present, same type, same value; and no field W&B lacks. */
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
    if (wanted.has(path) || path.startsWith('wandb/migration/') || !MAPPED_ROOTS.some((r) => path.startsWith(r))) continue;
    if (NOT_ATOMS.has(h.type)) continue;
    diffs.push({ scope: 'field', subject: path, detail: `in Neptune (${heldText(h)}) but not in the W&B run` });
  }
  return diffs;
}
