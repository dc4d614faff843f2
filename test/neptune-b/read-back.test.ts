import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNeptuneEmulator } from '../../emulators/neptune/server.ts';
import type { NeptuneEmulator } from '../../emulators/neptune/types.ts';
import { bSession, codes, PROJECT } from '../../emulators/neptune-b/test-session.ts';
import { encodeCreate, encodeUpdate } from '../../emulators/neptune-b/test-wire.ts';
import { createNeptuneSession, type NeptuneSession } from '../../src/sinks/neptune/client.ts';
import type { HeldField } from '../../src/sinks/neptune/read-back.ts';
import { NeptuneBReader, readHeld } from '../../src/sinks/neptune-b/read-back.ts';

/**
 * The product's Protocol B read-back (what `verify` reads) against the emulator's 3.x read API: a run
 * written over B with int64 fields, FileRefs whose bytes went to storage, float series at micro-second
 * steps, a string series, a file series (B's images) and a histogram series — every value read back
 * as it was written.
 */
let emu: NeptuneEmulator;
let session: NeptuneSession;
let reader: NeptuneBReader;
let id: string;
let held: Map<string, HeldField>;
const RUN = 'r-verify';
const LONG = 12_000;
const T0 = Date.UTC(2023, 4, 6, 7, 8, 9, 10);
const bytes = (i: number) => Buffer.from(`image ${i} `.repeat(i + 1));
const md5 = (b: Buffer) => createHash('md5').update(b).digest('base64');

beforeAll(async () => {
  emu = await startNeptuneEmulator({ protocolB: { statusDelayMs: 0 } });
  const b = await bSession(emu);
  await b.ingestProcessed(encodeCreate(PROJECT, RUN, { creationTime: T0 }, true));
  // The stored objects, uploaded through the storage bridge as a writer does.
  const objects: Array<[string, Buffer]> = [['o/model.txt', Buffer.from('weights')], ...[0, 1, 2].map((i): [string, Buffer] => [`o/${i}.png`, bytes(i)])];
  const signed = await b.api('/api/storagebridge/v1/signedUrl', {}, { body: { files: objects.map(([path, data]) => ({ project_identifier: PROJECT, path, permission: 'write', size: data.length })) } });
  for (const [i, f] of (signed.json as { files: Array<{ url: string }> }).files.entries()) {
    expect((await fetch(f.url, { method: 'PUT', body: new Uint8Array(objects[i][1]) })).status).toBe(200);
  }
  const { status } = await b.ingestProcessed(encodeUpdate(PROJECT, RUN, [
    { timestamp: T0, assign: { 'config/big': { int: 9007199254740993n }, 'files/model.txt': { fileRef: { path: 'o/model.txt', sizeBytes: 7, mimeType: 'text/plain' } } } },
    ...[0, 1, 2].map((i) => ({
      step: { whole: 10 + i, micro: 333_333 }, timestamp: T0 + i * 1000,
      append: {
        loss: { float: 1 / (i + 1) }, log: { string: `line ${i}` },
        samples: { fileRef: { path: `o/${i}.png`, sizeBytes: bytes(i).length, mimeType: 'image/png' } },
        weights: { histogram: { edges: [0, 1, 2], counts: [i, i + 1] } },
      },
    })),
  ]));
  expect(codes(status)).toEqual({ 0: 14 });
  // A string series longer than a page (a long console): 12,000 lines, in one request.
  const long = await b.ingestProcessed(encodeUpdate(PROJECT, RUN, Array.from({ length: LONG }, (_, i) => ({
    step: { whole: i, micro: 0 }, timestamp: T0 + i, append: { 'monitoring/stdout': { string: `console ${i}` } },
  }))));
  expect(codes(long.status)).toEqual({ 0: LONG });
  session = createNeptuneSession({ env: { NEPTUNE_API_TOKEN: emu.apiToken() } });
  reader = new NeptuneBReader(session);
  const [workspace, name] = PROJECT.split('/');
  id = (await reader.findRun((await reader.project(workspace, name))!, { customRunId: RUN }))!;
  held = await reader.fields(id);
});
afterAll(async () => {
  await session?.http.close();
  await emu?.close();
});

