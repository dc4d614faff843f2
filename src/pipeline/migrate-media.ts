import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LocalFile, RunFile, RunInfo } from '../core/records.ts';
import type { TargetRun, TargetRunState } from '../core/sink.ts';
import type { FileSetEntry, HistogramPoint, ImagePoint, Omission } from '../core/target.ts';
import { isAbortError, isFileGone } from '../core/errors.ts';
import { emptyMedia, tableCsv, type MappedMedia, type MediaFile, type MediaHistogram, type MediaImage } from '../mapping/media.ts';
import { capabilitiesOf } from '../mapping/options.ts';
import { heldStep } from '../mapping/steps.ts';
import type { CountScope } from '../ledger/ledger.ts';
import type { MigrationContext } from './context.ts';
import { refusalNames, uploadSets } from './upload-sets.ts';
import { leftForNextPass } from './left-for-next-pass.ts';
import { forEachConcurrent } from './pool.ts';
import { md5Base64 } from '../sources/local/files.ts';

/** Ledger name of a media file once it landed (the files table keys what a re-run must not send again). */
export function mediaLedgerName(f: Pick<MediaFile, 'fileSet' | 'relativePath'>): string {
  return `media:${f.fileSet}/${f.relativePath}`;
}

/**
 * What a media file was made from, kept with its ledger name: a summary file keeps its name when the
 * summary changes (`summary.png`), so the ledger must tell a changed source from the one that landed.
 */
export function mediaSourceId(f: Pick<MediaFile, 'source'>): string {
  const s = f.source;
  if ('text' in s) return `text:${createHash('sha256').update(s.text).digest('base64')}`;
  return `file:${s.runFile}${s.render ? `#${s.render}` : ''}`;
}

/**
 * Media series sent at once. Protocol B answers a series' points only once the server processed them
 * (a status wait of ~0.3 s or more per call), so one series after another made a run with 40 media
 * keys wait 12 s for a few KB; series are independent (each keeps its own step order).
 */
const SERIES_AT_ONCE = 8;

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

/**
 * Where a history row's media counts and report lines go: into the batch that carries the rows'
 * cursor (the run batcher), so they are committed with it. Committed apart, a failure or a kill before
 * that cursor made the next pass, which reads the rows again, count them a second time (an image as
 * written and then as already present, a gone file's line twice).
 */
export interface HistoryMediaProgress {
  omit(o: Omission): void;
  count(counts: Record<string, number>): void;
}

/** A batch's images fetched to local disk, by series path, not sent yet. */
interface FetchedImages {
  byPath: Map<string, Array<{ image: MediaImage; point: ImagePoint }>>;
  omissions: Omission[];
  /** Images the target holds already. */
  present: number;
  releases: Array<() => Promise<void>>;
}

/** A batch's media files on local disk (fetched or rendered), not sent yet. */
interface FetchedFiles {
  files: readonly MediaFile[];
  local: Array<{ f: MediaFile; local: LocalFile }>;
  omissions: Omission[];
  release(): Promise<void>;
}

/**
 * Carries the media of a run (issue 11): image-series points through `logImages`, everything else as
 * files in per-key file sets. The bytes of a media value are a run file the source downloads like any
 * other (W&B API: the run's file listing; run folders: `files/media/…`); histograms and lists are made
 * from the value itself. Each call lands a row's media and records it in the ledger before the row's
 * cursor can advance, so a resumed or repeated migration sends nothing twice: files by their ledger
 * name, images by the series' last step on the target.
 */
export class MediaCarrier {
  private listing?: Promise<Map<string, RunFile>>;
  private dir?: Promise<string>;
  /** Ledger name → the source it was made from (mediaSourceId). */
  private readonly done: Map<string, string | undefined>;
  private readonly lastSteps: Map<string, number>;
  private written = 0;
  /** File sets the target already has, when the ledger knows nothing of the run (lost ledger, other machine). */
  private readonly targetSets?: ReadonlySet<string>;
  private readonly present = new Map<string, Promise<ReadonlyMap<string, number>>>();
  /** Run files W&B failed to serve that a later try may get (not gone: isFileGone). */
  private readonly later: string[] = [];

