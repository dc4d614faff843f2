/**
 * Snappy decompression of parquet pages (the raw block format, google/snappy `format_description.txt`),
 * for the numeric page reader (parquet-numbers.ts). Literals are copied with one native `set`: hyparquet's
 * decoder copies them byte by byte, and the numbers of an export (doubles, mostly incompressible) are
 * almost all literal: its decoder was ~0.02 CPU-s per million points of (a). Back references are copied
 * byte by byte (they may overlap what they write). Checked against hyparquet's on the same streams
 * (snappy.test.ts).
 */

/** Decompresses `input` into `output`, whose length is the uncompressed length; throws on a damaged stream. */
export function snappyDecompress(input: Uint8Array, output: Uint8Array): void {
  const n = input.length;
  let pos = 0;
  // Preamble: the uncompressed length as a varint.
  let length = 0;
  for (let shift = 0; ; shift += 7) {
    if (pos >= n || shift > 28) throw new Error('snappy: bad length preamble');
    const b = input[pos++];
    length += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) break;
  }
  if (length !== output.length) throw new Error(`snappy: ${length} bytes announced, ${output.length} expected`);
  let out = 0;
  while (pos < n) {
    const tag = input[pos++];
    const kind = tag & 3;
    if (kind === 0) {
      let len = (tag >>> 2) + 1;
      if (len > 60) {
        const bytes = len - 60;
        if (pos + bytes > n) throw new Error('snappy: literal length runs past the input');
        len = 0;
        for (let k = 0; k < bytes; k++) len += input[pos + k] * 2 ** (8 * k);
        len += 1;
        pos += bytes;
      }
      if (pos + len > n || out + len > length) throw new Error('snappy: literal runs past its buffer');
      output.set(input.subarray(pos, pos + len), out);
      pos += len;
      out += len;
      continue;
    }
    let len: number;
    let offset: number;
    if (kind === 1) {
      if (pos >= n) throw new Error('snappy: copy runs past the input');
      len = ((tag >>> 2) & 7) + 4;
      offset = ((tag >>> 5) << 8) | input[pos++];
    } else if (kind === 2) {
      if (pos + 2 > n) throw new Error('snappy: copy runs past the input');
      len = (tag >>> 2) + 1;
      offset = input[pos] | (input[pos + 1] << 8);
      pos += 2;
    } else {
      if (pos + 4 > n) throw new Error('snappy: copy runs past the input');
      len = (tag >>> 2) + 1;
      offset = (input[pos] | (input[pos + 1] << 8) | (input[pos + 2] << 16) | (input[pos + 3] << 24)) >>> 0;
      pos += 4;
    }
    if (offset === 0 || offset > out || out + len > length) throw new Error('snappy: bad back reference');
    if (offset >= len) output.copyWithin(out, out - offset, out - offset + len);
    else for (let k = 0; k < len; k++) output[out + k] = output[out + k - offset];
    out += len;
  }
  if (out !== length) throw new Error(`snappy: ${out} of ${length} bytes decoded`);
}
