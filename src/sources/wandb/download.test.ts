/**
 * A download is checked against the MD5 listed for it (a mismatch is fetched again, then fails); one
 * with no MD5 listed (a history export) is not hashed.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpClient } from '../../http/client.ts';
import { downloadToFile } from './download.ts';

const bytes = Buffer.from(Array.from({ length: 200_000 }, (_, i) => (i * 7) % 251));
const md5 = createHash('md5').update(bytes).digest('base64');
let server: Server;
let url = '';
let served = 0;
const http = new HttpClient({ service: 'W&B', retry: { retries: 0 } });
const dir = mkdtempSync(join(tmpdir(), 'w2n-dl-'));

beforeAll(async () => {
  server = createServer((_req, res) => {
    served++;
    res.end(bytes);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/export.parquet`;
});
afterAll(async () => {
  await http.close();
  await new Promise((r) => server.close(r));
});

const get = (fileName: string, listed?: string) =>
  downloadToFile({ url, route: () => ({ http, headers: {} }), dir, fileName, what: 'file', ...(listed ? { md5: listed } : {}), attempts: 2 });

describe('downloadToFile', () => {
  it('checks the bytes against the listed MD5 (base64 or hex) and gives it back', async () => {
    for (const listed of [md5, Buffer.from(md5, 'base64').toString('hex')]) {
      const d = await get('a.bin', listed);
      expect(d.md5).toBe(md5);
      expect(d.sizeBytes).toBe(bytes.length);
      expect(readFileSync(d.path).equals(bytes)).toBe(true);
    }
  });

  it('fetches a file whose bytes differ from the listed MD5 again, then fails naming both', async () => {
    served = 0;
    const wrong = createHash('md5').update('other').digest('base64');
    await expect(get('b.bin', wrong)).rejects.toThrow(`MD5 ${md5} does not match the listed ${wrong}`);
    expect(served).toBe(2);
  });

  it('does not hash a file with no MD5 listed', async () => {
    const d = await get('c.bin');
    expect(d.md5).toBeUndefined();
    expect(readFileSync(d.path).equals(bytes)).toBe(true);
  });
});