  constructor(
    private readonly run: RunInfo,
    private readonly target: TargetRun,
    state: TargetRunState,
    private readonly ctx: MigrationContext,
    /** Without it, history media counts and lines are committed at once (as the summary's are). */
    private readonly history?: HistoryMediaProgress,
  ) {
    this.done = new Map([...ctx.ledger.uploadedFiles(run.key)].map(([name, f]) => [name, f.md5]));
    this.lastSteps = new Map(state.lastSteps);
    // Asked only of a target that can prove a held file's bytes (`provenSame`): a size proves nothing.
    if (this.done.size === 0 && target.listFileSet && target.provenSame) this.targetSets = new Set(state.fileSets ?? []);
  }

  /** What the target's file set holds (relative path → size), read once, where the ledger cannot say. */
  private onTarget(fileSet: string): Promise<ReadonlyMap<string, number>> | undefined {
    if (!this.targetSets?.has(fileSet)) return undefined;
    let p = this.present.get(fileSet);
    if (!p) this.present.set(fileSet, (p = this.target.listFileSet!(fileSet, this.ctx.signal)));
    return p;
  }

  private pending: MappedMedia = emptyMedia();

  /**
   * Queues a row's media; they land at the next `flush`, which the caller makes before any cursor
   * past these rows can be committed. Flushes by itself once a file batch is full.
   */
  async add(media: MappedMedia, scope: CountScope): Promise<void> {
    this.pending.images.push(...media.images);
    this.pending.histograms.push(...media.histograms);
    this.pending.files.push(...media.files);
    if (this.pending.images.length + this.pending.histograms.length + this.pending.files.length >= this.ctx.fileBatchCount) await this.flush(scope);
  }

  async flush(scope: CountScope): Promise<void> {
    const media = this.pending;
    this.pending = emptyMedia();
    await this.carry(media, scope);
  }

  async carry(media: MappedMedia, scope: CountScope): Promise<void> {
    const before = this.later.length;
    const summary = scope === 'fields';
    // Every file first, nothing sent yet: a history row's file W&B failed to serve (not gone) stops the
    // history here, before any of these media land or are counted.
    let images: FetchedImages | undefined;
    let files: FetchedFiles | undefined;
    try {
      if (media.images.length) images = await this.fetchImages(media.images);
      if (media.files.length) files = await this.fetchFiles(media.files);
      // A history row's media are carried by the pass that reads the row, and the history cursor moves
      // past it only once they landed: a file W&B failed to serve (5xx or resets past the retries) fails
      // the run at this row, and the next pass reads the row again and fetches the file, as it would
      // after a kill here (its series stay in step order: images after it are not sent before it). A
      // file that is gone (isFileGone, or not among the run's files) is a line, and the row goes on.
      if (!summary && this.later.length > before) throw leftForNextPass('history media', this.later.slice(before));
      if (images) await this.sendImages(images, scope);
      if (media.histograms.length) await this.carryHistograms(media.histograms, scope);
      if (files) await this.sendFiles(files, summary);
    } finally {
      if (images) for (const release of images.releases) await release().catch(() => {});
      if (files) await files.release();
    }
    // The summary's media are carried again by every pass that reads the run, so a summary media file
    // W&B failed to serve is a line, the rest lands, and the run is left not done: the next pass
    // fetches it, as a run file's.
    if (summary && this.later.length > before) throw leftForNextPass('summary media', this.later.slice(before));
  }

  async close(): Promise<void> {
    if (this.dir) await rm(await this.dir, { recursive: true, force: true }).catch(() => {});
  }

  private runFiles(): Promise<Map<string, RunFile>> {
    this.listing ??= (async () => {
      const m = new Map<string, RunFile>();
      for await (const f of this.ctx.source.files(this.run, this.ctx.signal)) m.set(f.name, f);
      return m;
    })();
    return this.listing;
  }

  /** A run file's local copy, or the report line saying why there is none (naming the key). */
  private async fetch(key: string, name: string): Promise<LocalFile | Omission> {
    const file = (await this.runFiles()).get(name);
    if (!file) return { reason: 'download-failed', subject: key, count: 1, detail: `media file ${name} is not among the run's files` };
    if (this.ctx.dryRun) return { path: '', sizeBytes: file.sizeBytes, release: async () => {} };
    try {
      return await this.ctx.source.fetchFile(this.run, file, this.ctx.signal);
    } catch (error) {
      if (isAbortError(error) || this.ctx.signal?.aborted) throw error;
      if (!isFileGone(error)) this.later.push(name);
      return { reason: 'download-failed', subject: key, count: 1, detail: `media file ${name}: ${message(error)}` };
    }
  }

