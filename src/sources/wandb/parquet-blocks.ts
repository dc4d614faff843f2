import { parquetRead } from 'hyparquet';
import type { HistoryBlock, HistoryNumbers } from '../../core/records.ts';
import { sliceBlock } from '../history-block.ts';
import {
  decodeCell,
  exportRowRanges,
  openExportFile,
  type ExportFile,
  stepOf,
  stepOutOfOrder,
  unreadableRows,
  type ParquetFileRowsOptions,
} from './parquet-rows.ts';
import { numericColumns, readNumericGroup, type NumericCells } from './parquet-numbers.ts';

/** A column's decoded pieces as hyparquet hands them (one per page), each with its first row. */
interface Piece {
  data: ArrayLike<unknown>;
  rowStart: number;
}

/**
 * The same rows as `parquetFileRows`, by column: each row range becomes one `HistoryBlock`, numeric
 * columns straight into Float64Arrays (no object per row or per cell). Same checks, same errors:
 * `_step` present and increasing, `fromStep` (whole row groups skipped by their statistics), bounded
 * range size. `blockRows` of the blocks equals `toHistoryRow` of `parquetFileRows` (history-block.test.ts).
 */
export async function* parquetFileBlocks(path: string, o: ParquetFileRowsOptions): AsyncGenerator<HistoryBlock> {
  const f = await openExportFile(path, o.where);
  try {
    yield* fileBlocks(f, o);
  } finally {
    await f.file.close();
  }
}

async function* fileBlocks(f: ExportFile, o: ParquetFileRowsOptions): AsyncGenerator<HistoryBlock> {
  // Blocks hold 8 bytes per numeric cell (no objects): a whole 20,000-row group costs ~2 MB for 13 columns.
  const chunk = Math.max(1, o.chunkRows ?? 20_000);
  const rule = o.textRule ?? (() => 'unknown' as const);
  // Rows visit their keys in `Object.keys` order (integer-like names first), as the row path's objects do.
  const keyOrder = Object.keys(Object.fromEntries(f.top.map((k) => [k, 0])));
  // Numeric columns of a whole row group are read page by page into Float64Arrays (parquet-numbers.ts);
  // hyparquet reads the rest, and any column whose pages that module leaves to it.
  const numeric = numericColumns(f.metadata);
  const groups = groupStarts(f);
  let last = -Infinity;
  for (const [rowStart, rowEnd] of exportRowRanges(f, o.fromStep, chunk)) {
    const pieces = new Map<string, Piece[]>();
    const fast = new Map<string, NumericCells>();
    try {
      const g = groups.get(rowStart);
      const whole = g !== undefined && g.rows === rowEnd - rowStart;
      if (whole) {
        for (const col of numeric.values()) {
          const cells = await readNumericGroup(f.file, f.metadata.row_groups[g.index].columns[col.index], col, g.rows);
          if (cells) fast.set(col.name, cells);
        }
      }
      const others = fast.size === 0 ? undefined : f.top.filter((k) => !fast.has(k));
      if (!others || others.length > 0) {
        await parquetRead({
          file: f.file,
          metadata: f.metadata,
          rowStart,
          rowEnd,
          columns: others,
          useOffsetIndex: true,
          onChunk: (c) => {
            let list = pieces.get(c.columnName);
            if (!list) pieces.set(c.columnName, (list = []));
            list.push({ data: c.columnData as ArrayLike<unknown>, rowStart: c.rowStart });
          },
        });
      }
    } catch (error) {
      throw unreadableRows(o.where, rowStart, rowEnd, error);
    }
    const n = rowEnd - rowStart;
    const cells = (key: string) => columnCells(pieces.get(key) ?? [], rowStart, n);
    const steps = new Float64Array(n);
    {
      const read = fast.get('_step');
      const col = read ? undefined : cells('_step');
      for (let i = 0; i < n; i++) {
        const v = read ? (read.present && read.present[i] === 0 ? undefined : read.values[i]) : col![i];
        const step = stepOf(v === null || v === undefined ? undefined : decodeCell(v, '_step', rule), o.where);
        if (step <= last) throw stepOutOfOrder(o.where, step, last);
        last = step;
        steps[i] = step;
      }
    }
    const block: HistoryBlock = { length: n, steps, numbers: [], keys: [] };
    const keys: string[] = [];
    let rest: (Record<string, unknown> | undefined)[] | undefined;
    for (const key of keyOrder) {
      if (key === '_step') continue;
      const read = fast.get(key);
      const col = read ? [] : cells(key);
      const numbers = read ? { key, ...read } : numericColumn(key, col, n);
      if (numbers) {
        if (key === '_timestamp') block.timestamps = numbers;
        else {
          block.numbers.push(numbers);
          keys.push(key);
        }
        continue;
      }
      // A `_timestamp` cell that decodes to a number is the row's timestamp (toHistoryRow), any other stays a value.
      const ts = key === '_timestamp' ? { key, values: new Float64Array(n), present: new Uint8Array(n) } : undefined;
      let used = false;
      for (let i = 0; i < n; i++) {
        const v = col[i];
        if (v === null || v === undefined) continue;
        const value = decodeCell(v, key, rule);
        if (ts && typeof value === 'number') {
          ts.values[i] = value;
          ts.present[i] = 1;
          continue;
        }
        rest ??= new Array<Record<string, unknown> | undefined>(n);
        (rest[i] ??= {})[key] = value;
        used = true;
      }
      if (ts?.present.includes(1)) block.timestamps = ts;
      if (used) keys.push(key);
    }
    block.keys = keys;
    if (rest) block.rest = rest;
    // Steps increase: the rows below `fromStep` are a prefix.
    let first = 0;
    while (first < n && steps[first] < o.fromStep) first++;
    if (first < n) yield first === 0 ? block : sliceBlock(block, first, n);
  }
}

