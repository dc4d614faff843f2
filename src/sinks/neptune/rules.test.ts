import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS } from './limits.ts';
import { checkAtom, checkPath, FieldRegistry, INT32_MAX, INT32_MIN, StepTracker } from './rules.ts';

const L = DEFAULT_LIMITS;

describe('atom rules', () => {
  it('int32 range and integrality', () => {
    expect(checkAtom({ type: 'int', value: INT32_MAX }, L)).toBeUndefined();
    expect(checkAtom({ type: 'int', value: INT32_MIN }, L)).toBeUndefined();
    expect(checkAtom({ type: 'int', value: INT32_MAX + 1 }, L)?.reason).toBe('int-out-of-range');
    expect(checkAtom({ type: 'int', value: INT32_MIN - 1 }, L)?.reason).toBe('int-out-of-range');
    expect(checkAtom({ type: 'int', value: 1.5 }, L)?.detail).toMatch(/not an integer/);
  });

  it('NaN and infinities cannot travel as JSON', () => {
    for (const v of [NaN, Infinity, -Infinity]) expect(checkAtom({ type: 'float', value: v }, L)?.reason).toBe('non-finite');
    expect(checkAtom({ type: 'float', value: -0.5 }, L)).toBeUndefined();
  });

  it('string and set entry lengths count characters', () => {
    expect(checkAtom({ type: 'string', value: 'x'.repeat(16384) }, L)).toBeUndefined();
    expect(checkAtom({ type: 'string', value: 'x'.repeat(16385) }, L)?.reason).toBe('too-large');
    // 16384 astral characters are 32768 UTF-16 units but still 16384 characters.
    expect(checkAtom({ type: 'string', value: '😀'.repeat(16384) }, L)).toBeUndefined();
    expect(checkAtom({ type: 'stringSet', values: ['ok', 'y'.repeat(16385)] }, L)?.reason).toBe('too-large');
  });
});

describe('path rules', () => {
  it('rejects empty segments, edge slashes, long and read-only paths', () => {
    expect(checkPath('config/lr', L)).toBeUndefined();
    for (const bad of ['', '/a', 'a/', 'a//b', 'a/ /b', 'sys/id', 'sys/custom_run_id', 'a\u0001b']) {
      expect(checkPath(bad, L)?.reason, bad).toBe('invalid-path');
    }
    expect(checkPath('a'.repeat(1024), L)).toBeUndefined();
    expect(checkPath('é'.repeat(513), L)?.detail).toMatch(/1026 bytes/);
    expect(checkPath('sys/name', L)).toBeUndefined();
  });
});

describe('FieldRegistry', () => {
  it('counts existing fields toward the cap and keeps types fixed', () => {
    const r = new FieldRegistry(3);
    r.seed([['sys/id', 'string'], ['a', 'floatSeries']]);
    expect(r.check('a', 'floatSeries')).toBeUndefined();
    expect(r.check('a', 'string')?.detail).toMatch(/floatSeries/);
    expect(r.check('b', 'int')).toBeUndefined();
    r.add('b', 'int');
    expect(r.check('c', 'int')?.reason).toBe('field-limit');
    expect(r.check('b', 'int')).toBeUndefined();
  });
});

describe('StepTracker', () => {
  it('accepts strictly increasing steps and separates server-held points', () => {
    const t = new StepTracker();
    t.seedServer('loss', 10);
    expect(t.classify('loss', 5)).toBe('present');
    expect(t.classify('loss', 10)).toBe('present');
    expect(t.classify('loss', 11)).toBe('ok');
    expect(t.classify('loss', 11)).toBe('not-increasing');
    expect(t.classify('acc', 0)).toBe('ok');
    expect(t.classify('acc', -1)).toBe('not-increasing');
  });
});
