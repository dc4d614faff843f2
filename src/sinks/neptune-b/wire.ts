/**
 * Protobuf wire format, hand-rolled: a writer appending into one reused, growable buffer, and a small
 * reader for the server's answers. Only what Protocol B needs (varints, 64-bit doubles, length-delimited
 * fields); field numbers live in ./messages.ts.
 */

export const WIRE_VARINT = 0;
export const WIRE_I64 = 1;
export const WIRE_LEN = 2;
export const WIRE_I32 = 5;

export function tag(field: number, wire: number): number {
  return (field << 3) | wire;
}

/** Bytes a varint of this non-negative integer takes (up to 2^53; int64 negatives take 10). */
export function varintSize(n: number): number {
  if (n < 0) return 10;
  if (n < 0x80) return 1;
  if (n < 0x4000) return 2;
  if (n < 0x200000) return 3;
  if (n < 0x10000000) return 4;
  let size = 4;
  n = Math.floor(n / 0x10000000);
  while (n > 0) {
    size++;
    n = Math.floor(n / 0x80);
  }
  return size;
}

/** Size of a length-delimited field: tag + length + payload. */
export function lenFieldSize(field: number, payload: number): number {
  return varintSize(tag(field, WIRE_LEN)) + varintSize(payload) + payload;
}

export class ProtoWriter {
  buf: Buffer;
  pos = 0;
  /** Over `buf`, for doubles (DataView writes are inlined by V8; Buffer's are calls). */
  private dv: DataView;

  constructor(initialBytes = 1 << 20) {
    this.buf = Buffer.allocUnsafe(initialBytes);
    this.dv = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.length);
  }

  reset(): void {
    this.pos = 0;
  }

  /** Makes room for `n` more bytes (doubling, so a reused writer settles at its working size). */
  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
    this.dv = new DataView(next.buffer, next.byteOffset, next.length);
  }

  /** The bytes written so far (a view: valid until the next write or reset). */
  view(): Buffer {
    return this.buf.subarray(0, this.pos);
  }

  varint(n: number): void {
    this.ensure(10);
    const b = this.buf;
    let p = this.pos;
    if (n < 0) {
      // int64 two's complement: 10 bytes.
      let v = BigInt.asUintN(64, BigInt(n));
      while (v >= 0x80n) {
        b[p++] = Number(v & 0x7fn) | 0x80;
        v >>= 7n;
      }
      b[p++] = Number(v);
      this.pos = p;
      return;
    }
    while (n >= 0x80000000) {
      b[p++] = (n % 0x80) | 0x80;
      n = Math.floor(n / 0x80);
    }
    while (n >= 0x80) {
      b[p++] = (n & 0x7f) | 0x80;
      n >>>= 7;
    }
    b[p++] = n;
    this.pos = p;
  }

  tag(field: number, wire: number): void {
    this.varint(tag(field, wire));
  }

  double(v: number): void {
    this.ensure(8);
    this.dv.setFloat64(this.pos, v, true);
    this.pos += 8;
  }

  /**
   * A prepared field head (a few bytes: copied by hand, cheaper than a native copy at this size) and
   * a little-endian double after it. The caller made room (`ensure`).
   */
  headAndDouble(head: Uint8Array, v: number): void {
    const b = this.buf;
    let p = this.pos;
    for (let k = 0; k < head.length; k++) b[p++] = head[k];
    this.dv.setFloat64(p, v, true);
    this.pos = p + 8;
  }

  /**
   * Prepared entries with a double each (`template`, the doubles' places in it at `at`): one native copy,
   * then column k's value `columns[k][row]` written in place. The caller made room (`ensure`).
   */
  templateAndDoubles(template: Uint8Array, at: Int32Array, columns: readonly Float64Array[], row: number): void {
    const p = this.pos;
    this.buf.set(template, p);
    for (let k = 0; k < at.length; k++) this.dv.setFloat64(p + at[k], columns[k][row], true);
    this.pos = p + template.length;
  }

  bytes(data: Uint8Array): void {
    this.ensure(data.length);
    this.buf.set(data, this.pos);
    this.pos += data.length;
  }

  /** A string field: tag, UTF-8 length, bytes. */
  stringField(field: number, s: string): void {
    const n = Buffer.byteLength(s, 'utf8');
    this.tag(field, WIRE_LEN);
    this.varint(n);
    this.ensure(n);
    this.pos += this.buf.write(s, this.pos, 'utf8');
  }

  /** A length-delimited field whose payload is written by `body`; its size must be known first. */
  lenField(field: number, size: number, body: () => void): void {
    this.tag(field, WIRE_LEN);
    this.varint(size);
    const start = this.pos;
    body();
    if (this.pos - start !== size) throw new Error(`protobuf field ${field}: announced ${size} bytes, wrote ${this.pos - start}`);
  }
}

/** Reads the fields of one message; `next` returns undefined at the end. */
export class ProtoReader {
  pos: number;
  constructor(
    readonly buf: Uint8Array,
    start = 0,
    readonly end = buf.length,
  ) {
    this.pos = start;
  }

  varint(): number {
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new Error('protobuf: truncated varint');
      const b = this.buf[this.pos++];
      result += (b & 0x7f) * mul;
      if (b < 0x80) return result;
      mul *= 128;
    }
    throw new Error('protobuf: varint too long');
  }

  next(): { field: number; wire: number } | undefined {
    if (this.pos >= this.end) return undefined;
    const t = this.varint();
    return { field: Math.floor(t / 8), wire: t & 7 };
  }

  /** A length-delimited payload as a sub-range. */
  len(): { start: number; end: number } {
    const n = this.varint();
    const start = this.pos;
    if (start + n > this.end) throw new Error('protobuf: truncated field');
    this.pos += n;
    return { start, end: start + n };
  }

  string(): string {
    const { start, end } = this.len();
    return Buffer.from(this.buf.buffer, this.buf.byteOffset + start, end - start).toString('utf8');
  }

  skip(wire: number): void {
    if (wire === WIRE_VARINT) this.varint();
    else if (wire === WIRE_I64) this.pos += 8;
    else if (wire === WIRE_LEN) this.len();
    else if (wire === WIRE_I32) this.pos += 4;
    else throw new Error(`protobuf: unsupported wire type ${wire}`);
  }
}
