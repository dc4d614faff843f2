import { describe, expect, it } from 'vitest';
import { ExtendedJsonError, numberFromJsonField, parseExtendedJson, parseExtendedJsonObject } from './extended-json.ts';

describe('parseExtendedJson', () => {
  it('parses standard JSON exactly as JSON.parse does', () => {
    const text = '{"a": [1, 2.5e3, -0.25, true, false, null], "b": {"c": "x\\"y\\u00e9\\n"}, "é": "ünï"}';
    expect(parseExtendedJson(text)).toEqual(JSON.parse(text));
  });

  it('accepts bare NaN, Infinity and -Infinity anywhere a number may be', () => {
    const v = parseExtendedJsonObject('{"_step": 3, "a": NaN, "b": Infinity, "c": -Infinity, "d": [NaN, 1, -Infinity], "e": {"f": Infinity}}');
    expect(v._step).toBe(3);
    expect(Number.isNaN(v.a)).toBe(true);
    expect(v.b).toBe(Infinity);
    expect(v.c).toBe(-Infinity);
    expect((v.d as number[])[0]).toBeNaN();
    expect((v.d as number[])[2]).toBe(-Infinity);
    expect((v.e as { f: number }).f).toBe(Infinity);
  });

  it('keeps the tokens inside strings as text', () => {
    const v = parseExtendedJsonObject('{"s": "NaN and Infinity", "n": NaN, "esc": "a\\\\\\"NaN"}');
    expect(v.s).toBe('NaN and Infinity');
    expect(v.esc).toBe('a\\"NaN');
    expect(v.n).toBeNaN();
  });

  it('keeps a __proto__ key as data', () => {
    const v = parseExtendedJsonObject('{"__proto__": {"x": 1}, "n": NaN}');
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
    expect(Object.keys(v)).toEqual(['__proto__', 'n']);
  });

  it('keeps every digit of integers beyond 2^53 as bigint; safe integers and floats stay numbers', () => {
    const v = parseExtendedJsonObject('{"a": 9007199254740993, "b": -123456789012345678901, "c": 9007199254740991, "d": 1e308, "e": 1.7420297498444626e+09, "s": "12345678901234567890", "n": NaN}');
    expect(v.a).toBe(9007199254740993n);
    expect(v.b).toBe(-123456789012345678901n);
    expect(v.c).toBe(9007199254740991);
    expect(v.d).toBe(1e308);
    expect(v.e).toBe(1742029749.8444626);
    expect(v.s).toBe('12345678901234567890');
    expect(parseExtendedJson('[12345678901234567890]')).toEqual([12345678901234567890n]);
  });
  it('rejects broken text with a position', () => {
    for (const bad of ['{"a": NaN', '{"a": Nan}', '{"a": 1,}', '[Infinity', '{"a": -Inf}', '{"a": NaN} x', '']) {
      expect(() => parseExtendedJson(bad), bad).toThrow(ExtendedJsonError);
    }
  });

  it('requires an object where an object is expected', () => {
    expect(() => parseExtendedJsonObject('[NaN]')).toThrow(/object/);
  });
});

describe('numberFromJsonField', () => {
  it('reads numbers and the non-finite strings of JSON-typed fields', () => {
    expect(numberFromJsonField(1234.0)).toBe(1234);
    expect(numberFromJsonField('NaN')).toBeNaN();
    expect(numberFromJsonField('Infinity')).toBe(Infinity);
    expect(numberFromJsonField('-Infinity')).toBe(-Infinity);
    expect(numberFromJsonField('12')).toBe(12);
    expect(numberFromJsonField(null)).toBeUndefined();
    expect(numberFromJsonField('abc')).toBeUndefined();
  });
});
