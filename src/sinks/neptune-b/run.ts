import type { Logger } from '../../core/logger.ts';
import type { TargetRun, TargetRunState } from '../../core/sink.ts';
import { columnPoints, type FieldAssignment, type FileSetAnswer, type FileSetEntry, type FloatSeriesBlock, type HistogramPoint, type ImagePoint, type ImagesAnswer, type Omission, type OmissionReason, type SeriesPoint } from '../../core/target.ts';
import type { StaleFields } from '../../mapping/stale-fields.ts';
import { addOmission } from '../../mapping/values.ts';
import type { NeptuneApi } from '../neptune/api.ts';
import { heldStep } from '../../mapping/steps.ts';
import type { IngestClient } from './ingest.ts';
import { checkAtom, checkPath, checkStep, type Refusal } from './limits.ts';
import { BMediaSeries } from './media-series.ts';
import { SnapshotEncoder, type EncoderLimits, type FloatBlockEntries } from './snapshots.ts';
import { heldOf, readHeld, type BRunHeld } from './read-back.ts';
import { refusalsOf } from './status.ts';
import type { StatusPoller } from './status-poller.ts';
import { md5Checksums, mimeTypeOf, storageDestination, type StorageUploader, type UploadItem } from './uploads.ts';

/** What every Protocol B run shares with its target. */
export interface BRunContext {
  /** The read API, for what a run already holds (read-back.ts `readHeld`). */
  api: NeptuneApi;
  ingest: IngestClient;
  /** Status checks shared by every run of the target (./status-poller.ts); each run polls alone without it. */
  status?: StatusPoller;
  uploader: StorageUploader;
  log: Logger;
  nonFinite: 'drop' | 'send';
  encoderLimits?: EncoderLimits;
  now: () => number;
  /** Points and files the server processed, for the target's stats. */
  counters: { points: number; files: number };
  /**
   * The run's CreateRun when it was not waited for (the run cannot have existed): every wait of the
   * run waits for it too, and fails with its refusal.
   */
  created?: Promise<unknown>;
}

/**
 * B has no file sets: a set (`files`, `source_code/files`, `media/tables/<key>`…) is the namespace of
 * its FileRef fields, so every namespace above a FileRef field is a set the run holds files in.
 */
function namespacesOf(paths: Iterable<string>): string[] {
  const out = new Set<string>();
  for (const p of paths) for (let i = p.indexOf('/'); i > 0; i = p.indexOf('/', i + 1)) out.add(p.slice(0, i));
  return [...out];
}
const MICROSTEPS = { stepResolution: 'micro' } as const;

interface SeriesState {
  key: ReturnType<SnapshotEncoder['key']>;
  /** The last step sent, as B holds it. */
  last: number;
  /** The step (as held) of the point being checked. */
  next: number;
}

/**
 * One Protocol B run as the pipeline's `TargetRun`. Values are checked against B's rules (§3.8) and
 * encoded as they come; `flush` submits the requests and resolves only when `/ingest/check` says the
 * server processed every one of them, with what it refused.
 */
export class NeptuneBRun implements TargetRun {
  private encoder: SnapshotEncoder;
  private readonly series = new Map<string, SeriesState>();
  private pending: Omission[] = [];
  private held?: BRunHeld;
  /** The last flush, processed (or failed). */
  private chain: Promise<unknown> = Promise.resolve();
  /** The last flush's requests, sent (or failed). */
  private submitted: Promise<unknown> = Promise.resolve();
  /** Encoders finished flushes left, for the next flushes' appends (each keeps its grown buffer). */
  private readonly spares: SnapshotEncoder[] = [];
  /** Appends while a flush is in flight go to the next flush (see `flush`). */
  readonly appendsDuringFlush = true;
  private readonly media: BMediaSeries;
  private created: boolean;
  /** The run existed before this pass: storage may hold objects an earlier pass uploaded (uploads.ts `mayHold`). */
  private readonly existed: boolean;

  constructor(
    private readonly ctx: BRunContext,
    readonly project: string,
    readonly id: string,
    /** The name CreateRun gave as experiment_id: B shows it as sys/name, which clients cannot assign. */
    private readonly experimentName?: string,
    /** This run's CreateRun created it (no RUN_DUPLICATE): it holds nothing, nothing needs reading back. */
    created = false,
  ) {
    this.encoder = new SnapshotEncoder(ctx.encoderLimits);
    this.existed = !created;
    this.media = new BMediaSeries(ctx, project, id, this.existed);
    this.created = created;
  }

