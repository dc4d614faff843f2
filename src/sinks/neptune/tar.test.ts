import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { tarGzBuffer } from './tar.ts';

/** A minimal tar reader: ustar headers, PAX `path` records, checksums verified. */
function readTar(buf: Buffer): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  let off = 0;
  let paxPath: string | undefined;
  while (off + 512 <= buf.length) {
    const h = buf.subarray(off, off + 512);
    if (h.every((b) => b === 0)) break;
    const str = (a: number, n: number) => h.subarray(a, a + n).toString('utf8').replace(/\0.*$/s, '');
    const size = parseInt(str(124, 12), 8);
    const sum = parseInt(str(148, 8), 8);
    let calc = 0;
    for (let i = 0; i < 512; i++) calc += i >= 148 && i < 156 ? 0x20 : h[i];
    expect(calc).toBe(sum);
    expect(str(257, 6)).toBe('ustar');
    const type = String.fromCharCode(h[156]);
    const data = buf.subarray(off + 512, off + 512 + size);
    off += 512 + Math.ceil(size / 512) * 512;
    if (type === 'x') {
      const m = /\d+ path=(.*)\n/.exec(data.toString('utf8'));
      paxPath = m?.[1];
      continue;
    }
    out.set(paxPath ?? str(0, 100), Buffer.from(data));
    paxPath = undefined;
  }
  return out;
}

const dir = mkdtempSync(join(tmpdir(), 'neptune-tar-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('tar writer', () => {
  const files = new Map<string, Buffer>([
    ['a.txt', Buffer.from('hello\n')],
    ['empty', Buffer.alloc(0)],
    ['exactly512.bin', Buffer.alloc(512, 7)],
    ['big/random.bin', Buffer.from(Array.from({ length: 700_000 }, (_, i) => (i * 31) % 251))],
    [`deep/${'n'.repeat(120)}/file.py`, Buffer.from('print(1)\n')],
    ['ünïcode/名前.txt', Buffer.from('utf8 name')],
  ]);
  const sources = [...files.keys()].map((name, i) => {
    const p = join(dir, `src${i}`);
    writeFileSync(p, files.get(name)!);
    return { name, localPath: p };
  });

  it('produces a gzip tar that a reader gets the same files back from', async () => {
    const gz = await tarGzBuffer(sources);
    const got = readTar(gunzipSync(gz));
    expect([...got.keys()].sort()).toEqual([...files.keys()].sort());
    for (const [name, data] of files) expect(got.get(name)?.equals(data), name).toBe(true);
  });

  it('is readable by the system tar', async () => {
    let hasTar = true;
    try {
      execFileSync('tar', ['--version'], { stdio: 'ignore' });
    } catch {
      hasTar = false;
    }
    const gz = await tarGzBuffer(sources);
    const archive = join(dir, 'x.tar.gz');
    writeFileSync(archive, gz);
    if (!hasTar) {
      expect(readTar(gunzipSync(gz)).size).toBe(files.size);
      return;
    }
    const listed = execFileSync('tar', ['-tzf', archive], { encoding: 'utf8' }).trim().split('\n');
    expect(listed.sort()).toEqual([...files.keys()].sort());
  });
});
