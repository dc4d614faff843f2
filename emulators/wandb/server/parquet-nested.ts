/**
 * Nested parquet columns for the export. W&B's own reader of its exports handles Struct, List, Map,
 * Binary and LargeUtf8 columns (wandb/wandb `parquet-rust-wrapper/src/serialize.rs` `write_value`, the
 * Arrow reader behind wandb-core's `core/internal/runhistoryreader`), so real exports hold media dicts,
 * lists and nested values as nested parquet types, not as JSON text.
 *
 * A column's shape is inferred from every exported value of its key:
 * - dicts → a Struct (union of their fields), or a Map<string, V> when they use more distinct keys than
 *   a struct should have (per-row keys: class names, ids);
 * - lists → a List of the merged element shape;
 * - numbers → DOUBLE (history numbers are JSON numbers: float64), booleans, strings → UTF8.
 * What a nested parquet column cannot give back exactly stays extended-JSON text (UTF8), as the
 * export did before: a key whose type changes between rows; a dict holding an explicit `null` (a Struct
 * or Map null reads back as "absent"); an empty dict with nothing else (a Struct needs a field); an
 * integer beyond 2^53 (not a float64).
 * Not written, and why: Binary, because JSON history values hold no bytes (nothing to write);
 * LargeUtf8, because in parquet it is the same BYTE_ARRAY/UTF8 column as Utf8 — "large" is an Arrow
 * reading chosen through the `ARROW:schema` key-value metadata, which hyparquet-writer has no Arrow
 * IPC encoder to write.
 */
import type { SchemaElement } from 'hyparquet-writer';

export type Shape =
  | { t: 'double' }
  | { t: 'bool' }
  | { t: 'string' }
  | { t: 'struct'; fields: Map<string, Shape | undefined> }
  | { t: 'map'; value: Shape | undefined }
  | { t: 'list'; element: Shape | undefined }
  | { t: 'text' };

/** Dicts with more distinct keys than this become a Map, not a Struct. */
export const MAX_STRUCT_FIELDS = 64;

const TEXT: Shape = { t: 'text' };

/** Merges one value into a shape (undefined = nothing but nulls seen yet). Pure: returns a new or the same shape. */
export function mergeShape(shape: Shape | undefined, v: unknown, inDict = false): Shape | undefined {
  if (shape?.t === 'text') return TEXT;
  if (v === null || v === undefined) return inDict ? TEXT : shape;
  let own: Shape;
  if (typeof v === 'number') own = Number.isInteger(v) && !Number.isSafeInteger(v) ? TEXT : { t: 'double' };
  else if (typeof v === 'boolean') own = { t: 'bool' };
  else if (typeof v === 'string') own = { t: 'string' };
  else if (Array.isArray(v)) {
    let element: Shape | undefined = shape?.t === 'list' ? shape.element : undefined;
    for (const x of v) element = mergeShape(element, x);
    own = { t: 'list', element };
  } else if (typeof v === 'object') {
    return mergeDict(shape, v as Record<string, unknown>);
  } else own = TEXT;
  if (own.t === 'text') return TEXT;
  if (!shape) return own;
  return shape.t === own.t ? (own.t === 'list' ? own : shape) : TEXT;
}

function mergeDict(shape: Shape | undefined, v: Record<string, unknown>): Shape {
  if (shape && shape.t !== 'struct' && shape.t !== 'map') return TEXT;
  if (shape?.t === 'map' || (shape?.t !== 'struct' && Object.keys(v).length > MAX_STRUCT_FIELDS)) {
    let value = shape?.t === 'map' ? shape.value : undefined;
    for (const x of Object.values(v)) {
      if (x === null || x === undefined) return TEXT;
      value = mergeShape(value, x);
    }
    return value?.t === 'text' ? TEXT : { t: 'map', value };
  }
  const fields = new Map(shape?.t === 'struct' ? shape.fields : []);
  for (const [k, x] of Object.entries(v)) {
    const merged = mergeShape(fields.get(k), x, true);
    if (merged?.t === 'text') return TEXT;
    fields.set(k, merged);
  }
  if (fields.size > MAX_STRUCT_FIELDS) {
    // too many distinct keys across rows: a Map, if one value shape fits them all
    let value: Shape | undefined;
    for (const f of fields.values()) if (f) value = mergeShape(value, sample(f));
    return { t: 'map', value };
  }
  return { t: 'struct', fields };
}

/** A value of a shape, to merge shapes through mergeShape (only the shape matters). */
function sample(s: Shape): unknown {
  switch (s.t) {
    case 'double': return 0;
    case 'bool': return false;
    case 'string': return '';
    case 'list': return s.element ? [sample(s.element)] : [];
    case 'struct': return Object.fromEntries([...s.fields].filter(([, f]) => f).map(([k, f]) => [k, sample(f!)]));
    case 'map': return s.value ? { k: sample(s.value) } : {};
    default: return undefined;
  }
}

/** Whether the shape can be written as nested parquet (else the column stays JSON text). */
export function writable(s: Shape | undefined): boolean {
  if (!s) return true;
  switch (s.t) {
    case 'text': return false;
    case 'struct': return s.fields.size > 0 && [...s.fields.values()].every(writable);
    case 'list': return writable(s.element);
    case 'map': return writable(s.value);
    default: return true;
  }
}

/**
 * Schema elements (depth-first, as parquet lists them) for an OPTIONAL column of this shape. Lists and
 * maps use the standard 3-level layouts (parquet-format LogicalTypes.md, "Lists" and "Maps").
 */
export function shapeSchema(name: string, s: Shape | undefined): SchemaElement[] {
  if (!s) return [{ name, type: 'DOUBLE', repetition_type: 'OPTIONAL' }];
  switch (s.t) {
    case 'double': return [{ name, type: 'DOUBLE', repetition_type: 'OPTIONAL' }];
    case 'bool': return [{ name, type: 'BOOLEAN', repetition_type: 'OPTIONAL' }];
    case 'string':
    case 'text': return [{ name, type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' }];
    case 'list':
      return [
        { name, repetition_type: 'OPTIONAL', converted_type: 'LIST', num_children: 1 },
        { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
        ...shapeSchema('element', s.element),
      ];
    case 'map':
      return [
        { name, repetition_type: 'OPTIONAL', converted_type: 'MAP', num_children: 1 },
        { name: 'key_value', repetition_type: 'REPEATED', num_children: 2 },
        { name: 'key', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'REQUIRED' },
        ...shapeSchema('value', s.value),
      ];
    case 'struct':
      return [
        { name, repetition_type: 'OPTIONAL', num_children: s.fields.size },
        ...[...s.fields].flatMap(([k, f]) => shapeSchema(k, f)),
      ];
  }
}
