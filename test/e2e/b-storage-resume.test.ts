/**
 * Protocol B's uploads to storage, through the CLI:
 * - `kill -9` after storage stored a file's bytes and before the `FileRef` pointing at them was
 *   acknowledged (the emulator's storage tells the test when it stored the object, before it answers;
 *   statuses stop being processed there too, so the FileRef cannot land). The storage holds the object,
 *   the run no field for it. The resumed migration finds the object whole, with the same bytes, and
 *   does not send them again: the storage receives no byte on the second pass, and holds W&B's bytes.
 * - storage failing past the retries (503) is not Neptune refusing the file: the run is left not done
 *   (exit 3), as over Protocol A, and the next pass lands the file — not an `upload-failed` line and a
 *   run done without it.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Stack } from '../../emulators/stack.ts';
import type { GenRun } from '../../emulators/wandb/index.ts';
import { patternFile } from '../../emulators/wandb/generator/artifacts.ts';
import { events, runCli } from '../support/cli.ts';
import { fileBytes } from '../support/expected.ts';
import { closeStackInTemp, startStackInTemp } from '../support/stack-in-temp.ts';

const CREATED = '2024-03-01T00:00:00';
const PROJECT = 'bkill_proj';
const RUN = 'bkillrun01';
const BIG = patternFile('weights/big.bin', 700_000, 7);

const genRun = (id: string, files: GenRun['files']): GenRun => ({
  id, displayName: id, tags: [], state: 'finished', createdAt: CREATED, heartbeatAt: CREATED, user: 'u', config: {}, summary: {},
  historyRowCount: 0, lastStep: -1, history: () => [], exportedBelowStep: 0,
  systemEvents: () => [], systemEventCount: 0, eventsFileListed: false, consoleLines: [], files,
});
const run = genRun(RUN, [BIG]);
const FAIL_PROJECT = 'bfail_proj';
const FAIL_RUN = 'bfailrun01';
const CKPT = patternFile('model.ckpt', 50_000, 3);

let stack: Stack;
let dir: string;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

beforeAll(async () => {
  ({ stack, dir } = await startStackInTemp('w2n-b-upload-kill-', {
    entity: { name: 'bkill-team', projects: [{ name: PROJECT, createdAt: CREATED, runs: [run] }, { name: FAIL_PROJECT, createdAt: CREATED, runs: [genRun(FAIL_RUN, [CKPT])] }], artifacts: [] },
    neptune: { protocolB: { statusDelayMs: 5 } },
  }));
}, 60_000);

afterAll(() => closeStackInTemp(stack, dir));

type Report = { runs: Array<{ status: string; error?: string; written: Record<string, number>; notWritten: Array<{ reason: string }> }> };
const reportOf = (stdout: string) => (events(stdout).find((e) => e.type === 'report') as unknown as { report: Report }).report;

describe('Protocol B storage uploads', () => {
  it('kill -9 between the storage upload and the FileRef acknowledgement: the resumed migration sends none of the bytes storage holds, and the FileRef points at W&B\'s bytes', async () => {
    const args = ['migrate', '--workspace', 'demo', '--projects', PROJECT, '--protocol', 'b', '--yes', '--json', '--ledger', join(dir, 'kill.sqlite')];
    const project = 'demo/bkill-proj';
    const attribute = 'files/weights/big.bin';
    const b = stack.neptune.b;

    const first = runCli(args, stack.env, dir);
    let storedPath: string | undefined;
    const stop = b.onStored((o) => {
      if (storedPath || !o.path.endsWith(attribute)) return;
      storedPath = o.path;
      // Nothing the client sends from here is processed, and it dies before it reads the answer.
      b.setFaults({ stuckUnavailable: true });
      first.child.kill('SIGKILL');
    });
    const killed = await first.done;
    stop();
    b.setFaults(undefined);
    expect(killed.signal, killed.stderr.slice(-2000)).toBe('SIGKILL');
    expect(storedPath).toBeDefined();
    // The window: storage holds the bytes, the run no FileRef for them.
    expect(b.inspect.object(project, storedPath!)?.data.equals(fileBytes(BIG))).toBe(true);
    expect(b.inspect.attributes(project, RUN)[attribute]).toBeUndefined();

    const before = b.stats().storagePutBytes;
    const second = await runCli(args, stack.env, dir).done;
    expect(second.code, second.stderr.slice(-2000)).toBe(0);
    expect(b.stats().storagePutBytes - before).toBe(0);
    const ref = b.inspect.attributes(project, RUN)[attribute];
    expect(ref).toMatchObject({ type: 'fileRef', value: { path: storedPath, sizeBytes: BIG.sizeBytes } });
    expect(sha(b.inspect.object(project, (ref.value as { path: string }).path)!.data)).toBe(sha(fileBytes(BIG)));
    const report = reportOf(second.stdout);
    expect(report.runs[0].status).toBe('migrated');
    // Storage held the bytes and received none: the file was already there, this pass wrote no byte of it.
    expect(report.runs[0].written).toMatchObject({ filesAlreadyPresent: 1 });
    expect(report.runs[0].written.files ?? 0).toBe(0);
    expect(report.runs[0].written.bytes ?? 0).toBe(0);
  }, 120_000);

  it('storage failing past the retries (503 to the upload): the run not done (exit 3), no upload-failed line; the next pass lands the file', async () => {
    const args = ['migrate', '--workspace', 'demo', '--projects', FAIL_PROJECT, '--protocol', 'b', '--retries', '0', '--yes', '--json', '--ledger', join(dir, 'fail.sqlite')];
    const project = 'demo/bfail-proj';
    const attribute = 'checkpoints/model.ckpt';
    const b = stack.neptune.b;
    b.setFaults({ force5xx: { count: 1, status: 503 }, only: 'upload' });
    const first = await runCli(args, stack.env, dir).done;
    b.setFaults(undefined);
    expect(first.code, first.stderr.slice(-2000)).toBe(3);
    const failed = reportOf(first.stdout).runs[0];
    expect(failed.status).toBe('failed');
    expect(failed.error).toMatch(/HTTP 503/);
    expect(failed.notWritten.filter((o) => o.reason === 'upload-failed')).toEqual([]);
    expect(b.inspect.attributes(project, FAIL_RUN)[attribute]).toBeUndefined();

    const second = await runCli(args, stack.env, dir).done;
    expect(second.code, second.stderr.slice(-2000)).toBe(0);
    const done = reportOf(second.stdout).runs[0];
    expect(done.status).toBe('migrated');
    expect(done.notWritten.filter((o) => o.reason === 'upload-failed')).toEqual([]);
    const ref = b.inspect.attributes(project, FAIL_RUN)[attribute];
    expect(ref).toMatchObject({ type: 'fileRef', value: { sizeBytes: CKPT.sizeBytes } });
    expect(sha(b.inspect.object(project, (ref.value as { path: string }).path)!.data)).toBe(sha(fileBytes(CKPT)));
  }, 120_000);
});
