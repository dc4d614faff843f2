/**
 * A signed URL's credentials never reach an error message (and so the report, the ledger or a log): a
 * storage error may echo them — S3's `SignatureDoesNotMatch` answer lists the signature it was given
 * (`SignatureProvided`) and the string it signed, credential included (AWS S3 REST error responses).
 * A signature refused for one request can be valid for another (a PUT URL sent with another content
 * type): until it expires it is a credential. A local server plays storage answering so.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpClient } from '../../src/http/client.ts';
import { downloadToFile } from '../../src/sources/wandb/download.ts';

const SIGNATURE = 'f3a1c0ffee4b6d2e9a8b7c6d5e4f30112233445566778899aabbccddeeff0011';
const CREDENTIAL = 'AKIAEXAMPLE12345/20261130/us-east-1/s3/aws4_request';
const TOKEN = 'IQoJb3JpZ2luX2VjEXAMPLESESSIONTOKEN';

let server: Server;
let base: string;
let dir: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    const q = new URL(req.url ?? '/', 'http://storage').searchParams;
    const body = `<?xml version="1.0" encoding="UTF-8"?><Error><Code>SignatureDoesNotMatch</Code><Message>The request signature we calculated does not match the signature you provided.</Message>`
      + `<AWSAccessKeyId>AKIAEXAMPLE12345</AWSAccessKeyId><StringToSign>AWS4-HMAC-SHA256 ${q.get('X-Amz-Credential')} ${q.get('X-Amz-Security-Token')}</StringToSign>`
      + `<SignatureProvided>${q.get('X-Amz-Signature')}</SignatureProvided></Error>`;
    res.writeHead(403, { 'content-type': 'application/xml', 'content-length': String(Buffer.byteLength(body)) }).end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  dir = mkdtempSync(join(tmpdir(), 'w2n-signed-errors-'));
});

afterAll(async () => {
  await new Promise((r) => server.close(r));
  rmSync(dir, { recursive: true, force: true });
});

describe('a storage error that echoes the signed URL', () => {
  it('is said without the signature, credential or session token; the rest of it stays', async () => {
    const storage = new HttpClient({ service: 'W&B storage', retry: { retries: 0 } });
    const url = `${base}/bucket/run/output.log?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=${encodeURIComponent(CREDENTIAL)}&X-Amz-Security-Token=${TOKEN}&X-Amz-Expires=3600&X-Amz-Signature=${SIGNATURE}`;
    let message = '';
    try {
      await downloadToFile({ url, route: () => ({ http: storage, headers: {} }), dir, fileName: 'f', what: 'file output.log of e/p/r' });
    } catch (e) {
      message = (e as Error).message;
    } finally {
      await storage.close();
    }
    expect(message).toMatch(/HTTP 403/);
    expect(message).toMatch(/SignatureDoesNotMatch/);
    for (const secret of [SIGNATURE, CREDENTIAL, TOKEN]) expect(message).not.toContain(secret);
  });
});
