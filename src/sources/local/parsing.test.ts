/** Value parsing, the YAML subset of config.yaml, and console line assembly. */
import { describe, expect, it } from 'vitest';
import { unwrapConfig } from '../config.ts';
import { parseExtendedJson } from '../extended-json.ts';
import { parseValue, removePath, setPath } from './values.ts';
import { parseConfigYaml } from './config-yaml.ts';
import { utf8Text } from '../console-bytes.ts';

describe('parseExtendedJson', () => {
  it('accepts NaN and ±Infinity outside strings only', () => {
    const v = parseExtendedJson('{"a": NaN, "b": [Infinity, -Infinity], "s": "NaN Infinity \\" NaN"}') as Record<string, unknown>;
    expect(Number.isNaN(v['a'])).toBe(true);
    expect(v['b']).toEqual([Infinity, -Infinity]);
    expect(v['s']).toBe('NaN Infinity " NaN');
    expect(parseValue('not json')).toEqual({ ok: false, value: 'not json' });
    expect(parseValue('')).toEqual({ ok: true, value: null });
  });

  it('sets and removes nested paths', () => {
    const o: Record<string, unknown> = { a: 1 };
    setPath(o, ['a', 'b'], 2); // a non-object level is replaced
    setPath(o, ['x/y'], 3);
    expect(o).toEqual({ a: { b: 2 }, 'x/y': 3 });
    removePath(o, ['a', 'b']);
    removePath(o, ['nope', 'deeper']);
    expect(o).toEqual({ a: {}, 'x/y': 3 });
  });
});

describe('parseConfigYaml', () => {
  it('reads PyYAML config.yaml: desc/value wrapping, same-indent sequences, quoted keys, floats', () => {
    const y = [
      'wandb_version: 1', '', '_wandb:', '  desc: null', '  value:', '    cli_version: 0.15.8', '    t:', '      1:', '      - 1', '      - 41',
      '      "4": 3.7.12', 'gpu_ids:', '  desc: null', '  value:', '  - 0', '  - 1', 'lr:', '  desc: null', '  value: 1.0e-06',
      'name:', '  value: \'it\'\'s\'', 'flag:', '  value: true', 'items:', '  value:', '  - a: 1', '    b: x y', '  - [1, 2]', 'empty:', '  value: {}',
    ].join('\n');
    const c = unwrapConfig(parseConfigYaml(y).value as Record<string, unknown>);
    expect(c).toEqual({
      _wandb: { cli_version: '0.15.8', t: { 1: [1, 41], 4: '3.7.12' } },
      gpu_ids: [0, 1], lr: 1e-6, name: "it's", flag: true, items: [{ a: 1, b: 'x y' }, [1, 2]], empty: {},
    });
  });

  it('resolves anchors, aliases and merge keys; keeps big integers exact', () => {
    const y = ['base:', '  value: &B', '    lr: 0.5', '    layers: [1, 2]', 'copy:', '  value: *B', 'merged:', '  value:', '    <<: *B', '    lr: 0.25',
      'big:', '  value: 9007199254740993', 'small:', '  value: 42', 'huge:', '  value: 1e308'].join('\n');
    expect(unwrapConfig(parseConfigYaml(y).value as Record<string, unknown>)).toEqual({
      base: { lr: 0.5, layers: [1, 2] }, copy: { lr: 0.5, layers: [1, 2] }, merged: { lr: 0.25, layers: [1, 2] },
      big: 9007199254740993n, small: 42, huge: 1e308,
    });
  });

  it('reads Python-only tags as plain YAML, with a warning instead of terminal output', () => {
    const r = parseConfigYaml('t:\n  value: !!python/tuple [1, 2]\n');
    expect(r.value).toEqual({ t: { value: [1, 2] } });
    expect(r.warnings).toEqual([expect.stringContaining('python/tuple')]);
  });

  it('throws on text that is not YAML', () => {
    expect(() => parseConfigYaml('lr:\n  value: [0.1,\n  desc: "open\n')).toThrow(/line/);
  });

  it('joins wrapped long scalars and reads block scalars', () => {
    const y = ['path:', '  value: /a/very/long', '    /continued', 'q:', '  value: "two', '    words"', 'text: |', '  line1', '  line2', 'n: .nan', 'i: -.inf'].join('\n');
    const v = parseConfigYaml(y).value as Record<string, Record<string, unknown>>;
    expect(v['path']['value']).toBe('/a/very/long /continued');
    expect(v['q']['value']).toBe('two words');
    expect(v['text']).toBe('line1\nline2\n');
    expect(Number.isNaN(v['n'])).toBe(true);
    expect(v['i']).toBe(-Infinity);
  });
});

describe('utf8Text (output.log as text)', () => {
  async function read(chunks: number[][]): Promise<{ text: string; notUtf8: boolean }> {
    const seen = { notUtf8: false };
    async function* gen() {
      for (const c of chunks) yield Buffer.from(c);
    }
    let text = '';
    for await (const t of utf8Text(gen(), seen)) text += t;
    return { text, notUtf8: seen.notUtf8 };
  }
  const clef = [...Buffer.from('𝄞')]; // 4 bytes
  const check = [...Buffer.from('✓')]; // 3 bytes

  it('a character cut by every possible chunk end is whole, and the text valid', async () => {
    const bytes = [...clef, ...check, 0x61, ...clef];
    for (let a = 1; a < bytes.length; a++) {
      for (let b = a + 1; b < bytes.length; b++) {
        expect(await read([bytes.slice(0, a), bytes.slice(a, b), bytes.slice(b)])).toEqual({ text: '𝄞✓a𝄞', notUtf8: false });
      }
    }
  });

  it('a byte that is not UTF-8 is U+FFFD, and said; so is a file ending inside a character; U+FFFD itself is valid', async () => {
    expect(await read([[0x63, 0x61, 0x66, 0xe9], [0x0a]])).toEqual({ text: 'caf\uFFFD\n', notUtf8: true });
    expect(await read([[0x61, ...check.slice(0, 2)]])).toEqual({ text: 'a\uFFFD', notUtf8: true });
    expect(await read([[0x61, 0xef], [0xbf, 0xbd]])).toEqual({ text: 'a\uFFFD', notUtf8: false });
  });
});