  /** W&B images as a file series (./media-series.ts). */
  logImages(path: string, points: readonly ImagePoint[], signal?: AbortSignal): Promise<ImagesAnswer> {
    return this.media.logImages(path, points, signal);
  }

  /** W&B histograms as a histogram series (./media-series.ts). */
  logHistograms(path: string, points: readonly HistogramPoint[], signal?: AbortSignal): Promise<Omission[]> {
    return this.media.logHistograms(path, points, signal);
  }

  /**
   * What the server holds, read back through B's read API: the last step of every series (a resume
   * sends only the points after it, so the report counts none twice and the server sees no duplicate)
   * and the files present.
   */
  async state(signal?: AbortSignal): Promise<TargetRunState> {
    // Read once as created (empty); any later call asks the server.
    this.held = this.created ? heldOf(new Map()) : await readHeld(this.ctx.api, this.project, this.id, signal);
    this.created = false;
    return { lastSteps: this.held.lastSteps, fieldCount: this.held.types.size, fileSets: namespacesOf(this.held.fileRefs.keys()), types: this.held.types, sets: this.held.sets };
  }

  /**
   * Takes tags and groups W&B no longer has out of their sets (`modify_sets` REMOVE, as neptune-scale's
   * `remove_tags` does). The ingest protocol has no operation that deletes a field
   * (neptune-api `UpdateRunSnapshot`: assign, modify_sets, append), so a field W&B no longer has stays,
   * said in the report; one written again with another type is refused by the server (FIELD_TYPE_CONFLICTING),
   * whose line says so.
   */
  unassign(stale: StaleFields): Omission[] {
    for (const s of stale.fromSets) this.encoder.removeFromSet(s.path, s.values);
    return stale.fields.map((path) => ({
      reason: 'cannot-delete' as const, subject: path, count: 1,
      detail: `Neptune holds it (${this.held?.types.get(path) ?? 'a field'}) from an earlier pass; the W&B run no longer has it, and Neptune 3.x's ingest protocol cannot delete a field`,
    }));
  }

  /** The files under `path` the server holds (relative path → size), from the last `state()`. */
  async listFileSet(path: string, signal?: AbortSignal): Promise<ReadonlyMap<string, number>> {
    this.held ??= this.created ? heldOf(new Map()) : await readHeld(this.ctx.api, this.project, this.id, signal);
    const out = new Map<string, number>();
    for (const [p, size] of this.held.fileRefs) if (p.startsWith(`${path}/`)) out.set(p.slice(path.length + 1), size);
    return out;
  }

  /**
   * Of the files a set lists, those whose object storage holds with the source's bytes: the stored
   * object's size and a checksum storage computed equal the source's (uploads.ts `storedMatches`, the
   * rule the uploader proves a held object by). Their `FileRef`s are written again, pointing at those
   * objects, so the field holds the proven bytes whatever an earlier writer left in it. A file storage
   * cannot prove the same (another checksum, a multipart ETag, no object, a failed look-up) is not
   * returned: the caller sends it.
   */
  async provenSame(path: string, files: ReadonlyArray<{ relativePath: string; sizeBytes: number; md5: string }>, signal?: AbortSignal): Promise<ReadonlySet<string>> {
    const items = files
      .map((f) => ({ ...f, attribute: `${path}/${f.relativePath}` }))
      .filter((f) => checkPath(f.attribute) === undefined)
      .map((f) => ({ ...f, destination: storageDestination(this.id, f.attribute) }));
    const held = await this.ctx.uploader.held(items, async (f) => md5Checksums(f.md5), signal);
    if (held.size === 0) return new Set();
    const refs = new SnapshotEncoder(this.ctx.encoderLimits);
    for (const f of held) refs.assign(f.attribute, { type: 'fileRef', path: f.destination, sizeBytes: f.sizeBytes, mimeType: mimeTypeOf(f.relativePath) });
    const { refused } = await this.fileRefRefusals([...held], await submitAndWait(refs, this.ctx, this.project, this.id, signal), signal);
    return new Set([...held].filter((f) => !refused.has(f.attribute)).map((f) => f.relativePath));
  }

  private refuse(path: string, r: Refusal, count = 1): void {
    addOmission(this.pending, { reason: r.reason, subject: path, count, detail: r.detail });
  }

