import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { RunFile, RunInfo } from '../core/records.ts';
import type { HistogramPoint } from '../core/target.ts';
import { isAbortError, isFileGone } from '../core/errors.ts';
import { mapSummaryMedia, tableCsv, type MappedMedia, type MediaSource } from '../mapping/media.ts';
import { digestStream, type HeldField } from '../sinks/neptune/read-back.ts';
import { base64Md5, compareFileSet, type WantedFile } from './compare-files.ts';
import type { OnOmission } from './expected.ts';
import type { Difference, RunVerification } from './types.ts';
import type { VerifyRunContext } from './verify-run.ts';

/** Held field types of an image series: Protocol A's image series, Protocol B's file series. */
const IMAGE_TYPES: ReadonlySet<string> = new Set(['imageSeries', 'fileRefSeries']);

/**
 * The media the migration of a run carries, as the mapping gives them (mapping/media.ts): image-series
 * points per series path, histogram-series points per series path (B), and media files per file set. Filled during verify's history pass (so the
 * history is read once), then the summary's.
 */
export class ExpectedMedia {
  readonly images = new Map<string, { key: string; points: Array<{ step: number; runFile: string }> }>();
  readonly histograms = new Map<string, { key: string; points: HistogramPoint[] }>();
  readonly files = new Map<string, Map<string, { key: string; source: MediaSource }>>();

  add(m: MappedMedia): void {
    for (const h of m.histograms) {
      let s = this.histograms.get(h.path);
      if (!s) this.histograms.set(h.path, (s = { key: h.key, points: [] }));
      s.points.push(h.point);
    }
    for (const i of m.images) {
      let s = this.images.get(i.path);
      if (!s) this.images.set(i.path, (s = { key: i.key, points: [] }));
      s.points.push({ step: i.step, runFile: i.runFile });
    }
    for (const f of m.files) {
      let s = this.files.get(f.fileSet);
      if (!s) this.files.set(f.fileSet, (s = new Map()));
      s.set(f.relativePath, { key: f.key, source: f.source });
    }
  }
}

type Digest = { size: number; md5: string };

/** The bytes of a media file as the source gives them now, hashed (W&B's listed MD5 where it has one). */
class SourceBytes {
  private listing?: Promise<Map<string, RunFile>>;

  constructor(private readonly run: RunInfo, private readonly ctx: VerifyRunContext) {}

  private file(name: string): Promise<RunFile | undefined> {
    this.listing ??= (async () => {
      const m = new Map<string, RunFile>();
      for await (const f of this.ctx.source.files(this.run, this.ctx.signal)) m.set(f.name, f);
      return m;
    })();
    return this.listing.then((m) => m.get(name));
  }

  /**
   * Undefined: the source says these bytes are gone (not listed, 404/410, gone from disk: the
   * migration reported the same). A failure a later try may pass (5xx, resets) is thrown: the run
   * cannot be verified now, rather than verified without the file.
   */
  async digest(src: MediaSource): Promise<Digest | undefined> {
    if ('text' in src) return textDigest(src.text);
    const file = await this.file(src.runFile);
    if (!file) return undefined;
    if (!src.render && file.md5) return { size: file.sizeBytes, md5: base64Md5(file.md5) };
    try {
      const local = await this.ctx.source.fetchFile(this.run, file, this.ctx.signal);
      try {
        if (!src.render) return await digestStream(createReadStream(local.path));
        const csv = tableCsv(JSON.parse(await readFile(local.path, 'utf8')));
        return csv === undefined ? undefined : textDigest(csv);
      } finally {
        await local.release().catch(() => {});
      }
    } catch (error) {
      if (isAbortError(error) || this.ctx.signal?.aborted || !isFileGone(error)) throw error;
      return undefined;
    }
  }
}

function textDigest(text: string): Digest {
  const b = Buffer.from(text, 'utf8');
  return { size: b.length, md5: createHash('md5').update(b).digest('base64') };
}

