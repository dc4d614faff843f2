/**
 * Protocol B: images storage already held when they are sent again count as already in Neptune, with
 * no bytes written — the rule files follow (uploads.ts `held`, FileSetAnswer.alreadyPresent). A first
 * pass uploaded a history image series' bytes, then its FileRefs could not be written (the ingest of
 * them answered 503 past the retries, through a proxy): the run is not done. The second pass finds
 * the objects in storage and sends no byte; before, its report still added every image's size to
 * `imageBytes` and counted them as written by this pass. Through the CLI; the counts are compared with
 * the file series the emulator holds and the bytes its storage received.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Stack } from '../../emulators/stack.ts';
import type { GenRun } from '../../emulators/wandb/index.ts';
import { bufferFile } from '../../emulators/wandb/generator/files.ts';
import { PROBE_MIN_BYTES } from '../../src/sinks/neptune-b/uploads.ts';
import { startNeptuneProxy, type NeptuneProxy } from '../neptune/proxy.ts';
import { events, runCli } from '../support/cli.ts';
import { closeStackInTemp, startStackInTemp } from '../support/stack-in-temp.ts';

const T0 = 1_704_067_200;
const CREATED = '2024-01-01T00:00:00';
const PROJECT = 'held_images';
const TARGET = 'demo/held-images';
const RUN = 'heldimg01';
const STEPS = [0, 1, 2, 3];
// Big enough to be looked for in storage before it is sent again (smaller ones are simply re-sent).
const png = (n: number) => Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(PROBE_MIN_BYTES + n * 7, n)]);
const imageName = (step: number) => `media/images/pictures_${step}_a.png`;
const ROWS = STEPS.map((step) => ({
  _step: step, _timestamp: T0 + step + 0.5, _runtime: step + 0.5, loss: 1 / (step + 1),
  pictures: { _type: 'image-file', path: imageName(step), format: 'png', width: 8, height: 8, size: png(step).length },
}));
const run: GenRun = {
  id: RUN, displayName: RUN, tags: [], state: 'finished', createdAt: CREATED, heartbeatAt: CREATED, user: 'u', config: {}, summary: { loss: 0.25 },
  historyRowCount: ROWS.length, lastStep: ROWS.length - 1, history: () => ROWS, exportedBelowStep: 0,
  systemEvents: () => [], systemEventCount: 0, eventsFileListed: false, consoleLines: [],
  files: STEPS.map((s) => bufferFile(imageName(s), png(s))),
};

let stack: Stack;
let dir: string;
let proxy: NeptuneProxy;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

beforeAll(async () => {
  ({ stack, dir } = await startStackInTemp('w2n-held-images-', {
    entity: { name: 'held-team', projects: [{ name: PROJECT, createdAt: CREATED, runs: [run] }], artifacts: [] },
    neptune: { protocolB: { statusDelayMs: 2 } },
  }));
  proxy = await startNeptuneProxy(stack.neptune);
}, 60_000);

afterAll(async () => {
  await proxy?.close();
  await closeStackInTemp(stack, dir);
});

type Report = { runs: Array<{ status: string; written: Record<string, number>; notWritten: unknown[] }> };
async function migrate(): Promise<{ code: number | null; report: Report; stderr: string }> {
  const env = { ...stack.env, NEPTUNE_API_TOKEN: proxy.apiToken() };
  const out = await runCli(['migrate', '--workspace', 'demo', '--projects', PROJECT, '--protocol', 'b', '--retries', '0', '--yes', '--json', '--ledger', join(dir, 'ledger.sqlite')], env, dir).done;
  return { code: out.code, stderr: out.stderr, report: (events(out.stdout).find((e) => e.type === 'report') as unknown as { report: Report }).report };
}

describe('Protocol B: images storage already held at the upload', () => {
  it('count as already present with no bytes written, as storage received none', async () => {
    // The FileRefs of the image series (their bodies name its storage paths) are refused for now.
    const marker = Buffer.from(`${RUN}/pictures/`);
    proxy.decide = (r) => (r.path.startsWith('/api/client/v1/ingest') && r.body.includes(marker) ? { kind: 'respond', status: 503, json: { message: 'unavailable' } } : { kind: 'forward' });
    const first = await migrate();
    expect(first.code, first.stderr.slice(-2000)).toBe(3);
    expect(first.report.runs[0].status).toBe('failed');
    const b = stack.neptune.b.inspect;
    expect(b.fileRefSeries(TARGET, RUN, 'pictures')).toEqual([]);

    proxy.decide = undefined;
    const putBefore = stack.neptune.b.stats().storagePutBytes;
    const second = await migrate();
    expect(second.code, second.stderr.slice(-2000)).toBe(0);
    const sent = stack.neptune.b.stats().storagePutBytes - putBefore;
    // What the run holds: every image, in step order, with W&B's bytes.
    const held = b.fileRefSeries(TARGET, RUN, 'pictures');
    expect(held.map((p) => [p.step, sha(b.object(TARGET, p.value.path)!.data)])).toEqual(STEPS.map((s) => [s, sha(png(s))]));
    // Storage received none of their bytes this pass; the report says so.
    expect(sent).toBe(0);
    const r = second.report.runs[0];
    expect(r.status).toBe('migrated');
    expect(r.written.imageBytes ?? 0).toBe(sent);
    expect(r.written.images ?? 0).toBe(0);
    expect(r.written.imagesAlreadyPresent).toBe(held.length);
  }, 120_000);
});