  assign(fields: readonly FieldAssignment[]): void {
    for (const f of fields) {
      // The name is the experiment name CreateRun set, or the one the run holds: only a new name is sent
      // (a server that keeps sys/name read-only refuses it, and the report says so).
      if (f.path === 'sys/name' && f.value.type === 'string' && (f.value.value === this.experimentName || f.value.value === this.held?.name)) continue;
      const bad = checkPath(f.path) ?? checkAtom(f.value, this.ctx.nonFinite);
      if (bad) this.refuse(f.path, bad);
      else if (f.value.type === 'stringSet') this.encoder.addToSet(f.path, f.value.values);
      else this.encoder.assign(f.path, f.value);
    }
  }

  private seriesOf(path: string): SeriesState {
    let s = this.series.get(path);
    if (!s) this.series.set(path, (s = { key: this.encoder.key(path), last: -Infinity, next: -Infinity }));
    return s;
  }

  appendFloats(path: string, points: readonly SeriesPoint<number>[]): void {
    const bad = checkPath(path);
    if (bad) return this.refuse(path, bad, points.length);
    const s = this.seriesOf(path);
    const drop = this.ctx.nonFinite === 'drop';
    let refused: Map<OmissionReason, number> | undefined;
    for (const p of points) {
      const why = this.pointProblem(s, p.step) ?? (drop && !Number.isFinite(p.value) ? 'non-finite' : undefined);
      if (why) {
        (refused ??= new Map()).set(why, (refused.get(why) ?? 0) + 1);
        continue;
      }
      s.last = s.next;
      this.encoder.appendFloat(s.key, p.step, p.timestampMs, p.value);
    }
    if (refused) this.noteRefused(path, refused);
  }

  /**
   * Float points by column, checked point by point as `appendFloats` checks them; the encoder writes
   * them from the columns (no object per point), a mask only where a point is refused.
   */
  appendFloatBlock(block: FloatSeriesBlock): void {
    const { steps } = block;
    const n = steps.length;
    const drop = this.ctx.nonFinite === 'drop';
    const entries: FloatBlockEntries = { steps, timestampsMs: block.timestampsMs, keys: [], values: [], masks: [] };
    let points = 0;
    for (const c of block.series) {
      const { values, present } = c;
      const bad = checkPath(c.path);
      if (bad) {
        this.refuse(c.path, bad, columnPoints(c, n));
        continue;
      }
      const s = this.seriesOf(c.path);
      let refused: Map<OmissionReason, number> | undefined;
      let mask = present;
      for (let i = 0; i < n; i++) {
        if (present && present[i] !== 1) continue;
        const why = this.pointProblem(s, steps[i]) ?? (drop && !Number.isFinite(values[i]) ? 'non-finite' : undefined);
        if (why) {
          (refused ??= new Map()).set(why, (refused.get(why) ?? 0) + 1);
          if (mask === present) mask = present ? present.slice() : new Uint8Array(n).fill(1);
          mask![i] = 0;
          continue;
        }
        s.last = s.next;
        points++;
      }
      if (refused) this.noteRefused(c.path, refused);
      entries.keys.push(s.key);
      entries.values.push(values);
      entries.masks.push(mask);
    }
    if (points) this.encoder.appendFloatBlock(entries, points);
  }

  appendStrings(path: string, points: readonly SeriesPoint<string>[]): void {
    const bad = checkPath(path);
    if (bad) return this.refuse(path, bad, points.length);
    const s = this.seriesOf(path);
    let refused: Map<OmissionReason, number> | undefined;
    for (const p of points) {
      const why = this.pointProblem(s, p.step) ?? (Buffer.byteLength(p.value, 'utf8') > 1024 * 1024 ? 'too-large' : undefined);
      if (why) {
        (refused ??= new Map()).set(why, (refused.get(why) ?? 0) + 1);
        continue;
      }
      s.last = s.next;
      this.encoder.appendString(s.key, p.step, p.timestampMs, p.value);
    }
    if (refused) this.noteRefused(path, refused);
  }

  /**
   * B holds whole microsteps (`Step{whole, micro}`): the comparison is on the step as held, so two
   * W&B steps on the same microstep are one step, and the later point is reported, not sent.
   */
  private pointProblem(s: SeriesState, step: number): OmissionReason | undefined {
    if (checkStep(step)) return 'unsupported-value';
    const held = heldStep(step, MICROSTEPS);
    // B refuses a lower step, and the same step with another value (SERIES_STEP_NON_INCREASING).
    if (held <= s.last) return 'step-not-increasing';
    s.next = held;
    return undefined;
  }

