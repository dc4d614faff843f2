/** Shape inference for nested export columns: what is written nested, and what stays JSON text (and why). */
import { describe, expect, it } from 'vitest';
import { MAX_STRUCT_FIELDS, mergeShape, shapeSchema, writable, type Shape } from './server/parquet-nested.ts';

const shapeOf = (...values: unknown[]): Shape | undefined => values.reduce<Shape | undefined>((s, v) => mergeShape(s, v), undefined);

describe('nested export shapes', () => {
  it('dicts are Structs (union of fields), lists are Lists, numbers DOUBLE', () => {
    const s = shapeOf({ _type: 'histogram', values: [1, 2], bins: [0, 0.5, 1] }, { _type: 'histogram', values: [3], bins: [0, 1], extra: true });
    expect(writable(s)).toBe(true);
    expect(shapeSchema('h', s).map((e) => [e.name, e.type ?? e.converted_type ?? null, e.repetition_type])).toEqual([
      ['h', null, 'OPTIONAL'], ['_type', 'BYTE_ARRAY', 'OPTIONAL'],
      ['values', 'LIST', 'OPTIONAL'], ['list', null, 'REPEATED'], ['element', 'DOUBLE', 'OPTIONAL'],
      ['bins', 'LIST', 'OPTIONAL'], ['list', null, 'REPEATED'], ['element', 'DOUBLE', 'OPTIONAL'],
      ['extra', 'BOOLEAN', 'OPTIONAL'],
    ]);
  });

  it('dicts with more distinct keys than a struct should have are a Map', () => {
    const wide = Object.fromEntries(Array.from({ length: MAX_STRUCT_FIELDS + 1 }, (_, i) => [`class_${i}`, i / 10]));
    const s = shapeOf(wide, { class_0: 1 });
    expect(s).toEqual({ t: 'map', value: { t: 'double' } });
    expect(shapeSchema('per_class', s).map((e) => e.converted_type ?? e.type)).toEqual(['MAP', undefined, 'UTF8', 'DOUBLE']);
  });

  it('stays JSON text where nested parquet could not give the value back exactly', () => {
    expect(writable(shapeOf(1, 'a'))).toBe(false); // type changes between rows
    expect(writable(shapeOf({ a: null }))).toBe(false); // an explicit null reads back as absent
    expect(writable(shapeOf({}))).toBe(false); // a Struct needs a field
    expect(writable(shapeOf([2 ** 60]))).toBe(false); // not a float64
    expect(writable(shapeOf([1, null, 2]))).toBe(true); // list elements may be null
    expect(writable(shapeOf({ a: 1 }, {}))).toBe(true); // an empty dict among others reads back as {}
  });
});
