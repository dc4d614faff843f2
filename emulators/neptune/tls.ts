/**
 * `--tls`: a self-signed certificate made at start, so the official client, which refuses OAuth refresh
 * over plain HTTP (requests-oauthlib's InsecureTransportError; issue 8), can be pointed at the emulator
 * by trusting one CA file (Node: NODE_EXTRA_CA_CERTS; Python requests: REQUESTS_CA_BUNDLE). The
 * certificate is its own CA and names the bound host, localhost, 127.0.0.1 and ::1.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generate } from 'selfsigned';

export interface TlsMaterial { key: string; cert: string; caFile: string }

export async function makeTls(host: string, caFile?: string): Promise<TlsMaterial> {
  const names = new Set(['localhost', '127.0.0.1', '::1', host]);
  const altNames = [...names].map((n) => (isIP(n) ? { type: 7 as const, ip: n } : { type: 2 as const, value: n }));
  const notBefore = new Date(Date.now() - 60_000);
  const notAfter = new Date(notBefore.getTime() + 30 * 24 * 3600 * 1000);
  const pems = await generate([{ name: 'commonName', value: 'Neptune emulator (self-signed)' }], {
    keySize: 2048, algorithm: 'sha256', notBeforeDate: notBefore, notAfterDate: notAfter,
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, keyCertSign: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames },
    ],
  });
  const file = caFile ?? join(mkdtempSync(join(tmpdir(), 'neptune-emulator-tls-')), 'ca.pem');
  writeFileSync(file, pems.cert, { mode: 0o644 });
  return { key: pems.private, cert: pems.cert, caFile: file };
}
