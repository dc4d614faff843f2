/**
 * A run folder migrated over Protocol B, its ledger lost, migrated again: every file storage holds with
 * the same bytes is proven by its MD5 and not sent again (no storage PUT); a file changed on disk since
 * (same size, other bytes, and another size) is sent again and lands with its new bytes.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNeptuneEmulator, type NeptuneEmulator } from '../../emulators/neptune/index.ts';
import type { MigrationReport } from '../../src/pipeline/report.ts';
import { encodeLog, rec } from '../../src/sources/local/wandb-log/test-log-writer.ts';
import { events, runCli } from '../support/cli.ts';

const RUN = 'lostb01';
let emu: NeptuneEmulator;
let tmp: string;
let filesDir: string;

const pattern = (n: number, seed: number) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 31 + seed * 7 + (i >> 8)) & 0xff));
const files = (): Record<string, Buffer> => ({
  'big.bin': pattern(300_000, 1),
  'rewritten.bin': pattern(280_000, 2),
  'notes.txt': Buffer.from('notes kept as they were\n'),
  'out.txt': Buffer.from('output of the first run\n'),
  'grown.txt': Buffer.from('short\n'),
  'code/train.py': Buffer.from('print("train")\n'),
});

beforeAll(async () => {
  emu = await startNeptuneEmulator({ workspaces: ['demo'], protocolB: { statusDelayMs: 1, multipartThreshold: 200_000, multipartPartSize: 128 * 1024 } });
  tmp = mkdtempSync(join(tmpdir(), 'w2n-lost-b-files-'));
  const dir = join(tmp, 'proj', 'wandb', `run-20231114_221320-${RUN}`);
  filesDir = join(dir, 'files');
  mkdirSync(join(filesDir, 'code'), { recursive: true });
  writeFileSync(join(dir, `run-${RUN}.wandb`), encodeLog([rec.header('0.19.8'), rec.run({ runId: RUN, project: 'lostb', startTime: 1_700_000_000 }), rec.exit(0)]).bytes);
  for (const [n, b] of Object.entries(files())) writeFileSync(join(filesDir, n), b);
}, 60_000);

afterAll(async () => {
  await emu?.close();
  rmSync(tmp, { recursive: true, force: true });
});

const ledger = () => join(tmp, 'ledger.sqlite');
const forgetLedger = () => {
  for (const suffix of ['', '-wal', '-shm']) rmSync(ledger() + suffix, { force: true });
};
async function migrate(): Promise<{ code: number | null; report: MigrationReport; stderr: string }> {
  const out = await runCli(
    ['migrate', '--source', join(tmp, 'proj'), '--workspace', 'demo', '--projects', 'all', '--protocol', 'b', '--yes', '--json', '--ledger', ledger()],
    { NEPTUNE_API_TOKEN: emu.apiToken(), NEPTUNE_PROJECT: 'demo/placeholder' },
    tmp,
  ).done;
  const ev = events(out.stdout).find((e) => e.type === 'report') as unknown as { report: MigrationReport } | undefined;
  if (!ev) throw new Error(`no report (exit ${out.code}): ${out.stderr}`);
  return { code: out.code, report: ev.report, stderr: out.stderr };
}
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const landed = (): Record<string, string> => {
  const b = emu.b.inspect;
  const out: Record<string, string> = {};
  for (const [path, a] of Object.entries(b.attributes('demo/lostb', RUN))) {
    if (a.type !== 'fileRef') continue;
    const name = path.replace(/^(files|source_code\/files)\//, '');
    out[name] = sha(b.object('demo/lostb', (a.value as { path: string }).path)!.data);
  }
  return out;
};
const want = (f: Record<string, Buffer>) => Object.fromEntries(Object.entries(f).map(([k, v]) => [k, sha(v)]));
const puts = () => emu.stats().byEndpoint.storagePutObject ?? 0;
const parts = () => emu.stats().byEndpoint.storagePutPart ?? 0;

describe('run-folder files over Protocol B after a lost ledger', () => {
  it('files storage holds with the same bytes are proven by MD5 and not sent again; files changed on disk are, and land with their new bytes', async () => {
    const first = await migrate();
    expect(first.code, first.stderr).toBe(0);
    expect(landed()).toEqual(want(files()));
    // big.bin and rewritten.bin went up in parts (an S3 multipart ETag), the others in one PUT each.
    expect(emu.stats().byEndpoint).toMatchObject({ storagePutObject: 4, storagePutPart: 6 });

    forgetLedger();
    const before = { puts: puts(), parts: parts(), bytes: emu.b.stats().storagePutBytes };
    const again = await migrate();
    expect(again.code, again.stderr).toBe(0);
    expect({ puts: puts(), parts: parts(), bytes: emu.b.stats().storagePutBytes }).toEqual(before);
    expect(landed()).toEqual(want(files()));
    const r = again.report.runs[0];
    expect(r.status).toBe('migrated');
    expect(r.notWritten).toEqual([]);
    // The small files are proven by the plain-MD5 ETag before anything is read; the multipart ones by the
    // ETag the local bytes give for the bridge's part size, at the upload (their FileRef written again).
    // All six were there and none was sent: already present, none written, no bytes.
    expect(r.written.filesAlreadyPresent).toBe(6);
    expect(r.written.files ?? 0).toBe(0);
    expect(r.written.bytes ?? 0).toBe(0);

    // Changed on disk since: one multipart file with the same size and other bytes, a small one with the
    // same size and other bytes, one that grew.
    const changed: Record<string, Buffer> = { ...files(), 'rewritten.bin': pattern(280_000, 3), 'out.txt': Buffer.from('output of the other run\n'), 'grown.txt': Buffer.from('grown since\n') };
    for (const n of ['rewritten.bin', 'out.txt', 'grown.txt']) writeFileSync(join(filesDir, n), changed[n]);
    forgetLedger();
    const then = { puts: puts(), parts: parts(), bytes: emu.b.stats().storagePutBytes };
    const third = await migrate();
    expect(third.code, third.stderr).toBe(0);
    expect(landed()).toEqual(want(changed));
    expect(puts() - then.puts).toBe(2);
    expect(parts() - then.parts).toBe(3);
    expect(emu.b.stats().storagePutBytes - then.bytes).toBe(280_000 + changed['out.txt'].length + changed['grown.txt'].length);
    expect(third.report.runs[0].notWritten).toEqual([]);
  }, 120_000);
});