  private noteRefused(path: string, refused: Map<OmissionReason, number>): void {
    const details: Partial<Record<OmissionReason, string>> = {
      'non-finite': 'NaN/±Infinity (--nan drop)',
      'unsupported-value': 'step outside 0 ≤ step < 1e12',
      'step-not-increasing': 'step not after the previous point of the series (B keeps steps to the microstep)',
      'too-large': 'entry longer than 1 MiB',
    };
    for (const [reason, count] of refused) addOmission(this.pending, { reason, subject: path, count, detail: details[reason] });
  }

  /**
   * What was appended so far goes in this flush; appends from now on go in the next one (the encoder
   * is swapped here), so the pipeline can fill the next batches while this one is processed. Requests
   * go out in flush order (the server processes a run's requests in the order they came); each flush's
   * status is waited for as soon as its requests went out (the statuses of several flushes in flight
   * go in one check), and it resolves once the server processed it, after the flushes before it.
   */
  flush(signal?: AbortSignal): Promise<Omission[]> {
    const encoder = this.encoder;
    this.encoder = this.spares.pop() ?? new SnapshotEncoder(this.ctx.encoderLimits);
    const omissions = this.pending;
    this.pending = [];
    const points = encoder.pendingPoints;
    const submitted = this.submitted
      .then(() => submitAll(encoder, this.ctx, this.project, this.id, signal))
      .finally(() => {
        // The bodies were views of its buffer: reusable once every one of them went out.
        encoder.clear();
        this.spares.push(encoder);
      });
    this.submitted = submitted.catch(() => undefined);
    const processed = submitted.then((ids) => waitProcessed(ids, this.ctx, this.project, this.id, signal));
    // Handled below, after the flushes before this one.
    processed.catch(() => {});
    const run = this.chain
      .then(
        () => processed,
        () => processed,
      )
      .then((refused) => {
        this.ctx.counters.points += points;
        return [...omissions, ...refused];
      });
    this.chain = run.catch(() => undefined);
    return run;
  }

  /**
   * B has no file sets: each file becomes a `FileRef` field `<set>/<relative path>` after its bytes
   * went to storage. Runs beside the point streams, so it encodes and waits on its own.
   */
  async uploadFileSet(path: string, entries: readonly FileSetEntry[], signal?: AbortSignal): Promise<FileSetAnswer> {
    return (await this.uploadFileSets([{ path, entries }], signal))[0];
  }

  /**
   * The files of several sets at once: one signed-URL request for all of them (the storage bridge
   * takes a list, neptune-api.md §3.1; neptune-scale asks for every queued file in one, §3.9) and one
   * ingest of all their `FileRef`s, waited for once. A small run's two sets cost 2 requests, not 4.
   * A file storage already held with the same bytes (uploads.ts `held`) is not sent: its `FileRef` is
   * written, pointing at those bytes, and it is answered as already present.
   */
  async uploadFileSets(sets: ReadonlyArray<{ path: string; entries: readonly FileSetEntry[] }>, signal?: AbortSignal): Promise<FileSetAnswer[]> {
    const out: FileSetAnswer[] = sets.map(() => ({ refused: [], alreadyPresent: [] }));
    const items: UploadItem[] = [];
    const byAttribute = new Map<string, { set: number; entry: FileSetEntry }>();
    sets.forEach(({ path, entries }, set) => {
      for (const e of entries) {
        const attribute = `${path}/${e.relativePath}`;
        const bad = checkPath(attribute);
        if (bad) {
          out[set].refused.push({ reason: bad.reason, subject: e.relativePath, count: 1, detail: bad.detail });
          continue;
        }
        byAttribute.set(attribute, { set, entry: e });
        items.push({ attribute, localPath: e.localPath, sizeBytes: e.sizeBytes, destination: storageDestination(this.id, attribute), mimeType: mimeTypeOf(e.relativePath) });
      }
    });
    const { failed, held } = await this.ctx.uploader.upload(items, signal, { mayHold: this.existed });
    const refs = new SnapshotEncoder(this.ctx.encoderLimits);
    let sent = 0;
    for (const it of items) {
      const why = failed.get(it);
      if (why) {
        const { set, entry } = byAttribute.get(it.attribute)!;
        out[set].refused.push({ reason: 'upload-failed', subject: entry.relativePath, count: 1, detail: why });
        continue;
      }
      refs.assign(it.attribute, { type: 'fileRef', path: it.destination, sizeBytes: it.sizeBytes, mimeType: it.mimeType });
      sent++;
    }
    if (sent) {
      const sentItems = items.filter((it) => !failed.has(it));
      const { refused, unattributed } = await this.fileRefRefusals(sentItems, await submitAndWait(refs, this.ctx, this.project, this.id, signal), signal);
      for (const [attribute, o] of refused) {
        const { set, entry } = byAttribute.get(attribute)!;
        out[set].refused.push({ ...o, reason: 'upload-failed', subject: entry.relativePath, count: 1 });
      }
      // A refusal the fields read back do not show (every file sent is held) still says the server refused something: the first set's line.
      for (const o of unattributed) out[0].refused.push({ ...o, reason: 'upload-failed' });
      // Held in storage and its FileRef taken: the file was there, this pass sent none of its bytes.
      for (const it of held) {
        if (refused.has(it.attribute)) continue;
        const { set, entry } = byAttribute.get(it.attribute)!;
        out[set].alreadyPresent.push(entry.relativePath);
      }
      this.ctx.counters.files += sent - refused.size;
    }
    return out;
  }

