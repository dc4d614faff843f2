/**
 * Issue 11 (Protocol B column) and issue 10 (histograms): the all-shapes run `media-everything`, with
 * every media kind in history (half in the parquet export, half in the live tail) and in the summary,
 * migrated through the CLI over Protocol A and over Protocol B into one emulator, and read back:
 * image bytes per step (A: image series; B: file series of FileRefs whose bytes are in storage),
 * histogram bins and values per step (A: one JSON file per step; B: histogram series, the 600-bin one
 * a file and a report line), table contents, every other media file's bytes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../../emulators/stack.ts';
import { session } from '../../emulators/neptune/test-client.ts';
import { bSession } from '../../emulators/neptune-b/test-session.ts';
import { decodeSeriesValues } from '../../emulators/neptune-b/test-wire.ts';
import { generateEntity, type GenRun } from '../../emulators/wandb/index.ts';
import { MEDIA_EVERYTHING } from '../../emulators/wandb/generator/all-shapes.ts';
import { events, runCli } from '../support/cli.ts';
import { bStep, expectedTableCsv, fileBytes } from '../support/expected.ts';
import { neptuneRunId } from '../support/neptune-snapshot.ts';

interface Report {
  runs: Array<{ run: string; written: Record<string, number>; notWritten: Array<{ reason: string; subject: string; count: number; detail?: string }> }>;
}

let stack: Stack;
let dir: string;
let run: GenRun;
const reports: Record<'a' | 'b', Report> = {} as Record<'a' | 'b', Report>;
const PROJECT = { a: 'demo/media-a', b: 'demo/media-b' };

async function migrate(protocol: 'a' | 'b'): Promise<Report> {
  const out = await runCli([
    'migrate', '--workspace', 'demo', '--projects', 'vision-models', '--runs', run.id, '--project-map', `vision-models=media-${protocol}`,
    '--protocol', protocol, '--yes', '--json', '--ledger', join(dir, `${protocol}.sqlite`),
  ], stack.env, dir).done;
  expect(out.code, out.stderr).toBe(0);
  return (events(out.stdout).find((e) => e.type === 'report') as unknown as { report: Report }).report;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'w2n-media-b-'));
  const entity = generateEntity({ seed: 7, preset: 'all-shapes', entity: 'media-team' });
  const vision = entity.projects.find((p) => p.name === 'vision-models')!;
  run = vision.runs.find((r) => r.displayName === MEDIA_EVERYTHING)!;
  stack = await startStack({ entity: { name: entity.name, projects: [{ ...vision, runs: [run] }] }, workDir: join(dir, 'export'), neptune: { protocolB: { statusDelayMs: 5, unavailableChecks: 1 } } });
  reports.a = await migrate('a');
  reports.b = await migrate('b');
}, 180_000);

afterAll(async () => {
  await stack?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const rows = () => [...run.history()];
const bytesOf = (name: string) => fileBytes(run.files.find((f) => f.name === name)!);
const b = () => stack.neptune.b.inspect;
const aId = () => neptuneRunId(stack.neptune, PROJECT.a, run.id)!;
const aSet = (path: string) => stack.neptune.inspect.fileSet(aId(), path);
/** A FileRef field of the B run → the bytes storage holds for it. */
const bFile = (path: string) => {
  const ref = b().attributes(PROJECT.b, run.id)[path]?.value as { path: string; sizeBytes: number | bigint } | undefined;
  expect(ref, path).toBeDefined();
  const o = b().object(PROJECT.b, ref!.path)!;
  expect(o.data.length, path).toBe(Number(ref!.sizeBytes));
  return o.data;
};

/** Images of a key in step order: step (+ i/n for n images in a row), bytes and caption. */
function sourceImages(key: string): Array<{ step: number; ts: number; bytes: Buffer; caption: string }> {
  return rows().flatMap((r) => {
    const v = r[key] as { _type: string; path?: string; caption?: string; filenames?: string[]; captions?: string[] } | undefined;
    if (!v) return [];
    const ts = Math.round((r._timestamp as number) * 1000);
    const files = v._type === 'image-file' ? [{ f: v.path!, c: v.caption! }] : v.filenames!.map((f, i) => ({ f, c: v.captions![i] }));
    return files.map((x, i) => ({ step: (r._step as number) + i / files.length, ts, bytes: bytesOf(x.f), caption: x.c }));
  });
}

/** Histograms of a key in step order, edges unpacked from `packedBins`. */
function sourceHistograms(key: string): Array<{ step: number; ts: number; bins: number[]; values: number[] }> {
  return rows().filter((r) => r[key]).map((r) => {
    const h = r[key] as { bins?: number[]; packedBins?: { min: number; size: number; count: number }; values: number[] };
    const bins = h.bins ?? Array.from({ length: h.packedBins!.count + 1 }, (_, i) => h.packedBins!.min + i * h.packedBins!.size);
    return { step: r._step as number, ts: Math.round((r._timestamp as number) * 1000), bins, values: h.values };
  });
}

