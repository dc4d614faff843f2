/**
 * Minimal tar reader (ustar + pax `x` path records + GNU `L` long names), enough for the
 * tar.gz packages the Python client builds for `uploadFileSetTar` (tarfile's default PAX format).
 */

export interface TarEntry { name: string; type: 'file' | 'directory'; data: Buffer }

export class TarError extends Error {}

function str(b: Buffer, start: number, len: number): string {
  const slice = b.subarray(start, start + len);
  const nul = slice.indexOf(0);
  return slice.subarray(0, nul === -1 ? slice.length : nul).toString('utf8');
}

function num(b: Buffer, start: number, len: number): number {
  // GNU base-256 for large values: high bit of the first byte set.
  if (b[start] & 0x80) {
    let v = b[start] & 0x7f;
    for (let i = 1; i < len; i++) v = v * 256 + b[start + i];
    return v;
  }
  const s = str(b, start, len).trim();
  if (s === '') return 0;
  const v = parseInt(s, 8);
  if (Number.isNaN(v)) throw new TarError(`Bad octal field '${s}'`);
  return v;
}

function checksumOk(h: Buffer): boolean {
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : h[i];
  return sum === num(h, 148, 8);
}

function paxPath(data: Buffer): string | undefined {
  let pos = 0;
  let path: string | undefined;
  while (pos < data.length) {
    const space = data.indexOf(0x20, pos);
    if (space === -1) break;
    const len = parseInt(data.subarray(pos, space).toString('utf8'), 10);
    if (!Number.isFinite(len) || len <= 0) throw new TarError('Bad pax record');
    const rec = data.subarray(space + 1, pos + len - 1).toString('utf8');
    const eq = rec.indexOf('=');
    if (eq > 0 && rec.slice(0, eq) === 'path') path = rec.slice(eq + 1);
    pos += len;
  }
  return path;
}

function cleanName(n: string): string {
  return n.replace(/^(\.\/)+/, '').replace(/^\/+/, '').replace(/\/+$/, '');
}

export function readTar(buf: Buffer): TarEntry[] {
  const out: TarEntry[] = [];
  let pos = 0;
  let nextName: string | undefined;
  while (pos + 512 <= buf.length) {
    const h = buf.subarray(pos, pos + 512);
    if (h.every((x) => x === 0)) break;
    if (!checksumOk(h)) throw new TarError(`Bad tar header checksum at offset ${pos}`);
    const size = num(h, 124, 12);
    const type = String.fromCharCode(h[156] || 0x30);
    const dataStart = pos + 512;
    if (dataStart + size > buf.length) throw new TarError('Truncated tar entry');
    const data = buf.subarray(dataStart, dataStart + size);
    pos = dataStart + Math.ceil(size / 512) * 512;
    if (type === 'x') { nextName = paxPath(data) ?? nextName; continue; }
    if (type === 'L') { nextName = str(data, 0, data.length); continue; }
    if (type === 'g') continue;
    const prefix = h.subarray(257, 262).toString('latin1') === 'ustar' ? str(h, 345, 155) : '';
    const raw = nextName ?? (prefix ? `${prefix}/${str(h, 0, 100)}` : str(h, 0, 100));
    nextName = undefined;
    const name = cleanName(raw);
    if (name === '' || name === '.') continue;
    if (type === '5') out.push({ name, type: 'directory', data: Buffer.alloc(0) });
    else if (type === '0' || type === '7') out.push({ name, type: 'file', data: Buffer.from(data) });
    // links, devices, fifos: not meaningful in a file set; skipped
  }
  return out;
}

/** Tiny ustar writer, used by tests to build the packages a client would send. */
export function writeTar(entries: Array<{ name: string; data?: Buffer; directory?: boolean }>): Buffer {
  const blocks: Buffer[] = [];
  for (const e of entries) {
    const h = Buffer.alloc(512);
    const data = e.data ?? Buffer.alloc(0);
    h.write(e.name, 0, 100, 'utf8');
    h.write('0000644\0', 100, 'latin1');
    h.write('0000000\0', 108, 'latin1');
    h.write('0000000\0', 116, 'latin1');
    h.write((e.directory ? 0 : data.length).toString(8).padStart(11, '0') + '\0', 124, 'latin1');
    h.write(Math.floor(Date.now() / 1000).toString(8).padStart(11, '0') + '\0', 136, 'latin1');
    h.write(e.directory ? '5' : '0', 156, 'latin1');
    h.write('ustar\0' + '00', 257, 'latin1');
    h.fill(32, 148, 156);
    let sum = 0;
    for (let i = 0; i < 512; i++) sum += h[i];
    h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'latin1');
    blocks.push(h);
    if (!e.directory && data.length > 0) {
      blocks.push(data, Buffer.alloc((512 - (data.length % 512)) % 512));
    }
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}