  /**
   * Which of the FileRefs just written the server refused (attribute → its line, detail included), from
   * its refusals. A refusal names the attribute; one that names none of them (no path in the server's
   * details, or no details endpoint: status.ts) leaves unknown which it refused, so what the run holds
   * decides, read back through the read API — a written count is what the server kept, never a guess.
   * A FileRef the run holds with its size counts as written (its storage path is this run's and the
   * attribute's, storageDestination, so the bytes behind it are the ones this pass proved or sent); the
   * others are refused. A read that lags the ingest errs the safe way: a file it does not yet show is
   * reported not written, never claimed. `unattributed`: unnamed refusals the read-back did not show.
   */
  private async fileRefRefusals(
    sent: ReadonlyArray<Pick<UploadItem, 'attribute' | 'sizeBytes'>>, refusals: readonly Omission[], signal?: AbortSignal,
  ): Promise<{ refused: Map<string, Omission>; unattributed: Omission[] }> {
    const bySent = new Map(sent.map((it) => [it.attribute, it]));
    const refused = new Map<string, Omission>();
    const unnamed: Omission[] = [];
    for (const o of refusals) {
      if (bySent.has(o.subject)) refused.set(o.subject, { ...o, count: 1, detail: `${o.reason}: ${o.detail ?? ''}` });
      else unnamed.push(o);
    }
    if (unnamed.length === 0) return { refused, unattributed: [] };
    const held = await readHeld(this.ctx.api, this.project, this.id, signal);
    const missing = sent.filter((it) => !refused.has(it.attribute) && held.fileRefs.get(it.attribute) !== it.sizeBytes);
    const why = unnamed.map((o) => `${o.reason}: ${o.detail ?? ''}`).join('; ');
    const n = unnamed.reduce((k, o) => k + o.count, 0);
    for (const it of missing) {
      refused.set(it.attribute, { ...unnamed[0], subject: it.attribute, count: 1, detail: `${why} (the server refused ${n} file reference(s) of this upload without naming them; the run does not hold this one)` });
    }
    return { refused, unattributed: missing.length ? [] : unnamed.map((o) => ({ ...o, detail: `${o.reason}: ${o.detail ?? ''}` })) };
  }
}

/** Submits what the encoder holds and waits until the server processed it; returns what it refused. */
export async function submitAndWait(encoder: Pick<SnapshotEncoder, 'empty' | 'requests'>, ctx: BRunContext, project: string, runId: string, signal?: AbortSignal): Promise<Omission[]> {
  return waitProcessed(await submitAll(encoder, ctx, project, runId, signal), ctx, project, runId, signal);
}

/** Submits what the encoder holds, one request after another; resolves with their request ids. */
async function submitAll(encoder: Pick<SnapshotEncoder, 'empty' | 'requests'>, ctx: BRunContext, project: string, runId: string, signal?: AbortSignal): Promise<string[]> {
  if (encoder.empty) return [];
  const ids: string[] = [];
  for (const body of encoder.requests(project, runId, ctx.now())) {
    ids.push(await ctx.ingest.submit(body, `ingest for run ${runId} (${body.length} bytes)`, signal));
  }
  return ids;
}

/** Waits until the server processed these requests; returns what it refused. */
async function waitProcessed(ids: readonly string[], ctx: BRunContext, project: string, runId: string, signal?: AbortSignal): Promise<Omission[]> {
  if (ids.length === 0) return [];
  const [statuses] = await Promise.all([ctx.status ? ctx.status.wait(project, ids, signal) : ctx.ingest.waitProcessed(project, ids, signal), ctx.created]);
  return refusalsOf(statuses, { ingest: ctx.ingest, project, runId, log: ctx.log }, signal);
}