  /** The images' bytes on local disk (what cannot be fetched is a line), grouped by series; nothing sent yet. */
  private async fetchImages(images: readonly MediaImage[]): Promise<FetchedImages> {
    const got: FetchedImages = { byPath: new Map(), omissions: [], present: 0, releases: [] };
    try {
      for (const image of images) {
        const last = this.lastSteps.get(image.path);
        if (last !== undefined && heldStep(image.step, capabilitiesOf(this.ctx.mapping)) <= last) {
          got.present++; // on the target already (an earlier pass, another ledger)
          continue;
        }
        if (!this.target.logImages) {
          got.omissions.push({ reason: 'unsupported-value', subject: image.key, count: 1, detail: 'this target has no image series' });
          continue;
        }
        const local = await this.fetch(image.key, image.runFile);
        if (!('path' in local)) {
          got.omissions.push(local);
          continue;
        }
        // Local copies stay until the target took the images: a writer that uploads files reads them there.
        got.releases.push(local.release);
        const data = this.ctx.dryRun ? new Uint8Array(local.sizeBytes) : await readFile(local.path);
        const point: ImagePoint = {
          step: image.step, timestampMs: image.timestampMs, data, name: image.name,
          ...(image.description !== undefined ? { description: image.description } : {}), ...(this.ctx.dryRun ? {} : { localPath: local.path }),
        };
        let list = got.byPath.get(image.path);
        if (!list) got.byPath.set(image.path, (list = []));
        list.push({ image, point });
      }
    } catch (error) {
      for (const release of got.releases) await release().catch(() => {});
      throw error;
    }
    return got;
  }

  private async sendImages(got: FetchedImages, scope: CountScope): Promise<void> {
    const omissions = [...got.omissions];
    let bytes = 0;
    let landed = 0;
    let present = got.present;
    await forEachConcurrent(got.byPath, SERIES_AT_ONCE, async ([path, list]) => {
      const { refused, alreadyPresent } = await this.target.logImages!(path, list.map((x) => x.point), this.ctx.signal);
      omissions.push(...this.byKey(list[0].image.key, path, refused));
      const lost = refused.reduce((n, o) => n + o.count, 0);
      // An image whose bytes the target already held (not sent) is already present, with no bytes
      // written: the rule of files (FileSetAnswer). The target lists none when it refused some.
      const held = new Set(alreadyPresent);
      const sent = list.filter((x) => !held.has(x.point.step));
      present += list.length - sent.length;
      landed += sent.length - lost;
      if (sent.length > lost) bytes += sent.reduce((n, x) => n + x.point.data.byteLength, 0);
      this.lastSteps.set(path, list[list.length - 1].point.step);
    });
    // Counted apart from float/string points: an image is a file's bytes more than a point.
    this.record(scope, { images: landed, imageBytes: bytes, imagesAlreadyPresent: present }, omissions);
  }

  /** Counts and lines of media that landed (or not): a history row's ride with its cursor (HistoryMediaProgress). */
  private record(scope: CountScope, counts: Record<string, number>, omissions: readonly Omission[]): void {
    if (scope === 'history' && this.history) {
      for (const o of omissions) this.history.omit(o);
      this.history.count(counts);
      return;
    }
    this.ctx.ledger.commit(this.run.key, scope, { counts, omissions });
  }

  /** The writer names the series path; the report names the W&B key. */
  private byKey(key: string, path: string, refused: readonly Omission[]): Omission[] {
    return refused.map((o) => ({ ...o, subject: key, detail: path === key ? o.detail : `${path}: ${o.detail ?? ''}` }));
  }