/** Row groups by their first row: index and rows. */
function groupStarts(f: ExportFile): Map<number, { index: number; rows: number }> {
  const out = new Map<number, { index: number; rows: number }>();
  let start = 0;
  f.metadata.row_groups.forEach((g, index) => {
    out.set(start, { index, rows: Number(g.num_rows) });
    start += Number(g.num_rows);
  });
  return out;
}

/** Row i of the range (rowStart + i) of a column, from its pieces. */
function columnCells(pieces: Piece[], rowStart: number, n: number): ArrayLike<unknown> {
  // Usually one piece covers the range exactly (a whole row group): use it as it is.
  if (pieces.length === 1 && pieces[0].rowStart === rowStart && pieces[0].data.length === n) return pieces[0].data;
  const out = new Array<unknown>(n).fill(undefined);
  for (const p of pieces) {
    const from = Math.max(0, rowStart - p.rowStart);
    const to = Math.min(p.data.length, rowStart + n - p.rowStart);
    for (let k = from; k < to; k++) out[p.rowStart + k - rowStart] = p.data[k];
  }
  return out;
}

/**
 * A column whose cells are all numbers, INT64 bigints (taken as numbers, as `decodeParquetValue` does)
 * or nulls, as Float64Array values and a presence mask (none when every cell is there); undefined for
 * any other column.
 */
function numericColumn(key: string, col: ArrayLike<unknown>, n: number): HistoryNumbers | undefined {
  if (col instanceof Float64Array) return { key, values: col.length === n ? col : Float64Array.from(col) };
  if (ArrayBuffer.isView(col) && !(col instanceof DataView)) {
    const values = new Float64Array(n);
    if (col instanceof BigInt64Array || col instanceof BigUint64Array) for (let i = 0; i < n; i++) values[i] = Number(col[i]);
    else if (typeof (col as ArrayLike<unknown>)[0] === 'number' || n === 0) values.set(col as unknown as ArrayLike<number>);
    else return undefined;
    return { key, values };
  }
  const values = new Float64Array(n);
  let present: Uint8Array | undefined;
  for (let i = 0; i < n; i++) {
    const v = col[i];
    if (typeof v === 'number') values[i] = v;
    else if (typeof v === 'bigint') values[i] = Number(v);
    else if (v === null || v === undefined) {
      if (!present) {
        present = new Uint8Array(n);
        present.fill(1, 0, i);
      }
      continue;
    } else return undefined;
    if (present) present[i] = 1;
  }
  return present ? { key, values, present } : { key, values };
}