describe(`${MEDIA_EVERYTHING} over A and over B reads back equal (issues 10, 11)`, () => {
  it('the run logs every media kind in history, in the parquet export and in the live tail, and in the summary', () => {
    const types = (rs: Array<Record<string, unknown>>) => new Set(rs.flatMap((r) => Object.values(r).map((v) => (v && typeof v === 'object' && !Array.isArray(v) ? (v as { _type?: string })._type : Array.isArray(v) ? 'list' : undefined))));
    const all = ['image-file', 'images/separated', 'histogram', 'table-file', 'joined-table', 'audio-file', 'video-file', 'html-file', 'object3D-file', 'plotly-file', 'molecule-file', 'bokeh-file', 'graph-file', 'list'];
    const exported = rows().filter((r) => (r._step as number) < run.exportedBelowStep);
    const tail = rows().filter((r) => (r._step as number) >= run.exportedBelowStep);
    for (const t of all) {
      expect(types(exported), t).toContain(t);
      expect(types(tail), t).toContain(t);
    }
    expect(types([run.summary]).size).toBeGreaterThanOrEqual(all.length);
  });

  it('images: per step the same bytes over A (image series) and B (file series, FileRef → storage); captions as description (A) and `<key>_caption` (B)', async () => {
    const neptune = await session(stack.neptune);
    for (const key of ['samples', 'grid']) {
      const want = sourceImages(key);
      expect(want.length).toBeGreaterThan(3);
      // A: the served image-series reads.
      const count = await neptune.api('/api/leaderboard/v1/attributes/series/image', { experimentId: aId(), attribute: key });
      expect(count.json).toEqual({ totalItemCount: want.length });
      const aDesc = stack.neptune.inspect.stringSeries(aId(), key).map((e) => [e.step, (JSON.parse(e.value) as { description?: string }).description]);
      expect(aDesc).toEqual(want.map((w) => [w.step, w.caption]));
      // B: one FileRef per step (steps truncated to a millionth, neptune-api.md §3.4), its bytes in storage.
      const refs = b().fileRefSeries(PROJECT.b, run.id, key);
      expect(refs.map((p) => [p.step, p.timestampMs])).toEqual(want.map((w) => [bStep(w.step), w.ts]));
      expect(b().stringSeries(PROJECT.b, run.id, `${key}_caption`).map((p) => p.value)).toEqual(want.map((w) => w.caption));
      for (const [i, w] of want.entries()) {
        const one = await neptune.api('/api/leaderboard/v1/attributes/series/image/single', { experimentId: aId(), attribute: key, index: i });
        expect(one.bytes.equals(w.bytes), `A ${key} #${i}`).toBe(true);
        const object = b().object(PROJECT.b, refs[i].value.path);
        expect(object?.data.equals(w.bytes), `B ${key} #${i}`).toBe(true);
        expect(refs[i].value).toMatchObject({ sizeBytes: w.bytes.length, mimeType: 'image/png' });
      }
    }
  });

  it('histograms: bins and values per step — A one JSON per step, B a histogram series (counts, densities); over 512 bins a file on B too, reported', () => {
    for (const key of ['weights', 'grads', 'acts']) {
      const want = sourceHistograms(key);
      const a = aSet(`media/histograms/${key}`);
      expect(Object.keys(a).length, key).toBe(want.length);
      for (const w of want) expect(JSON.parse(a[`${w.step}.json`].toString('utf8')), `A ${key} ${w.step}`).toEqual({ bins: w.bins, values: w.values });
      const got = b().histogramSeries(PROJECT.b, run.id, key);
      expect(got.map((p) => ({ step: p.step, ts: p.timestampMs, bins: p.value.edges, values: p.value.values })), `B ${key}`).toEqual(want);
      expect(new Set(got.map((p) => p.value.type))).toEqual(new Set([key === 'grads' ? 'DENSITIES' : 'COUNTS']));
    }
    const wide = sourceHistograms('wide');
    expect(b().histogramSeries(PROJECT.b, run.id, 'wide')).toEqual([]);
    for (const w of wide) {
      expect(JSON.parse(aSet('media/histograms/wide')[`${w.step}.json`].toString('utf8'))).toEqual({ bins: w.bins, values: w.values });
      expect(JSON.parse(bFile(`media/histograms/wide/${w.step}.json`).toString('utf8'))).toEqual({ bins: w.bins, values: w.values });
    }
    const line = reports.b.runs[0].notWritten.find((o) => o.subject === 'wide');
    expect(line).toMatchObject({ reason: 'field-limit', count: wide.length, detail: expect.stringContaining('600 bins, more than 512') });
    expect(reports.a.runs[0].notWritten.find((o) => o.subject === 'wide')).toBeUndefined();
  });

  it('B read-back over HTTP, as a 3.x client reads: `proto/attributes/series` gives the FileRefs and histograms, a read URL the image bytes', async () => {
    const api = await bSession(stack.neptune);
    const req = (attribute: string) => ({ requestId: attribute, series: { holder: { identifier: `${PROJECT.b}/${run.id}`, type: 'experiment' }, attribute } });
    const r = await api.api('/api/leaderboard/v1/proto/attributes/series', {}, { body: { requests: [req('grid'), req('grads')], perSeriesPointsLimit: 100 } });
    expect(r.status).toBe(200);
    const [grid, grads] = decodeSeriesValues(r.bytes);
    const images = sourceImages('grid');
    expect(grid.points.map((p) => [p.step, p.timestampMillis, p.fileRef?.sizeBytes])).toEqual(images.map((w) => [bStep(w.step), w.ts, w.bytes.length]));
    expect(grads.points.map((p) => [p.step, p.histogram])).toEqual(sourceHistograms('grads').map((h) => [h.step, { type: 'DENSITIES', edges: h.bins, values: h.values }]));
    const signed = await api.api('/api/storagebridge/v1/signedUrl', {}, { body: { files: [{ project_identifier: PROJECT.b, path: grid.points[1].fileRef!.path, permission: 'read' }] } });
    const got = await api.call((signed.json as { files: Array<{ url: string }> }).files[0].url);
    expect(got.bytes.equals(images[1].bytes)).toBe(true);
  });

  it('tables (JSON and CSV), joined table and every other media file: the same bytes over A (file sets) and B (FileRef files)', () => {
    const kinds: Record<string, string> = { preds: 'tables', joined: 'tables', audio: 'audio', video: 'video', page: 'html', cloud: 'object3D', fig: 'plotly', mol: 'molecule', bokeh: 'bokeh', net: 'graph' };
    let checked = 0;
    for (const r of rows()) {
      for (const [key, dir] of Object.entries(kinds)) {
        const v = r[key] as { path: string } | undefined;
        if (!v) continue;
        const name = v.path.slice(v.path.lastIndexOf('/') + 1);
        const rel = `${r._step as number}.${name.slice(name.indexOf('.') + 1)}`;
        const want = bytesOf(v.path);
        expect(aSet(`media/${dir}/${key}`)[rel]?.equals(want), `A ${key} ${rel}`).toBe(true);
        expect(bFile(`media/${dir}/${key}/${rel}`).equals(want), `B ${key} ${rel}`).toBe(true);
        if (key === 'preds') {
          const csv = expectedTableCsv(want);
          expect(aSet('media/tables/preds')[`${r._step as number}.csv`].toString('utf8')).toBe(csv);
          expect(bFile(`media/tables/preds/${r._step as number}.csv`).toString('utf8')).toBe(csv);
        }
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(20);
  });

  it('lists: short ones as string series on both; the long one a file per step on A, a string series on B (1 MiB entries)', () => {
    for (const key of ['tokens', 'vec']) {
      const want = rows().filter((r) => r[key]).map((r) => [r._step, JSON.stringify(r[key])]);
      expect(stack.neptune.inspect.stringSeries(aId(), key).map((e) => [e.step, e.value])).toEqual(want);
      expect(b().stringSeries(PROJECT.b, run.id, key).map((e) => [e.step, e.value])).toEqual(want);
    }
    const long = rows().filter((r) => r.ids);
    for (const r of long) expect(JSON.parse(aSet('media/lists/ids')[`${r._step as number}.json`].toString('utf8'))).toEqual(r.ids);
    expect(b().stringSeries(PROJECT.b, run.id, 'ids').map((e) => [e.step, JSON.parse(e.value)])).toEqual(long.map((r) => [r._step, r.ids]));
  });

  it('summary media: the same files under summary/media/… on both', () => {
    const s = run.summary as Record<string, { _type?: string; path?: string; filenames?: string[] }>;
    const img = s.samples.path!;
    expect(aSet('summary/media/images/samples')['summary.png'].equals(bytesOf(img))).toBe(true);
    expect(bFile('summary/media/images/samples/summary.png').equals(bytesOf(img))).toBe(true);
    s.grid.filenames!.forEach((f, i) => {
      expect(aSet('summary/media/images/grid')[`summary_${i}.png`].equals(bytesOf(f))).toBe(true);
      expect(bFile(`summary/media/images/grid/summary_${i}.png`).equals(bytesOf(f))).toBe(true);
    });
    const hist = s.weights as unknown as { bins: number[]; values: number[] };
    expect(JSON.parse(aSet('summary/media/histograms/weights')['summary.json'].toString('utf8'))).toEqual({ bins: hist.bins, values: hist.values });
    expect(JSON.parse(bFile('summary/media/histograms/weights/summary.json').toString('utf8'))).toEqual({ bins: hist.bins, values: hist.values });
    expect(bFile(`summary/media/audio/audio/summary.wav`).equals(bytesOf(s.audio.path!))).toBe(true);
  });

  it('the report: images and histogram points counted as written; nothing refused but the 600-bin histogram (B) and the raw media/ files left by default', () => {
    for (const p of ['a', 'b'] as const) {
      const r = reports[p].runs[0];
      expect(r.written.images, p).toBe(sourceImages('samples').length + sourceImages('grid').length);
      const other = r.notWritten.filter((o) => o.reason !== 'excluded-by-default' && !(p === 'b' && o.subject === 'wide'));
      expect(other, p).toEqual([]);
    }
    expect(reports.b.runs[0].written.histograms).toBe(['weights', 'grads', 'acts'].reduce((n, k) => n + sourceHistograms(k).length, 0));
  });
});
