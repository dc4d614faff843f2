/**
 * The export with DATA_PAGE (v1) pages instead of DATA_PAGE_V2: what pyarrow writes by default
 * (`pyarrow.parquet.write_table(data_page_version='1.0')`), so likely what a real W&B export holds.
 * hyparquet-writer writes only v2 pages, so a finished file is rewritten page by page, as the parquet
 * format defines the two (apache/parquet-format `README.md` "Data Pages", `src/main/thrift/parquet.thrift`
 * `DataPageHeader` / `DataPageHeaderV2`):
 * - v2 keeps the repetition and definition levels uncompressed in front of the (possibly compressed)
 *   values, their byte lengths in the header; v1 compresses the whole page body, in which each level
 *   run that the schema has (max level > 0) is prefixed by its 4-byte little-endian length, then the values;
 * - the value bytes (PLAIN, dictionary indices, RLE booleans) are the same in both.
 * Dictionary pages are copied as they are. The footer gets the new offsets and sizes; the page indexes
 * (column and offset index) are left out, as pyarrow leaves them out unless asked (`write_page_index`).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { parquetMetadata, snappyUncompress, type ColumnChunk } from 'hyparquet';
import { parquetHeader } from 'hyparquet/src/column.js';
import { ByteWriter } from 'hyparquet-writer';
import { writePageHeader } from 'hyparquet-writer/src/datapage.js';
import { writeMetadata } from 'hyparquet-writer/src/metadata.js';
import { snappyCompress } from 'hyparquet-writer/src/snappy.js';

const MAGIC = 0x31524150; // "PAR1"

/** Rewrites the parquet file at `path` (written by hyparquet-writer) with DATA_PAGE v1 pages, in place. */
export function rewriteAsDataPageV1(path: string): void {
  const input = readFileSync(path);
  const bytes = new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  const metadata = parquetMetadata(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
  const out = new ByteWriter(bytes.length + 1024);
  out.appendUint32(MAGIC);
  for (const group of metadata.row_groups) {
    let groupCompressed = 0;
    let groupUncompressed = 0;
    const groupStart = out.offset;
    for (const chunk of group.columns) {
      const { compressed, uncompressed } = rewriteChunk(bytes, chunk, out);
      groupCompressed += compressed;
      groupUncompressed += uncompressed;
    }
    group.file_offset = BigInt(groupStart);
    group.total_compressed_size = BigInt(groupCompressed);
    group.total_byte_size = BigInt(groupUncompressed);
  }
  // hyparquet-writer types its own copy of hyparquet's FileMetaData (another version, same fields).
  writeMetadata(out, metadata as never);
  out.appendUint32(MAGIC);
  writeFileSync(path, new Uint8Array(out.getBytes()));
}

/** One column chunk's pages, v2 data pages as v1; its metadata set to where they now are. */
function rewriteChunk(bytes: Uint8Array, chunk: ColumnChunk, out: ByteWriter): { compressed: number; uncompressed: number } {
  const meta = chunk.meta_data;
  if (!meta) throw new Error('parquet v1 rewrite: a column chunk without metadata');
  const snappy = meta.codec === 'SNAPPY';
  if (!snappy && meta.codec !== 'UNCOMPRESSED') throw new Error(`parquet v1 rewrite: codec ${meta.codec} not handled`);
  const dict = meta.dictionary_page_offset;
  const from = Number(dict !== undefined && dict > 0n && dict < meta.data_page_offset ? dict : meta.data_page_offset);
  const end = from + Number(meta.total_compressed_size);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const reader = { view, offset: from };
  const start = out.offset;
  let uncompressed = 0;
  let dataPageOffset: number | undefined;
  let dictionaryPageOffset: number | undefined;
  while (reader.offset < end) {
    const headerStart = reader.offset;
    const h = parquetHeader(reader);
    const bodyStart = reader.offset;
    const bodyEnd = bodyStart + h.compressed_page_size;
    reader.offset = bodyEnd;
    const pageStart = out.offset;
    if (h.type === 'DATA_PAGE_V2') {
      dataPageOffset ??= pageStart;
      const d = h.data_page_header_v2!;
      const rep = bytes.subarray(bodyStart, bodyStart + d.repetition_levels_byte_length);
      const def = bytes.subarray(rep.byteOffset - bytes.byteOffset + rep.length, bodyStart + d.repetition_levels_byte_length + d.definition_levels_byte_length);
      const stored = bytes.subarray(bodyStart + rep.length + def.length, bodyEnd);
      const valueBytes = h.uncompressed_page_size - rep.length - def.length;
      let values = stored;
      if (snappy && d.is_compressed !== false && valueBytes > 0) {
        values = new Uint8Array(valueBytes);
        snappyUncompress(stored, values);
      }
      const body = new ByteWriter(rep.length + def.length + values.length + 8);
      for (const levels of [rep, def]) {
        if (levels.length === 0) continue;
        body.appendUint32(levels.length);
        body.appendBytes(levels);
      }
      body.appendBytes(values);
      const raw = new Uint8Array(body.getBytes());
      const page = snappy ? snappyCompress(raw) : raw;
      writePageHeader(out, {
        type: 'DATA_PAGE',
        uncompressed_page_size: raw.length,
        compressed_page_size: page.length,
        data_page_header: { num_values: d.num_values, encoding: d.encoding as never, definition_level_encoding: 'RLE', repetition_level_encoding: 'RLE' },
      });
      uncompressed += out.offset - pageStart + raw.length;
      out.appendBytes(page);
    } else {
      if (h.type === 'DICTIONARY_PAGE') dictionaryPageOffset ??= pageStart;
      else if (h.type === 'DATA_PAGE') dataPageOffset ??= pageStart;
      out.appendBytes(bytes.subarray(headerStart, bodyEnd));
      uncompressed += bodyStart - headerStart + h.uncompressed_page_size;
    }
  }
  if (dataPageOffset === undefined) throw new Error('parquet v1 rewrite: a column chunk without a data page');
  meta.data_page_offset = BigInt(dataPageOffset);
  meta.dictionary_page_offset = dictionaryPageOffset === undefined ? undefined : BigInt(dictionaryPageOffset);
  meta.total_compressed_size = BigInt(out.offset - start);
  meta.total_uncompressed_size = BigInt(uncompressed);
  meta.encoding_stats = meta.encoding_stats?.map((s) => (s.page_type === 'DATA_PAGE_V2' ? { ...s, page_type: 'DATA_PAGE' } : s));
  chunk.file_offset = BigInt(start);
  chunk.offset_index_offset = chunk.offset_index_length = chunk.column_index_offset = chunk.column_index_length = undefined;
  return { compressed: out.offset - start, uncompressed };
}