describe('Protocol B read-back (src/sinks/neptune-b/read-back.ts)', () => {
  it('fields: int64 exact, FileRefs with their path and size, series with their last step', () => {
    expect(held.get('config/big')).toEqual({ type: 'int', value: 9007199254740993n });
    expect(held.get('files/model.txt')).toEqual({ type: 'fileRef', value: { path: 'o/model.txt', sizeBytes: 7, mimeType: 'text/plain' } });
    expect(held.get('loss')).toMatchObject({ type: 'floatSeries', lastStep: 12.333333 });
    expect(held.get('samples')).toMatchObject({ type: 'fileRefSeries', lastStep: 12.333333 });
    expect(held.get('weights')).toMatchObject({ type: 'histogramSeries', lastStep: 12.333333 });
  });

  it("the writer's resume reads the same run the same way: found by custom run id, each series' last step, each FileRef's size", async () => {
    expect(id).toMatch(new RegExp(`^${PROJECT}/[^/]+$`)); // neptune-query's RunIdentifier: <workspace>/<project>/<sys/id>
    const state = await readHeld(session.api, PROJECT, RUN);
    expect(Object.fromEntries(state.lastSteps)).toEqual({ loss: 12.333333, log: 12.333333, samples: 12.333333, weights: 12.333333, 'monitoring/stdout': LONG - 1 });
    expect(Object.fromEntries(state.fileRefs)).toEqual({ 'files/model.txt': 7 });
    expect(state.types).toEqual(new Map([...held].map(([path, f]) => [path, f.type])));
    expect(state.types.get('config/big')).toBe('int');
    // A run no search finds holds nothing (a fresh run of a migration).
    expect(await readHeld(session.api, PROJECT, 'no-such-run')).toEqual({ lastSteps: new Map(), fileRefs: new Map(), types: new Map(), sets: new Map() });
  });

  it('a string series longer than a page is read whole, every line at its step and time (the page size is no cap)', async () => {
    const got: Array<[number, number, string]> = [];
    for await (const p of reader.series(id, 'monitoring/stdout', 'string')) got.push([p.step, p.timestampMs, p.value as string]);
    expect(got).toEqual(Array.from({ length: LONG }, (_, i) => [i, T0 + i, `console ${i}`]));
  });

  it('steps as B keeps them: to the microsecond, as the writer truncates', () => {
    expect(reader.heldStep(10 + 1 / 3)).toBe(10.333333);
    expect(reader.heldStep(7)).toBe(7);
  });

  it('float series one at a time and many per request; string series', async () => {
    const one = [];
    for await (const p of reader.series(id, 'loss', 'float')) one.push(p);
    expect(one).toEqual([0, 1, 2].map((i) => ({ step: 10 + i + 0.333333, timestampMs: T0 + i * 1000, value: 1 / (i + 1) })));
    const many: Array<[string, number]> = [];
    await reader.floatSeriesMany(id, ['loss'], (path, p) => many.push([path, p.value]));
    expect(many).toEqual([['loss', 1], ['loss', 0.5], ['loss', 1 / 3]]);
    const log = [];
    for await (const p of reader.series(id, 'log', 'string')) log.push([p.step, p.value]);
    expect(log).toEqual([[10.333333, 'line 0'], [11.333333, 'line 1'], [12.333333, 'line 2']]);
  });

  it('files: the FileRefs under a namespace, and the bytes in storage (MD5, size)', async () => {
    expect(await reader.fileSet(id, 'files', held)).toEqual(new Map([['model.txt', 7]]));
    expect(await reader.fileDigest(id, 'files', 'model.txt', held)).toEqual({ size: 7, md5: md5(Buffer.from('weights')) });
  });

  it("images: a file series' points with the bytes each points at", async () => {
    const got = [];
    for await (const x of reader.images(id, 'samples', held)) got.push(x);
    expect(got).toEqual([0, 1, 2].map((i) => ({ step: 10 + i + 0.333333, size: bytes(i).length, md5: md5(bytes(i)) })));
  });

  it('histograms: edges and values per step', async () => {
    const got = [];
    for await (const h of reader.histograms(id, 'weights')) got.push(h);
    expect(got).toEqual([0, 1, 2].map((i) => ({ step: 10 + i + 0.333333, timestampMs: T0 + i * 1000, type: 'COUNTS', edges: [0, 1, 2], values: [i, i + 1] })));
  });
});