/**
 * Media (issue 12): every image series — count, first and last step, and each image's bytes in step
 * order — and every media file (histograms, tables and their CSV, lists, audio, video, html…) with
 * size and MD5. Protocol A holds images as image series and media files in file sets `media/…`;
 * Protocol B as file series and `FileRef` fields under `media/…`, and histograms, where the target
 * took them as such, as histogram series (compared bin by bin).
 */
export async function compareMedia(
  run: RunInfo,
  containerId: string,
  held: ReadonlyMap<string, HeldField>,
  media: ExpectedMedia,
  ctx: VerifyRunContext,
  onOmission: OnOmission,
  result: RunVerification,
): Promise<Difference[]> {
  const summary = mapSummaryMedia(run.summary, ctx.mapping);
  for (const o of summary.omissions) onOmission('fields', o);
  media.add(summary);
  const bytes = new SourceBytes(run, ctx);
  const diffs: Difference[] = [];
  for (const [path, x] of media.images) diffs.push(...(await compareImages(path, x.key, x.points, containerId, held, bytes, ctx, result)));
  for (const [path, h] of held) {
    if (IMAGE_TYPES.has(h.type) && !media.images.has(path)) diffs.push({ scope: 'image', subject: path, detail: `a ${h.type} in Neptune that the W&B run does not give` });
  }
  for (const [path, x] of media.histograms) diffs.push(...(await compareHistograms(path, x.key, x.points, containerId, held, ctx, result)));
  for (const [path, h] of held) {
    if (h.type === 'histogramSeries' && !media.histograms.has(path)) diffs.push({ scope: 'media', subject: path, detail: 'a histogramSeries in Neptune that the W&B run does not give' });
  }
  for (const [set, files] of media.files) {
    const want = new Map<string, WantedFile>();
    for (const [rel, f] of files) {
      const d = await bytes.digest(f.source);
      // What the source cannot give was not migrated either, and the migration's report says so.
      if (d) want.set(rel, { sizeBytes: d.size, md5: d.md5, names: [f.key] });
    }
    const count = () => (result.checked.mediaFiles = (result.checked.mediaFiles ?? 0) + 1);
    diffs.push(...(await compareFileSet(set, want, containerId, held, ctx, 'media', count, () => result.checked.md5++)));
  }
  return diffs;
}

function steps(points: ReadonlyArray<{ step: number }>): string {
  return points.length === 0 ? 'no images' : `${points.length} images, steps ${points[0].step}..${points[points.length - 1].step}`;
}

async function compareImages(
  path: string,
  key: string,
  points: ReadonlyArray<{ step: number; runFile: string }>,
  containerId: string,
  held: ReadonlyMap<string, HeldField>,
  bytes: SourceBytes,
  ctx: VerifyRunContext,
  result: RunVerification,
): Promise<Difference[]> {
  const reader = ctx.reader;
  const names = path !== key ? { names: [key] } : {};
  const want: Array<{ step: number; digest: Digest }> = [];
  for (const p of points) {
    const d = await bytes.digest({ runFile: p.runFile });
    if (d) want.push({ step: reader.heldStep(p.step), digest: d });
  }
  result.checked.images = (result.checked.images ?? 0) + want.length;
  const h = held.get(path);
  if (!h || !IMAGE_TYPES.has(h.type)) {
    if (want.length === 0) return [];
    const what = h ? `a ${h.type} in Neptune, images in W&B (${steps(want)})` : `missing in Neptune (W&B: ${steps(want)})`;
    return [{ scope: 'image', subject: path, ...names, detail: what, firstStep: want[0].step }];
  }
  let i = 0;
  const at = (step: number | undefined, what: string): Difference[] => [{ scope: 'image', subject: path, ...names, ...(step !== undefined ? { firstStep: step } : {}), detail: what }];
  for await (const got of reader.images(containerId, path, held, ctx.signal)) {
    const w = want[i];
    if (!w) return at(got.step, `Neptune holds more images than W&B gives (${want.length}); the first extra is at step ${got.step ?? `index ${i}`}`);
    if (got.step !== undefined && got.step !== w.step) {
      return at(Math.min(got.step, w.step), `image ${i + 1}: W&B step ${w.step}, Neptune step ${got.step}`);
    }
    if (got.size !== w.digest.size || got.md5 !== w.digest.md5) {
      return at(w.step, `image at step ${w.step}: W&B ${w.digest.size} bytes (MD5 ${w.digest.md5}), Neptune ${got.size < 0 ? 'no stored bytes' : `${got.size} bytes (MD5 ${got.md5})`}`);
    }
    i++;
  }
  if (i < want.length) return at(want[i].step, `W&B: ${steps(want)}; Neptune: ${i} images; the first missing is at step ${want[i].step}`);
  // Protocol A reports no step per image: the series' last step is the check on where they landed.
  const last = want.length ? want[want.length - 1].step : undefined;
  if (reader.protocol === 'a' && h.lastStep !== undefined && last !== undefined && h.lastStep !== last) {
    return at(last, `W&B: ${steps(want)}; Neptune's last image step is ${h.lastStep}`);
  }
  return [];
}

