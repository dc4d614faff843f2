/**
 * Numeric columns of the W&B export read straight into Float64Arrays, page by page, without
 * hyparquet's row assembly: for a nullable column hyparquet builds a JS array with a boxed number or
 * null per cell (its `assembleLists`), which was the migration's largest garbage source (issue 10
 * "Fast": ~0.5 CPU-s of garbage collection and ~0.3 of assembly for 5M points). Page headers and the
 * RLE/bit-packed decoding are hyparquet's own; what is ours is snappy (./snappy.ts: literals copied at
 * once) and taking the values out of a page.
 *
 * Only the shapes checked against hyparquet's output (parquet-numbers.test.ts) are read here: a flat,
 * top-level DOUBLE/FLOAT/INT64/INT32 column without a converted or logical type, UNCOMPRESSED or SNAPPY,
 * DATA_PAGE_V2 pages (what the W&B emulator's writer, hyparquet-writer, produces) or DATA_PAGE v1 pages
 * (pyarrow's default, so likely a real W&B export's; the emulator writes them on request) with PLAIN or
 * dictionary encoding. Anything else (`undefined`: another encoding or codec, v1 levels BIT_PACKED) is
 * left to hyparquet, so the values are the same whichever path reads them.
 */
import type { AsyncBuffer, ColumnChunk, FileMetaData, SchemaElement } from 'hyparquet';
import { parquetHeader } from 'hyparquet/src/column.js';
import { readRleBitPackedHybrid } from 'hyparquet/src/encoding.js';
import { snappyDecompress } from './snappy.ts';

/** A column's cells of one range: the value of row i, and whether row i has one (no mask: every row has). */
export interface NumericCells {
  values: Float64Array;
  present?: Uint8Array;
}

type NumericType = 'DOUBLE' | 'FLOAT' | 'INT64' | 'INT32';
const WIDTH: Record<NumericType, number> = { DOUBLE: 8, FLOAT: 4, INT64: 8, INT32: 4 };

/** A column this module reads: its chunk's place in the row groups, type and nullability. */
export interface NumericColumn {
  name: string;
  /** Index of the column chunk in each row group. */
  index: number;
  type: NumericType;
  optional: boolean;
}

/** The top-level columns this module can read, by name (read from the schema and the first row group). */
export function numericColumns(metadata: FileMetaData): Map<string, NumericColumn> {
  const out = new Map<string, NumericColumn>();
  const schema = metadata.schema;
  const leaves = new Map<string, SchemaElement>();
  // Top-level children of the root: a leaf has no num_children; a group's descendants are skipped.
  for (let i = 1, left = schema[0]?.num_children ?? 0; i < schema.length && left > 0; left--) {
    const e = schema[i];
    if (!e.num_children) leaves.set(e.name, e);
    i = skipSubtree(schema, i);
  }
  metadata.row_groups[0]?.columns.forEach((c, index) => {
    const path = c.meta_data?.path_in_schema;
    if (!path || path.length !== 1) return;
    const e = leaves.get(path[0]);
    if (!e || !isNumericType(e.type) || e.converted_type !== undefined || e.logical_type !== undefined) return;
    if (e.repetition_type !== 'OPTIONAL' && e.repetition_type !== 'REQUIRED') return;
    out.set(e.name, { name: e.name, index, type: e.type, optional: e.repetition_type === 'OPTIONAL' });
  });
  return out;
}

function skipSubtree(schema: SchemaElement[], i: number): number {
  let pending = 1;
  while (pending > 0 && i < schema.length) {
    pending += (schema[i].num_children ?? 0) - 1;
    i++;
  }
  return i;
}

function isNumericType(t: SchemaElement['type']): t is NumericType {
  return t === 'DOUBLE' || t === 'FLOAT' || t === 'INT64' || t === 'INT32';
}

/** Reused between pages: decompressed bytes, definition levels, dictionary indices. */
let scratch = new Uint8Array(1 << 16);
let levels = new Uint8Array(1 << 12);
let indices = new Int32Array(1 << 12);

function room(n: number): Uint8Array {
  if (scratch.length < n) scratch = new Uint8Array(Math.max(n, scratch.length * 2));
  return scratch.subarray(0, n);
}

/**
 * One whole row group's cells of a column (rows `[0, rows)` of the group), or undefined when a page
 * is of a shape this module leaves to hyparquet. Errors of a damaged file are thrown as hyparquet's are.
 */
