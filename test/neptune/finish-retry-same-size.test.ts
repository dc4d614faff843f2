/**
 * A multipart file-set upload whose `finish` failed in a way that may or may not have been applied (a
 * 503), into a set that already held a file of the same path and size (an earlier pass, other bytes:
 * a W&B file rewritten at the same size, sent again after a lost ledger). Before resending `finish`, the
 * writer looks whether the set holds the file (a completed `finish` closes the session, so a resent one
 * would fail); a listing gives sizes only, so the old file looked like the new one, and the upload was
 * called done while the server held the old bytes. The look only proves something where the set did not
 * already hold that path and size before the upload.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startNeptuneEmulator, type NeptuneEmulator } from '../../emulators/neptune/index.ts';
import { createNeptuneClient, type NeptuneClient } from '../../src/sinks/neptune/index.ts';
import { startNeptuneProxy, type NeptuneProxy } from './proxy.ts';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const KIB = 1024;
let emu: NeptuneEmulator | undefined;
let proxy: NeptuneProxy | undefined;
const clients: NeptuneClient[] = [];
let dir: string | undefined;

afterEach(async () => {
  for (const c of clients.splice(0)) await c.close();
  await proxy?.close();
  await emu?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  proxy = emu = dir = undefined;
});

const pattern = (n: number, seed: number) => Buffer.from(Array.from({ length: n }, (_, i) => (i * seed + 3) % 251));

describe('a multipart file-set upload whose finish failed ambiguously', () => {
  it('into a set already holding that path at the same size: finish is sent again, and the new bytes land', async () => {
    emu = await startNeptuneEmulator({ workspaces: ['demo'], limits: { maxSinglePartSize: 64 * KIB, minChunkSize: 64 * KIB } });
    proxy = await startNeptuneProxy(emu);
    dir = mkdtempSync(join(tmpdir(), 'w2n-finish-same-size-'));
    const client = () => {
      const c = createNeptuneClient({ token: proxy!.apiToken(), http: { service: 'Neptune', retry: { retries: 3, baseDelayMs: 1, maxDelayMs: 5 } } });
      clients.push(c);
      return c;
    };
    const oldBytes = pattern(200 * KIB, 7);
    const newBytes = pattern(200 * KIB, 11);
    writeFileSync(join(dir, 'old'), oldBytes);
    writeFileSync(join(dir, 'new'), newBytes);

    // The earlier pass.
    const first = client();
    const p1 = await first.ensureProject('demo', 'finish');
    const r1 = await first.openRun(p1, 'run-f');
    expect((await r1.uploadFileSet('checkpoints', [{ localPath: join(dir, 'old'), relativePath: 'model.ckpt', sizeBytes: oldBytes.length }])).errors).toEqual([]);

    // This pass: the run's state read, the same path sent again with other bytes; its first finish gets a 503.
    const second = client();
    const r2 = await second.openRun(await second.ensureProject('demo', 'finish'), 'run-f');
    await r2.load();
    let failed = 0;
    proxy.decide = (r) => (r.path.endsWith('/storage/fileset/upload/finish') && failed++ === 0 ? { kind: 'respond', status: 503, json: { message: 'unavailable' } } : { kind: 'forward' });
    const out = await r2.uploadFileSet('checkpoints', [{ localPath: join(dir, 'new'), relativePath: 'model.ckpt', sizeBytes: newBytes.length }]);
    expect(failed).toBe(2);
    expect(out.errors).toEqual([]);
    expect(emu.inspect.fileSet(r2.info.id, 'checkpoints')['model.ckpt']?.equals(newBytes)).toBe(true);
  });
});