/** The histogram type B keeps for a mapped kind (common.proto `Histogram`: counts or densities). */
const HELD_KIND = { counts: 'COUNTS', densities: 'DENSITIES' } as const;

function bins(x: { edges: readonly number[]; values: readonly number[] }): string {
  return `${x.values.length} bins, edges ${JSON.stringify(x.edges)}, values ${JSON.stringify(x.values)}`;
}

/**
 * B's histogram series against the histograms the mapping made of the W&B rows (mapping/media.ts
 * `histogramPoint`): count, then per step in step order the same kind, edges and values, each number
 * exactly; the first that differs is named.
 */
async function compareHistograms(
  path: string,
  key: string,
  points: readonly HistogramPoint[],
  containerId: string,
  held: ReadonlyMap<string, HeldField>,
  ctx: VerifyRunContext,
  result: RunVerification,
): Promise<Difference[]> {
  const want = points.map((p) => ({ ...p, step: ctx.reader.heldStep(p.step) }));
  result.checked.histograms = (result.checked.histograms ?? 0) + want.length;
  const names = path !== key ? { names: [key] } : {};
  const at = (step: number, detail: string): Difference[] => [{ scope: 'media', subject: path, ...names, firstStep: step, detail }];
  const range = () => `${want.length} histograms, steps ${want[0].step}..${want[want.length - 1].step}`;
  const h = held.get(path);
  if (h?.type !== 'histogramSeries' || !ctx.reader.histograms) {
    return at(want[0].step, h ? `a ${h.type} in Neptune, histograms in W&B (${range()})` : `missing in Neptune (W&B: ${range()})`);
  }
  const same = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((x, j) => Object.is(x, b[j]));
  let i = 0;
  for await (const got of ctx.reader.histograms(containerId, path, ctx.signal)) {
    const w = want[i++];
    if (!w) return at(got.step, `Neptune holds more histograms than W&B gives (${want.length}); the first extra is at step ${got.step}`);
    if (got.step !== w.step) return at(Math.min(got.step, w.step), `histogram ${i}: W&B step ${w.step}, Neptune step ${got.step}`);
    if (got.type !== HELD_KIND[w.kind] || !same(got.edges, w.edges) || !same(got.values, w.values)) {
      return at(w.step, `histogram at step ${w.step}: W&B ${HELD_KIND[w.kind]} ${bins(w)}; Neptune ${got.type} ${bins(got)}`);
    }
  }
  if (i < want.length) return at(want[i].step, `W&B: ${range()}; Neptune: ${i} histograms; the first missing is at step ${want[i].step}`);
  return [];
}