export async function readNumericGroup(file: AsyncBuffer, chunk: ColumnChunk, col: NumericColumn, rows: number): Promise<NumericCells | undefined> {
  const meta = chunk.meta_data;
  if (!meta || meta.type !== col.type || (meta.codec !== 'UNCOMPRESSED' && meta.codec !== 'SNAPPY')) return undefined;
  const dictStart = meta.dictionary_page_offset;
  const start = Number(dictStart !== undefined && dictStart > 0n && dictStart < meta.data_page_offset ? dictStart : meta.data_page_offset);
  const bytes = new Uint8Array(await file.slice(start, start + Number(meta.total_compressed_size)));
  return decodeChunk(bytes, meta.codec === 'SNAPPY', col, rows);
}

/** The pages of one column chunk → the group's cells (see readNumericGroup). */
export function decodeChunk(bytes: Uint8Array, snappy: boolean, col: NumericColumn, rows: number): NumericCells | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const reader = { view, offset: 0 };
  const out: NumericCells = { values: new Float64Array(rows) };
  const width = WIDTH[col.type];
  let dictionary: Float64Array | undefined;
  let row = 0;
  while (row < rows) {
    if (reader.offset >= bytes.length) throw new Error(`parquet column ${col.name}: ${row} of ${rows} rows in its pages`);
    const h = parquetHeader(reader);
    const at = reader.offset;
    const size = h.compressed_page_size;
    reader.offset += size;
    if (at + size > bytes.length) throw new Error(`parquet column ${col.name}: a page runs past its column chunk`);
    if (h.type === 'DICTIONARY_PAGE') {
      const d = h.dictionary_page_header;
      if (!d || (d.encoding !== 'PLAIN' && d.encoding !== 'PLAIN_DICTIONARY')) return undefined;
      const page = payload(bytes.subarray(at, at + size), h.uncompressed_page_size, snappy);
      if (page.length < d.num_values * width) throw new Error(`parquet column ${col.name}: dictionary page shorter than its values`);
      // Copied out of the scratch buffer: data pages reuse it.
      dictionary = new Float64Array(d.num_values);
      const pv = new DataView(page.buffer, page.byteOffset, page.byteLength);
      for (let k = 0; k < d.num_values; k++) dictionary[k] = readValue(pv, k * width, col.type);
      continue;
    }
    if (h.type === 'INDEX_PAGE') continue;
    const data = h.type === 'DATA_PAGE_V2' ? pageV2(h, bytes, at, size, snappy, col) : h.type === 'DATA_PAGE' ? pageV1(h, bytes, at, size, snappy, col) : undefined;
    if (!data || row + data.n > rows) return undefined;
    const { n, nulls, defs, page, encoding } = data;
    const pv = new DataView(page.buffer, page.byteOffset, page.byteLength);
    const count = n - nulls;
    const values = out.values;
    if (encoding === 'PLAIN') {
      if (page.length < count * width) throw new Error(`parquet column ${col.name}: data page shorter than its values`);
      let k = 0;
      for (let i = 0; i < n; i++) {
        if (defs && defs[i] === 0) { absent(out, row + i); continue; }
        values[row + i] = readValue(pv, k * width, col.type);
        k++;
      }
    } else if (encoding === 'RLE_DICTIONARY' || encoding === 'PLAIN_DICTIONARY') {
      if (!dictionary) throw new Error(`parquet column ${col.name}: dictionary-encoded page without a dictionary`);
      if (indices.length < count) indices = new Int32Array(Math.max(count, indices.length * 2));
      const idx = indices.subarray(0, count);
      const bitWidth = count > 0 ? page[0] : 0;
      if (bitWidth) readRleBitPackedHybrid({ view: pv, offset: 1 }, bitWidth, idx, page.length - 1);
      else idx.fill(0);
      let k = 0;
      for (let i = 0; i < n; i++) {
        if (defs && defs[i] === 0) { absent(out, row + i); continue; }
        const j = idx[k++];
        if (j >= dictionary.length) throw new Error(`parquet column ${col.name}: dictionary index ${j} beyond ${dictionary.length} values`);
        values[row + i] = dictionary[j];
      }
    } else return undefined;
    row += n;
  }
  return out;
}