  /** Histogram-series points (targets whose capabilities say `histograms`), sent now like images. */
  private async carryHistograms(histograms: readonly MediaHistogram[], scope: CountScope): Promise<void> {
    const omissions: Omission[] = [];
    const byPath = new Map<string, { key: string; points: HistogramPoint[] }>();
    let present = 0;
    for (const h of histograms) {
      const last = this.lastSteps.get(h.path);
      if (last !== undefined && heldStep(h.point.step, capabilitiesOf(this.ctx.mapping)) <= last) {
        present++;
        continue;
      }
      let entry = byPath.get(h.path);
      if (!entry) byPath.set(h.path, (entry = { key: h.key, points: [] }));
      entry.points.push(h.point);
    }
    let landed = 0;
    await forEachConcurrent(byPath, SERIES_AT_ONCE, async ([path, { key, points }]) => {
      if (!this.target.logHistograms) {
        omissions.push({ reason: 'unsupported-value', subject: key, count: points.length, detail: 'this target has no histogram series' });
        return;
      }
      const refused = await this.target.logHistograms(path, points, this.ctx.signal);
      omissions.push(...this.byKey(key, path, refused));
      landed += points.length - refused.reduce((n, o) => n + o.count, 0);
      this.lastSteps.set(path, points[points.length - 1].step);
    });
    this.record(scope, { histograms: landed, histogramsAlreadyPresent: present }, omissions);
  }

  /** The files' bytes on local disk (what cannot be had is a line); nothing sent yet. */
  private async fetchFiles(files: readonly MediaFile[]): Promise<FetchedFiles> {
    const tables = new Map<string, Promise<LocalFile | Omission>>();
    const got: FetchedFiles = {
      files, local: [], omissions: [],
      release: async () => {
        for (const x of got.local) await x.local.release().catch(() => {});
        for (const t of tables.values()) await t.then((l) => ('release' in l ? l.release() : undefined)).catch(() => {});
      },
    };
    try {
      for (const f of files) {
        if (this.done.get(mediaLedgerName(f)) === mediaSourceId(f)) continue;
        const local = await this.localCopy(f, tables);
        if ('reason' in local) {
          if (local.count > 0) got.omissions.push(local);
          continue;
        }
        got.local.push({ f, local });
      }
    } catch (error) {
      await got.release();
      throw error;
    }
    return got;
  }

