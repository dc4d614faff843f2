/**
 * Nested export columns (Struct, List, Map), as real W&B exports hold media dicts, lists and nested
 * values, decode to the values the paged scan gives: a struct field or map entry a row lacks (null) is
 * absent, INT64 inside a struct is a number, list elements keep their order.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parquetWriteFile } from 'hyparquet-writer';
import { describe, expect, it } from 'vitest';
import { parquetFileRows, textColumnRule } from './parquet-rows.ts';

describe('nested parquet export columns', () => {
  it('decodes Struct, List of Struct and Map columns to plain history values', async () => {
    const filename = join(mkdtempSync(join(tmpdir(), 'w2n-pqn-')), 'nested.parquet');
    parquetWriteFile({
      filename,
      columnData: [
        { name: '_step', data: [0n, 1n, 2n] as never },
        { name: 'media', data: [{ _type: 'image-file', path: 'a.png', size: 3n }, null, { _type: 'image-file', path: 'b.png', size: 4n, caption: 'x' }] as never },
        { name: 'boxes', data: [[{ x: 1, label: 'cat' }, { x: 2 }], [], null] as never },
        { name: 'per_class', data: [{ cat: 0.5, dog: 0.25 }, { bird: 1 }, null] as never },
      ],
      schema: [
        { name: 'root', num_children: 4 },
        { name: '_step', type: 'INT64', repetition_type: 'REQUIRED' },
        { name: 'media', repetition_type: 'OPTIONAL', num_children: 4 },
        { name: '_type', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
        { name: 'path', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
        { name: 'size', type: 'INT64', repetition_type: 'OPTIONAL' },
        { name: 'caption', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
        { name: 'boxes', repetition_type: 'OPTIONAL', converted_type: 'LIST', num_children: 1 },
        { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
        { name: 'element', repetition_type: 'OPTIONAL', num_children: 2 },
        { name: 'x', type: 'DOUBLE', repetition_type: 'OPTIONAL' },
        { name: 'label', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
        { name: 'per_class', repetition_type: 'OPTIONAL', converted_type: 'MAP', num_children: 1 },
        { name: 'key_value', repetition_type: 'REPEATED', num_children: 2 },
        { name: 'key', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'REQUIRED' },
        { name: 'value', type: 'DOUBLE', repetition_type: 'OPTIONAL' },
      ],
    });
    const rows = [];
    for await (const r of parquetFileRows(filename, { fromStep: 0, where: 'history of e/p/r', textRule: textColumnRule(undefined) })) rows.push(r);
    expect(rows).toEqual([
      { _step: 0, media: { _type: 'image-file', path: 'a.png', size: 3 }, boxes: [{ x: 1, label: 'cat' }, { x: 2 }], per_class: { cat: 0.5, dog: 0.25 } },
      { _step: 1, boxes: [], per_class: { bird: 1 } },
      { _step: 2, media: { _type: 'image-file', path: 'b.png', size: 4, caption: 'x' } },
    ]);
  });

  it('reads a Binary (unannotated BYTE_ARRAY) cell of UTF-8 text as that text', async () => {
    const filename = join(mkdtempSync(join(tmpdir(), 'w2n-pqb-')), 'binary.parquet');
    parquetWriteFile({
      filename,
      columnData: [{ name: '_step', data: [0n] as never }, { name: 'note', data: [new TextEncoder().encode('héllo')] as never }],
      schema: [
        { name: 'root', num_children: 2 },
        { name: '_step', type: 'INT64', repetition_type: 'REQUIRED' },
        { name: 'note', type: 'BYTE_ARRAY', repetition_type: 'OPTIONAL' },
      ],
    });
    const rows = [];
    for await (const r of parquetFileRows(filename, { fromStep: 0, where: 'history of e/p/r', textRule: textColumnRule({ keys: { note: { typeCounts: [{ type: 'string', count: 1 }] } } }) })) rows.push(r);
    expect(rows).toEqual([{ _step: 0, note: 'héllo' }]);
  });
});