/** A data page's rows (one value or null each), their definition levels where some are null, and the value bytes. */
interface DataPage {
  n: number;
  nulls: number;
  defs?: Uint8Array;
  page: Uint8Array;
  encoding: string;
}

type PageHeader = ReturnType<typeof parquetHeader>;

/**
 * DATA_PAGE_V2: the definition levels uncompressed in front (their byte length in the header), then the
 * values, compressed on their own.
 */
function pageV2(h: PageHeader, bytes: Uint8Array, at: number, size: number, snappy: boolean, col: NumericColumn): DataPage | undefined {
  const d = h.data_page_header_v2!;
  const n = d.num_rows;
  if (d.repetition_levels_byte_length !== 0 || d.num_values !== n) return undefined;
  const defBytes = d.definition_levels_byte_length;
  const nulls = d.num_nulls;
  if (!col.optional && (defBytes !== 0 || nulls !== 0)) return undefined;
  let defs: Uint8Array | undefined;
  if (nulls > 0) {
    defs = levelsRoom(n);
    readRleBitPackedHybrid({ view: new DataView(bytes.buffer, bytes.byteOffset + at, defBytes), offset: 0 }, 1, defs, defBytes);
  }
  const stored = bytes.subarray(at + defBytes, at + size);
  const valueBytes = h.uncompressed_page_size - defBytes;
  const page = snappy && d.is_compressed !== false && valueBytes > 0 ? payload(stored, valueBytes, true) : stored;
  return { n, nulls, defs, page, encoding: d.encoding };
}

/**
 * DATA_PAGE (v1, pyarrow's default): the whole body compressed as one; in it, for a nullable column, the
 * definition levels (RLE/bit-packed hybrid, 1 bit) after their 4-byte little-endian length, then the
 * values. A flat column has no repetition levels and one row per level, so `num_values` counts the rows.
 */
function pageV1(h: PageHeader, bytes: Uint8Array, at: number, size: number, snappy: boolean, col: NumericColumn): DataPage | undefined {
  const d = h.data_page_header!;
  const n = d.num_values;
  const body = payload(bytes.subarray(at, at + size), h.uncompressed_page_size, snappy);
  if (!col.optional) return { n, nulls: 0, page: body, encoding: d.encoding };
  // BIT_PACKED levels (deprecated) are left to hyparquet.
  if (d.definition_level_encoding !== 'RLE') return undefined;
  if (body.length < 4) throw new Error(`parquet column ${col.name}: data page shorter than its definition levels`);
  const length = (body[0] | (body[1] << 8) | (body[2] << 16) | (body[3] << 24)) >>> 0;
  if (4 + length > body.length) throw new Error(`parquet column ${col.name}: definition levels run past their data page`);
  const defs = levelsRoom(n);
  readRleBitPackedHybrid({ view: new DataView(body.buffer, body.byteOffset + 4, length), offset: 0 }, 1, defs, length);
  let nulls = 0;
  for (let i = 0; i < n; i++) if (defs[i] === 0) nulls++;
  return { n, nulls, defs: nulls > 0 ? defs : undefined, page: body.subarray(4 + length), encoding: d.encoding };
}

function levelsRoom(n: number): Uint8Array {
  if (levels.length < n) levels = new Uint8Array(Math.max(n, levels.length * 2));
  return levels.subarray(0, n);
}

/** Row `i` has no value: the mask is made at the first such row (rows before it all had one). */
function absent(out: NumericCells, i: number): void {
  if (!out.present) {
    out.present = new Uint8Array(out.values.length);
    out.present.fill(1, 0, i);
    out.present.fill(1, i + 1);
  }
  out.present[i] = 0;
}

/** A page's bytes, decompressed into the scratch buffer when snappy. */
function payload(stored: Uint8Array, uncompressed: number, snappy: boolean): Uint8Array {
  if (!snappy) return stored;
  const out = room(uncompressed);
  snappyDecompress(stored, out);
  return out;
}

/** One little-endian value as a number; INT64 as `Number(bigint)` gives it (rounded once, to nearest). */
function readValue(v: DataView, at: number, type: NumericType): number {
  switch (type) {
    case 'DOUBLE': return v.getFloat64(at, true);
    case 'FLOAT': return v.getFloat32(at, true);
    case 'INT32': return v.getInt32(at, true);
    case 'INT64': return v.getInt32(at + 4, true) * 4294967296 + v.getUint32(at, true);
  }
}
