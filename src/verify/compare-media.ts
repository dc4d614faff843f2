import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { RunFile, RunInfo } from '../core/records.ts';
import { isAbortError } from '../core/errors.ts';
import { mapSummaryMedia, tableCsv, type MappedMedia, type MediaSource } from '../mapping/media.ts';
import { digestStream, type HeldField } from '../sinks/neptune/read-back.ts';
import { base64Md5, compareFileSet, type WantedFile } from './compare-files.ts';
import type { OnOmission } from './expected.ts';
import type { Difference, RunVerification } from './types.ts';
import type { VerifyRunContext } from './verify-run.ts';

/** Held field types of an image series: Protocol A's image series, Protocol B's file series. */
const IMAGE_TYPES: ReadonlySet<string> = new Set(['imageSeries', 'fileRefSeries']);
const HISTOGRAMS = 'media/histograms/';

/**
 * The media the migration of a run carries, as the mapping gives them (mapping/media.ts): image-series
 * points per series path, and media files per file set. Filled during verify's history pass (so the
 * history is read once), then the summary's.
 */
export class ExpectedMedia {
  readonly images = new Map<string, { key: string; points: Array<{ step: number; runFile: string }> }>();
  readonly files = new Map<string, Map<string, { key: string; source: MediaSource }>>();

  add(m: MappedMedia): void {
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

  /** Undefined: the source cannot give these bytes (the migration reported the same). */
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
      if (isAbortError(error) || this.ctx.signal?.aborted) throw error;
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
  for (const [set, files] of media.files) {
    const key = files.values().next().value!.key;
    const seriesPath = set.startsWith(HISTOGRAMS) ? set.slice(HISTOGRAMS.length) : undefined;
    if (seriesPath !== undefined && held.get(seriesPath)?.type === 'histogramSeries' && ctx.reader.histograms) {
      diffs.push(...(await compareHistograms(seriesPath, key, files, containerId, ctx, result)));
      continue;
    }
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

/** B's histogram series against the histograms W&B logged: per step, the same edges (W&B bins) and values. */
async function compareHistograms(
  path: string,
  key: string,
  files: ReadonlyMap<string, { source: MediaSource }>,
  containerId: string,
  ctx: VerifyRunContext,
  result: RunVerification,
): Promise<Difference[]> {
  const want: Array<{ step: number; bins: number[]; values: number[] }> = [];
  for (const [rel, f] of files) {
    if (!('text' in f.source)) continue;
    const h = JSON.parse(f.source.text) as { bins: number[]; values: number[] };
    want.push({ step: ctx.reader.heldStep(Number(rel.replace(/\.json$/, ''))), ...h });
  }
  want.sort((a, b) => a.step - b.step);
  result.checked.mediaFiles = (result.checked.mediaFiles ?? 0) + want.length;
  const names = path !== key ? { names: [key] } : {};
  let i = 0;
  const same = (a: number[], b: number[]) => a.length === b.length && a.every((x, j) => Object.is(x, b[j]) || x === b[j]);
  for await (const got of ctx.reader.histograms!(containerId, path, ctx.signal)) {
    const w = want[i++];
    if (!w) return [{ scope: 'media', subject: path, ...names, firstStep: got.step, detail: `a histogram at step ${got.step} in Neptune that W&B does not give` }];
    if (got.step !== w.step) return [{ scope: 'media', subject: path, ...names, firstStep: Math.min(got.step, w.step), detail: `histogram ${i}: W&B step ${w.step}, Neptune step ${got.step}` }];
    if (!same(got.edges, w.bins) || !same(got.values, w.values)) {
      return [{ scope: 'media', subject: path, ...names, firstStep: w.step, detail: `histogram at step ${w.step}: other bins or values in Neptune` }];
    }
  }
  if (i < want.length) return [{ scope: 'media', subject: path, ...names, firstStep: want[i].step, detail: `W&B: ${want.length} histograms; Neptune: ${i}; the first missing is at step ${want[i].step}` }];
  return [];
}