  /** `again`: the files are tried again by every pass (the summary's): what this pass says of their keys replaces what earlier ones said. */
  private async sendFiles(got: FetchedFiles, again: boolean): Promise<void> {
    const omissions = [...got.omissions];
    const bySet = new Map<string, Array<{ f: MediaFile; entry: FileSetEntry }>>();
    const settled: Array<{ name: string; md5: string; size: number; target: string }> = [];
    // The keys of the files this pass tries (those not landed before).
    const replaces = again ? [...new Set(got.files.filter((f) => this.done.get(mediaLedgerName(f)) !== mediaSourceId(f)).map((f) => f.key))] : [];
    const send = (f: MediaFile, local: LocalFile) => {
      let list = bySet.get(f.fileSet);
      if (!list) bySet.set(f.fileSet, (list = []));
      list.push({ f, entry: { localPath: local.path, relativePath: f.relativePath, sizeBytes: local.sizeBytes } });
    };
    // Held with the same size by a migration this ledger does not know of: kept only where the target
    // proves the bytes the same (migrate-files.ts), else sent again.
    const candidates = new Map<string, Array<{ f: MediaFile; local: LocalFile }>>();
    for (const { f, local } of got.local) {
      if ((await this.onTarget(f.fileSet))?.get(f.relativePath) !== local.sizeBytes) send(f, local);
      else if (candidates.has(f.fileSet)) candidates.get(f.fileSet)!.push({ f, local });
      else candidates.set(f.fileSet, [{ f, local }]);
    }
    for (const [fileSet, list] of candidates) {
      const files = await Promise.all(list.map(async ({ f, local }) => ({ relativePath: f.relativePath, sizeBytes: local.sizeBytes, md5: await md5Base64(local.path, this.ctx.signal) })));
      const proven = await this.target.provenSame!(fileSet, files, this.ctx.signal);
      for (const { f, local } of list) {
        if (!proven.has(f.relativePath)) {
          send(f, local);
          continue;
        }
        this.done.set(mediaLedgerName(f), mediaSourceId(f));
        settled.push({ name: mediaLedgerName(f), md5: mediaSourceId(f), size: local.sizeBytes, target: f.fileSet });
      }
    }
    const sets = [...bySet].map(([path, list]) => ({ path, list, entries: list.map((x) => x.entry) }));
    const answers = await uploadSets(this.target, sets, this.ctx.signal);
    for (const [i, { path: fileSet, list }] of sets.entries()) {
      const { refused, alreadyPresent } = answers[i];
      // A refusal names a file or the whole set (refusalNames): a line for the key of each file it names.
      const named = new Set<Omission>();
      const landed = list.filter((x) => {
        const o = refused.find((r) => refusalNames(r.subject, fileSet, x.f.relativePath));
        if (!o) return true;
        named.add(o);
        omissions.push({ reason: o.reason, subject: x.f.key, count: 1, detail: `${fileSet}/${x.f.relativePath}: ${o.detail ?? ''}` });
        return false;
      });
      for (const o of refused) if (!named.has(o)) omissions.push({ ...o, detail: `${fileSet}: ${o.detail ?? ''}` });
      for (const x of landed) this.done.set(mediaLedgerName(x.f), mediaSourceId(x.f));
      // What the target proved it already held was not sent: already present, its bytes not written.
      const present = new Set(alreadyPresent);
      const written = landed.filter((x) => !present.has(x.f.relativePath));
      this.ctx.ledger.commit(this.run.key, 'files', {
        files: landed.map((x) => ({ name: mediaLedgerName(x.f), md5: mediaSourceId(x.f), size: x.entry.sizeBytes, target: fileSet })),
        counts: { files: written.length, bytes: written.reduce((n, x) => n + x.entry.sizeBytes, 0), mediaFiles: written.length, filesAlreadyPresent: landed.length - written.length },
      });
    }
    // The files themselves are keyed in the ledger (a row read again skips them); a history row's lines
    // ride with its cursor.
    let lines = omissions;
    if (!again && this.history) {
      this.record('history', {}, omissions);
      lines = [];
    }
    if (lines.length || settled.length || replaces.length) {
      this.ctx.ledger.commit(this.run.key, 'files', { omissions: lines, files: settled, counts: { filesAlreadyPresent: settled.length }, replaces });
    }
  }

  /** The bytes of one media file on local disk: a fetched run file, its CSV rendering, or text written out. */
  private async localCopy(f: MediaFile, tables: Map<string, Promise<LocalFile | Omission>>): Promise<LocalFile | Omission> {
    const src = f.source;
    if ('text' in src) return this.writeText(src.text);
    if (src.render !== 'table-csv') {
      // A table's JSON is read again for its CSV: fetched once, released at the end of the call.
      const local = await this.fetch(f.key, src.runFile);
      if ('path' in local && this.isTable(f)) {
        tables.set(src.runFile, Promise.resolve(local));
        return { ...local, release: async () => {} };
      }
      return local;
    }
    let table = tables.get(src.runFile);
    if (!table) tables.set(src.runFile, (table = this.fetch(f.key, src.runFile)));
    const local = await table;
    if (!('path' in local)) return { ...local, count: 0 }; // the JSON's own line already counts the key
    if (this.ctx.dryRun) return { path: '', sizeBytes: 0, release: async () => {} };
    let csv: string | undefined;
    try {
      csv = tableCsv(JSON.parse(await readFile(local.path, 'utf8')));
    } catch {
      csv = undefined;
    }
    if (csv === undefined) return { reason: 'unsupported-value', subject: f.key, count: 1, detail: `${src.runFile} is not a table (columns, data): no CSV rendering` };
    return this.writeText(csv);
  }

  private isTable(f: MediaFile): boolean {
    return f.fileSet.startsWith('media/tables/') || f.fileSet.startsWith('summary/media/tables/');
  }

  private async writeText(text: string): Promise<LocalFile> {
    const bytes = Buffer.from(text, 'utf8');
    if (this.ctx.dryRun) return { path: '', sizeBytes: bytes.length, release: async () => {} };
    this.dir ??= mkdtemp(join(tmpdir(), 'w2n-media-'));
    const path = join(await this.dir, String(this.written++));
    await writeFile(path, bytes);
    return { path, sizeBytes: bytes.length, release: () => rm(path, { force: true }) };
  }
}
