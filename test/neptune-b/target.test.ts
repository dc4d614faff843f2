import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startNeptuneEmulator, type NeptuneEmulator } from '../../emulators/neptune/index.ts';
import { TargetError } from '../../src/core/errors.ts';
import { AutoTarget } from '../../src/sinks/neptune-b/auto.ts';
import { NeptuneBTarget } from '../../src/sinks/neptune-b/target.ts';
import { closeAfterEach } from '../support/close-after-each.ts';

/** The writer's side of the status protocol (neptune-api.md §3.5) against the emulator, clocks injected. */
let emu: NeptuneEmulator | undefined;
let target: NeptuneBTarget | undefined;
closeAfterEach(() => [target, emu], () => (target = emu = undefined));

const points = (n: number) => Array.from({ length: n }, (_, i) => ({ step: i, timestampMs: 1_700_000_000_000 + i, value: i / 2 }));
const project = { description: '', fields: [] };

describe('Protocol B target: submit, then wait for the status', () => {
  it('a flush resolves only once /ingest/check says processed, never on the POST alone', async () => {
    emu = await startNeptuneEmulator({ workspaces: ['demo'] });
    let sleeps = 0;
    let settled = false;
    const seenPending: number[] = [];
    target = new NeptuneBTarget({
      token: emu.apiToken(),
      ingest: {
        sleep: async () => {
          sleeps++;
          expect(settled).toBe(false);
          seenPending.push(emu!.b.inspect.pendingRequests().length);
          if (sleeps === 3) emu!.b.setFaults({});
        },
      },
    });
    const p = await target.ensureProject('demo', 'status-wait', project);
    const run = await target.openRun(p, 'run-a', undefined, { createdAtMs: Date.UTC(2020, 0, 1) });
    emu.b.setFaults({ stuckUnavailable: true });
    run.appendFloats('loss', points(100));
    const flushed = run.flush().then((o) => ((settled = true), o));
    expect(await flushed).toEqual([]);
    expect(sleeps).toBe(3);
    expect(seenPending.every((n) => n > 0)).toBe(true);
    expect(emu.b.inspect.floatSeries('demo/status-wait', 'run-a', 'loss')).toEqual(points(100));
    expect(emu.b.inspect.run('demo/status-wait', 'run-a')?.creationTimeMs).toBe(Date.UTC(2020, 0, 1));
  });

  it('a status that stays UNAVAILABLE fails the flush after the processing timeout, naming the cause', async () => {
    emu = await startNeptuneEmulator({ workspaces: ['demo'] });
    let clock = 0;
    target = new NeptuneBTarget({
      token: emu.apiToken(),
      ingest: { processingTimeoutMs: 5_000, now: () => clock, sleep: async (ms) => void (clock += ms) },
    });
    const p = await target.ensureProject('demo', 'status-stuck', project);
    const run = await target.openRun(p, 'run-b');
    emu.b.setFaults({ stuckUnavailable: true });
    run.appendFloats('loss', points(3));
    await expect(run.flush()).rejects.toThrow(/not processed 1 ingest request.*UNAVAILABLE/);
  });

  it('a run-level code fails the run clearly (CreateRun into a project that does not exist)', async () => {
    emu = await startNeptuneEmulator({ workspaces: ['demo'] });
    target = new NeptuneBTarget({ token: emu.apiToken(), ingest: { sleep: async () => {} } });
    const err = await target.openRun({ qualifiedName: 'demo/never-created' }, 'run-c').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TargetError);
    expect((err as Error).message).toMatch(/run-c in demo\/never-created: PROJECT_NOT_FOUND/);
  });

  it('values B refuses are checked before sending and counted by reason; int64 and 1 MiB strings pass', async () => {
    emu = await startNeptuneEmulator({ workspaces: ['demo'] });
    target = new NeptuneBTarget({ token: emu.apiToken(), ingest: { sleep: async () => {} } });
    const p = await target.ensureProject('demo', 'checks', project);
    const run = await target.openRun(p, 'run-d');
    const big = 'x'.repeat(1024 * 1024);
    run.assign([
      { path: 'config/big', value: { type: 'int', value: 2 ** 50 } },
      { path: 'config/long', value: { type: 'string', value: big } },
      { path: 'config/too_long', value: { type: 'string', value: `${big}y` } },
      { path: 'sys/id', value: { type: 'string', value: 'X-1' } },
      { path: 'config/old', value: { type: 'datetime', value: Date.UTC(1800, 0, 1) } },
    ]);
    run.appendFloats('loss', [...points(3), { step: 1, timestampMs: 0, value: 1 }, { step: 5, timestampMs: 1, value: Number.NaN }, { step: 1e12, timestampMs: 1, value: 1 }]);
    const out = await run.flush();
    expect(out.map((o) => [o.reason, o.subject, o.count])).toEqual([
      ['too-large', 'config/too_long', 1],
      ['invalid-path', 'sys/id', 1],
      ['unsupported-value', 'config/old', 1],
      ['step-not-increasing', 'loss', 1],
      ['non-finite', 'loss', 1],
      ['unsupported-value', 'loss', 1],
    ]);
    const attrs = emu.b.inspect.attributes('demo/checks', 'run-d');
    expect(attrs['config/big']).toEqual({ type: 'int', value: 2n ** 50n });
    expect((attrs['config/long']?.value as string).length).toBe(1024 * 1024);
    expect(emu.b.inspect.floatSeries('demo/checks', 'run-d', 'loss')).toEqual(points(3));
  });

  it('429, 5xx and reset connections on ingest and status change nothing in the end state', async () => {
    emu = await startNeptuneEmulator({ workspaces: ['demo'] });
    target = new NeptuneBTarget({ token: emu.apiToken(), http: { service: 'Neptune', retry: { baseDelayMs: 1, maxDelayMs: 5 } }, ingest: { sleep: async () => {} } });
    const p = await target.ensureProject('demo', 'faults', project);
    const run = await target.openRun(p, 'run-e');
    const faults = [
      { force429: { count: 2, retryAfterSeconds: 0 }, only: 'ingest' as const },
      { force5xx: { count: 2, status: 503 }, only: 'check' as const },
      { resetConnections: { count: 2 }, only: 'ingest' as const },
    ];
    for (const [i, f] of faults.entries()) {
      emu.b.setFaults(f);
      run.appendFloats('loss', points(50 * (i + 1)).slice(50 * i));
      expect(await run.flush()).toEqual([]);
    }
    expect(emu.b.inspect.floatSeries('demo/faults', 'run-e', 'loss')).toEqual(points(150));
    expect(target.stats().failedAttempts).toBeGreaterThanOrEqual(6);
  });

  it('a run that cannot exist (a project this target created, a run the ledger never started): its writes go behind its CreateRun, not after its status', async () => {
    emu = await startNeptuneEmulator({ workspaces: ['demo'] });
    let sleeps = 0;
    target = new NeptuneBTarget({
      token: emu.apiToken(),
      ingest: {
        sleep: async () => {
          // Statuses stay UNAVAILABLE (nothing is processed) until the third pause.
          if (++sleeps === 3) emu!.b.setFaults({});
        },
      },
    });
    const p = await target.ensureProject('demo', 'fresh', project);
    emu.b.setFaults({ stuckUnavailable: true });
    const run = await target.openRun(p, 'run-n', undefined, { createdAtMs: Date.UTC(2021, 0, 1), ledgerStarted: false });
    // Opened before any status said processed: no pause of the status checks yet.
    expect(sleeps).toBe(0);
    expect(await run.state()).toMatchObject({ lastSteps: new Map(), fieldCount: 0 });
    run.appendFloats('loss', points(10));
    expect(await run.flush()).toEqual([]);
    expect(sleeps).toBeGreaterThanOrEqual(3);
    expect(emu.b.inspect.floatSeries('demo/fresh', 'run-n', 'loss')).toEqual(points(10));
    expect(emu.b.inspect.run('demo/fresh', 'run-n')?.creationTimeMs).toBe(Date.UTC(2021, 0, 1));
  });

  it('--protocol auto: the project its detection created is still one whose new runs are not held back by their CreateRun', async () => {
    emu = await startNeptuneEmulator({ workspaces: ['demo'] });
    let sleeps = 0;
    const auto = new AutoTarget({ token: emu.apiToken(), ingest: { sleep: async () => void (++sleeps === 3 && emu!.b.setFaults({})) } });
    try {
      const p = await auto.ensureProject('demo', 'auto-fresh', project);
      emu.b.setFaults({ stuckUnavailable: true });
      const run = await auto.openRun(p, 'run-auto', undefined, { createdAtMs: Date.UTC(2021, 0, 1), ledgerStarted: false });
      expect(sleeps).toBe(0);
      run.appendFloats('loss', points(4));
      expect(await run.flush()).toEqual([]);
      expect(emu.b.inspect.floatSeries('demo/auto-fresh', 'run-auto', 'loss')).toEqual(points(4));
    } finally {
      await auto.close();
    }
  });

  it('a CreateRun not waited for that the server refuses fails the run\'s first wait with its refusal', async () => {
    emu = await startNeptuneEmulator({ workspaces: ['demo'] });
    target = new NeptuneBTarget({ token: emu.apiToken(), ingest: { sleep: async () => {} } });
    const p = await target.ensureProject('demo', 'refused', project);
    const run = await target.openRun(p, 'run-r', undefined, { createdAtMs: Date.UTC(1800, 0, 1), ledgerStarted: false });
    run.appendFloats('loss', points(3));
    await expect(run.flush()).rejects.toThrow(/Neptune refused to create run run-r in demo\/refused: RUN_INVALID_CREATION_PARAMETERS/);
    expect(emu.b.inspect.run('demo/refused', 'run-r')).toBeUndefined();
  });

  it('files: single PUT and S3 multipart through signed URLs, as FileRef fields under the set; bytes equal', async () => {
    emu = await startNeptuneEmulator({ workspaces: ['demo'], protocolB: { multipartThreshold: 1000, multipartPartSize: 300 } });
    target = new NeptuneBTarget({ token: emu.apiToken(), ingest: { sleep: async () => {} } });
    const p = await target.ensureProject('demo', 'files', project);
    const run = await target.openRun(p, 'run-f');
    const dir = mkdtempSync(join(tmpdir(), 'w2n-bfiles-'));
    try {
      const small = Buffer.from('print("hi")\n');
      const large = Buffer.from(Array.from({ length: 2500 }, (_, i) => i % 251));
      writeFileSync(join(dir, 'a.py'), small);
      writeFileSync(join(dir, 'model.ckpt'), large);
      const out = await run.uploadFileSet('source_code/files', [
        { localPath: join(dir, 'a.py'), relativePath: 'code/a.py', sizeBytes: small.length },
        { localPath: join(dir, 'model.ckpt'), relativePath: 'big/model.ckpt', sizeBytes: large.length },
        { localPath: join(dir, 'missing'), relativePath: 'gone.txt', sizeBytes: 3 },
      ]);
      expect(out.refused.map((o) => [o.reason, o.subject])).toEqual([['upload-failed', 'gone.txt']]);
      expect(out.alreadyPresent).toEqual([]);
      const attrs = emu.b.inspect.attributes('demo/files', 'run-f');
      for (const [path, bytes, mime] of [['source_code/files/code/a.py', small, 'text/plain'], ['source_code/files/big/model.ckpt', large, 'application/octet-stream']] as const) {
        const ref = attrs[path]?.value as { path: string; sizeBytes: number; mimeType: string };
        expect(ref, path).toMatchObject({ sizeBytes: bytes.length, mimeType: mime });
        expect(emu.b.inspect.object('demo/files', ref.path)?.data.equals(bytes), path).toBe(true);
      }
      expect(attrs['source_code/files/gone.txt']).toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('files of several sets in one call: one signed-URL request and one ingest of their refs; each refusal in its own set', async () => {
    emu = await startNeptuneEmulator({ workspaces: ['demo'] });
    target = new NeptuneBTarget({ token: emu.apiToken(), ingest: { sleep: async () => {} } });
    const p = await target.ensureProject('demo', 'sets', project);
    const run = await target.openRun(p, 'run-s');
    const dir = mkdtempSync(join(tmpdir(), 'w2n-bsets-'));
    try {
      const req = Buffer.from('numpy==2.0\n');
      const log = Buffer.from('hello\nworld\n');
      writeFileSync(join(dir, 'req'), req);
      writeFileSync(join(dir, 'log'), log);
      const before = { ...emu.stats().byEndpoint };
      const out = await run.uploadFileSets!([
        { path: 'source_code/files', entries: [{ localPath: join(dir, 'req'), relativePath: 'requirements.txt', sizeBytes: req.length }] },
        // The same relative path in the other set: its failure is that set's, not the first's.
        { path: 'files', entries: [{ localPath: join(dir, 'log'), relativePath: 'output.log', sizeBytes: log.length }, { localPath: join(dir, 'missing'), relativePath: 'requirements.txt', sizeBytes: 3 }] },
      ]);
      expect(out.map((set) => set.refused.map((o) => [o.reason, o.subject]))).toEqual([[], [['upload-failed', 'requirements.txt']]]);
      const sent = (name: string) => (emu!.stats().byEndpoint[name] ?? 0) - (before[name] ?? 0);
      expect([sent('signedUrlGeneric'), sent('storagePutObject'), sent('ingest')]).toEqual([1, 2, 1]);
      const attrs = emu.b.inspect.attributes('demo/sets', 'run-s');
      for (const [path, bytes] of [['source_code/files/requirements.txt', req], ['files/output.log', log]] as const) {
        const ref = attrs[path]?.value as { path: string; sizeBytes: number };
        expect(ref, path).toMatchObject({ sizeBytes: bytes.length });
        expect(emu.b.inspect.object('demo/sets', ref.path)?.data.equals(bytes), path).toBe(true);
      }
      expect(attrs['files/requirements.txt']).toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
