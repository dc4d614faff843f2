import { HttpError, TargetError } from '../../core/errors.ts';
import { columnPoints, type AtomValue, type FileSetEntry, type FloatSeriesBlock, type ImagePoint, type Omission, type SeriesPoint } from '../../core/target.ts';
import { planBatches, type Batch } from './batcher.ts';
import type { WriterContext } from './context.ts';
import { encodeOperations } from './body.ts';
import { atomOp, attributeErrors, isSlice, logEntries, opEntries, opPoints, sliceOp, type BatchOp, type OperationFailure, type WireOp } from './operations.ts';
import { lastStepsHeld } from './series-readback.ts';
import { listFileSetEntries, readExistingState, type ExistingState } from './resume.ts';
import { checkAtom, checkPath, FieldRegistry, omission, StepTracker, type FieldType, type Violation } from './rules.ts';
import { placeStep, SeriesIntake, type WriteOutcome } from './series-intake.ts';
import { SeriesBuffer } from './series.ts';
import { uploadFileAttribute, uploadFileSetAttribute, type FileSetUploadOptions } from './uploads.ts';

export type { WriteOutcome } from './series-intake.ts';

export interface FlushResult {
  requests: number;
  operations: number;
  points: number;
  /** Per-operation errors the server returned (the rest of each request was applied). */
  errors: OperationFailure[];
}

export interface UploadOutcome {
  uploaded: boolean;
  omissions: Omission[];
  errors: OperationFailure[];
}

type AnySeries = SeriesBuffer<number> | SeriesBuffer<string>;

/** The entries whose step the server does not hold; each held step accounts for one entry (a repeated step was refused). */
function notHeld<T extends { step: number }>(sent: readonly T[], heldSteps: readonly number[]): T[] {
  const held = new Map<number, number>();
  for (const s of heldSteps) held.set(s, (held.get(s) ?? 0) + 1);
  return sent.filter((e) => {
    const n = held.get(e.step) ?? 0;
    if (n > 0) held.set(e.step, n - 1);
    return n === 0;
  });
}

/** Buffers writes for one container (a run, or the project itself) and sends them in batches. */
export class ContainerWriter {
  private readonly fields: FieldRegistry;
  private readonly steps = new StepTracker();
  private atoms: WireOp[] = [];
  private atomsCommitted = 0;
  private readonly series = new Map<string, AnySeries>();
  private chain: Promise<unknown> = Promise.resolve();
  /** A request failed after it may have reached the server: reconcile series with the server first. */
  private uncertain = false;
  /** Per-operation errors of acknowledged requests not yet returned (a later request of that flush failed). */
  private unreported: OperationFailure[] = [];

  constructor(
    protected readonly ctx: WriterContext,
    readonly containerId: string,
  ) {
    this.fields = new FieldRegistry(ctx.limits.maxFieldsPerRun);
  }

  /** Fields known to exist (server + accepted here). */
  get fieldCount(): number {
    return this.fields.size;
  }

  get pendingPoints(): number {
    let n = 0;
    for (const b of this.series.values()) n += b.pending;
    return n;
  }

  get pendingOperations(): number {
    return this.atoms.length - this.atomsCommitted;
  }

  /** Reads fields and series last steps from the server and seeds the checks with them. */
  async load(signal?: AbortSignal): Promise<ExistingState> {
    const state = await readExistingState(this.ctx.api, this.containerId, signal);
    this.fields.seed(state.fields);
    for (const [p, s] of state.lastSteps) this.steps.seedServer(p, s);
    return state;
  }

  /** What `load` learns, known without asking (a run this process just created holds `fields` only). */
  assume(fields: ReadonlyMap<string, FieldType>): void {
    this.fields.seed(fields);
  }

  async lastSteps(signal?: AbortSignal): Promise<Map<string, number>> {
    return (await this.load(signal)).lastSteps;
  }

  async existingFields(signal?: AbortSignal): Promise<Map<string, FieldType>> {
    return (await this.load(signal)).fields;
  }

  private admit(path: string, type: FieldType): Violation | undefined {
    if (this.ctx.unsafeSkipChecks) return undefined;
    return checkPath(path, this.ctx.limits) ?? this.fields.check(path, type);
  }

  private admitUpload(path: string, type: FieldType): Violation | undefined {
    if (!this.ctx.unsafeSkipChecks && path.startsWith('sys/')) return { reason: 'invalid-path', detail: 'files cannot be stored under sys/' };
    return this.admit(path, type);
  }

  assign(path: string, value: AtomValue): WriteOutcome {
    const v = this.admit(path, value.type) ?? (this.ctx.unsafeSkipChecks ? undefined : checkAtom(value, this.ctx.limits));
    if (v) return { accepted: 0, alreadyPresent: 0, omissions: [omission(path, v)] };
    this.fields.add(path, value.type);
    this.atoms.push(atomOp(path, value));
    return { accepted: 1, alreadyPresent: 0, omissions: [] };
  }

  /**
   * Deletes a field (swagger `deleteAttribute`) before what is assigned after it; the path takes any
   * type again. One request may carry both: neptune-client 1.x sends a path's deletes, then its
   * assignments, in one batch (`internal/backends/operations_preprocessor.py` `get_operations`).
   */
  deleteField(path: string): void {
    this.fields.remove(path);
    this.atoms.push({ path, deleteAttribute: {} });
  }

  /** Takes values out of a string set (swagger `removeStrings`). */
  removeFromSet(path: string, values: readonly string[]): void {
    this.atoms.push({ path, removeStrings: { values: [...values] } });
  }

  logFloats(path: string, points: readonly SeriesPoint<number>[]): WriteOutcome {
    return this.log(path, 'float', points);
  }

  logStrings(path: string, points: readonly SeriesPoint<string>[]): WriteOutcome {
    return this.log(path, 'string', points);
  }

  private log(path: string, kind: 'float' | 'string', points: readonly SeriesPoint<number | string>[]): WriteOutcome {
    const out: WriteOutcome = { accepted: 0, alreadyPresent: 0, omissions: [] };
    if (points.length === 0) return out;
    const intake = this.intake<number | string>(path, kind, points.length, out);
    if (!intake) return out;
    for (const p of points) intake.take(p.step, p.timestampMs, p.value);
    intake.close();
    return out;
  }

  /**
   * Float points by column (history's fast path): what `logFloats` of each column's points does, in
   * the block's series order, without an object per point.
   */
  logFloatBlock(block: FloatSeriesBlock): WriteOutcome {
    const out: WriteOutcome = { accepted: 0, alreadyPresent: 0, omissions: [] };
    const { steps, timestampsMs } = block;
    const rows = steps.length;
    for (const c of block.series) {
      const count = columnPoints(c, rows);
      if (count === 0) continue;
      const intake = this.intake<number>(c.path, 'float', count, out);
      if (!intake) continue;
      const { values, present } = c;
      for (let i = 0; i < rows; i++) if (!present || present[i] === 1) intake.take(steps[i], timestampsMs[i], values[i]);
      intake.close();
    }
    return out;
  }

  /** The intake of `count` points for one series; undefined (its omission in `out`) when the path is refused. */
  private intake<T extends number | string>(path: string, kind: 'float' | 'string', count: number, out: WriteOutcome): SeriesIntake<T> | undefined {
    const type: FieldType = kind === 'float' ? 'floatSeries' : 'stringSeries';
    const denied = this.admit(path, type);
    if (denied) {
      out.omissions.push(omission(path, denied, count));
      return undefined;
    }
    let buf = this.series.get(path);
    if (!buf) {
      buf = kind === 'float' ? new SeriesBuffer<number>('float') : new SeriesBuffer<string>('string');
      this.series.set(path, buf);
    }
    return new SeriesIntake<T>(path, type, buf as unknown as SeriesBuffer<T>, this.fields, this.steps, out, this.ctx.unsafeSkipChecks, this.ctx.limits.maxSeriesStringLength);
  }

  /**
   * Sends images to the image series `path` now, in `logImages` operations of one image each (the
   * client's own batching, `ImageSeries` in neptune-client 1.x), as many per request as the request
   * byte cap allows. An image over the size limit, a step not after the series' last, or one the
   * server refused is an omission naming the path; steps the server held at load are already present.
   */
  async logImages(path: string, points: readonly ImagePoint[], signal?: AbortSignal): Promise<WriteOutcome> {
    const out: WriteOutcome = { accepted: 0, alreadyPresent: 0, omissions: [] };
    if (points.length === 0) return out;
    const denied = this.admit(path, 'imageSeries');
    if (denied) return { ...out, omissions: [omission(path, denied, points.length)] };
    const skip = this.ctx.unsafeSkipChecks;
    const max = this.ctx.limits.maxImageBytes;
    const requests: WireOp[][] = [];
    let current: WireOp[] = [];
    let bytes = 0;
    for (const p of points) {
      if (!skip && p.data.byteLength > max) {
        out.omissions.push({ reason: 'too-large', subject: path, count: 1, detail: `image at step ${p.step} is ${p.data.byteLength} bytes, over the server's ${max}-byte limit` });
        continue;
      }
      if (!skip && !placeStep(this.steps, path, p.step, out, (reason, detail) => out.omissions.push({ reason, subject: path, count: 1, detail }))) continue;
      const data = Buffer.from(p.data.buffer, p.data.byteOffset, p.data.byteLength).toString('base64');
      const value = { data, ...(p.name !== undefined ? { name: p.name } : {}), ...(p.description !== undefined ? { description: p.description } : {}) };
      const op: WireOp = { path, logImages: { entries: [{ value, step: p.step, timestampMilliseconds: Math.round(p.timestampMs) }] } };
      const size = data.length + path.length + (p.description?.length ?? 0) + 128;
      if (current.length > 0 && (bytes + size > this.ctx.limits.maxRequestBytes || current.length >= this.ctx.limits.maxOpsPerRequest)) {
        requests.push(current);
        current = [];
        bytes = 0;
      }
      current.push(op);
      bytes += size;
    }
    if (current.length) requests.push(current);
    for (const ops of requests) {
      const { failures } = await this.send(ops, signal);
      const refused = failures.length;
      out.accepted += ops.length - refused;
      for (const f of failures) {
        out.omissions.push({ reason: 'rejected-by-server', subject: path, count: f.count ?? 1, detail: `${f.errorType}: ${f.description}` });
      }
    }
    if (out.accepted > 0) this.fields.add(path, 'imageSeries');
    return out;
  }

  /**
   * Sends everything buffered so far; resolves once the server acknowledged every request. Calls are
   * serialised; after a failure (abort, network) nothing acknowledged is resent and series are
   * reconciled with the server's last steps, so a retry never duplicates a point.
   */
  flush(signal?: AbortSignal): Promise<FlushResult> {
    const run = this.chain.then(
      () => this.flushNow(signal),
      () => this.flushNow(signal),
    );
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async flushNow(signal?: AbortSignal): Promise<FlushResult> {
    const result: FlushResult = { requests: 0, operations: 0, points: 0, errors: [] };
    if (this.uncertain) await this.reconcile(signal);
    const seriesEnd = new Map<string, number>();
    for (const [p, b] of this.series) seriesEnd.set(p, b.length);
    const view = { atoms: this.atoms, atomsFrom: this.atomsCommitted, atomsEnd: this.atoms.length, series: this.series, seriesEnd };
    try {
      for (const batch of planBatches(view, this.ctx.limits)) {
        if (batch.ops.length > 0) {
          this.uncertain = true;
          const sent = await this.send(batch.ops, signal);
          this.unreported.push(...(await this.settleRefusedSeries(sent.ops, sent.failures, signal)));
          this.uncertain = false;
          result.requests++;
          result.operations += batch.ops.length;
          result.points += batch.points;
        }
        this.commit(batch);
      }
    } finally {
      this.compact();
    }
    result.errors = this.unreported;
    this.unreported = [];
    return result;
  }

  /** One `executeOperations`; returns the per-operation errors and the operations its last attempt carried. */
  private async send(sentOps: BatchOp[], signal?: AbortSignal): Promise<{ failures: OperationFailure[]; ops: BatchOp[] }> {
    let data: unknown;
    let ops = sentOps;
    try {
      ({ data } = await this.ctx.api.json({
        method: 'POST',
        path: '/api/leaderboard/v1/attributes/operations',
        query: { experimentId: this.containerId },
        jsonBytesPerAttempt: () => encodeOperations(ops),
        // The server may have applied the lost attempt: resending its points would be refused as
        // "not increasing" although they are stored. Ask what it holds, and send only the rest.
        beforeAmbiguousRetry: async () => {
          ops = await this.withoutStored(ops, signal);
        },
        signal,
        what: `executeOperations (${sentOps.length} ops)`,
      }));
    } catch (e) {
      if (e instanceof HttpError && e.status === 404) throw new TargetError(`Neptune container ${this.containerId} not found`, { cause: e });
      if (e instanceof HttpError && (e.status === 402 || e.status === 422)) {
        throw new TargetError(`Neptune refused the write: limit exceeded (${e.body ?? `HTTP ${e.status}`})`, { cause: e });
      }
      throw e;
    }
    this.ctx.stats.batches++;
    this.ctx.stats.operations += ops.length;
    this.ctx.stats.points += ops.reduce((n, op) => n + opPoints(op), 0);
    return { failures: attributeErrors(data, ops.map((op) => op.path)), ops };
  }

  /**
   * The server refused some series operations of a request (a rule the checks before sending did
   * not know; a whole operation refused for one bad point). Finds out exactly which points of those
   * series it holds, re-sends the others one point per operation (so one bad point loses only
   * itself), and returns, per series, one failure counting the points it still does not hold. Points
   * below a step the server already holds cannot be placed any more and are counted too.
   */
  private async settleRefusedSeries(ops: BatchOp[], failures: OperationFailure[], signal?: AbortSignal): Promise<OperationFailure[]> {
    const refused = new Set(failures.map((f) => f.path).filter((p): p is string => p !== undefined && this.series.has(p)));
    if (refused.size === 0) return failures;
    const out = failures.filter((f) => f.path === undefined || !refused.has(f.path));
    for (const path of refused) {
      const kind = this.series.get(path)!.kind;
      const sent = ops.filter((op) => op.path === path).flatMap((op) => opEntries(op) ?? []);
      const why = failures.filter((f) => f.path === path);
      const held = await lastStepsHeld(this.ctx.api, this.containerId, path, kind, sent.length, signal);
      let last = -Infinity;
      for (const step of held) if (step > last) last = step;
      const missing = notHeld(sent, held);
      const retry = missing.filter((e) => e.step > last);
      let lost = missing.length - retry.length;
      if (retry.length > 0) {
        const singles = retry.map((e) => (kind === 'float' ? { path, logFloats: { entries: [e] } } : { path, logStrings: { entries: [e] } }) as WireOp);
        const again: OperationFailure[] = [];
        for (let i = 0; i < singles.length; i += this.ctx.limits.maxOpsPerRequest) {
          again.push(...(await this.send(singles.slice(i, i + this.ctx.limits.maxOpsPerRequest), signal)).failures);
        }
        if (again.length > 0) {
          lost += notHeld(retry, await lastStepsHeld(this.ctx.api, this.containerId, path, kind, retry.length, signal)).length;
          why.push(...again);
        }
      }
      this.ctx.log.debug(`Neptune: refused writes to ${path}: ${sent.length - missing.length} points held, ${retry.length} sent again, ${lost} lost`);
      if (lost > 0) {
        const descriptions = [...new Set(why.map((f) => f.description))];
        out.push({ path, errorType: why[0].errorType, description: descriptions.slice(0, 3).join(' | '), count: lost });
      }
    }
    return out;
  }

  private commit(batch: Batch): void {
    this.atomsCommitted = Math.max(this.atomsCommitted, batch.atomsUpTo);
    for (const [p, i] of batch.seriesUpTo) this.series.get(p)?.commit(i);
  }

  private compact(): void {
    if (this.atomsCommitted > 0) {
      this.atoms = this.atoms.slice(this.atomsCommitted);
      this.atomsCommitted = 0;
    }
    for (const b of this.series.values()) b.compact();
  }

  /**
   * `ops` without the series points the server already holds (steps at or below its last step), read
   * from the server after an attempt whose answer was lost. Assignments are kept: they are idempotent.
   */
  private async withoutStored(ops: BatchOp[], signal?: AbortSignal): Promise<BatchOp[]> {
    const { fields, lastSteps } = await readExistingState(this.ctx.api, this.containerId, signal);
    this.fields.seed(fields);
    const out: BatchOp[] = [];
    let stored = 0;
    for (const sent of ops) {
      const last = lastSteps.get(sent.path);
      if (last === undefined) {
        out.push(sent);
        continue;
      }
      let op: WireOp;
      if (isSlice(sent)) {
        // Steps increase within a slice, so what is stored is a prefix; the rest stays a slice.
        const { steps } = sent.buf;
        let first = sent.from;
        while (first < sent.to && steps[first] <= last) first++;
        let suffix = true;
        for (let i = first; i < sent.to && suffix; i++) suffix = steps[i] > last;
        if (suffix) {
          stored += first - sent.from;
          if (first < sent.to) out.push({ ...sent, from: first });
          continue;
        }
        op = sliceOp(sent);
      } else op = sent;
      const entries = 'logImages' in op ? op.logImages.entries : logEntries(op);
      if (!entries) {
        out.push(op);
        continue;
      }
      const rest = (entries as Array<{ step: number }>).filter((e) => e.step > last);
      stored += entries.length - rest.length;
      if (rest.length === 0) continue;
      const key = 'logFloats' in op ? 'logFloats' : 'logStrings' in op ? 'logStrings' : 'logImages';
      out.push({ path: op.path, [key]: { entries: rest } } as unknown as WireOp);
    }
    if (stored > 0) this.ctx.log.debug(`Neptune: ${stored} points of a request whose answer was lost were already stored`);
    return out;
  }

  /** Drops pending points the server already stored (the failed request may have been applied). */
  private async reconcile(signal?: AbortSignal): Promise<void> {
    const { lastSteps } = await readExistingState(this.ctx.api, this.containerId, signal);
    for (const [path, buf] of this.series) {
      const last = lastSteps.get(path);
      if (last === undefined) continue;
      let i = buf.committed;
      while (i < buf.length && buf.steps[i] <= last) i++;
      if (i > buf.committed) this.ctx.log.debug(`Neptune: ${i - buf.committed} points of ${path} were already stored`);
      buf.commit(i);
    }
    this.uncertain = false;
  }

  /** Uploads one file as a File field (single-part or multipart by size). */
  async uploadFile(path: string, localPath: string, signal?: AbortSignal, opts: { ext?: string } = {}): Promise<UploadOutcome> {
    const denied = this.admitUpload(path, 'file');
    if (denied) return { uploaded: false, omissions: [omission(path, denied)], errors: [] };
    const errors = await uploadFileAttribute(this.ctx, this.containerId, path, localPath, opts.ext, signal);
    this.fields.add(path, 'file');
    return { uploaded: errors.length === 0, omissions: [], errors };
  }

  /** Uploads files into a FileSet field, packed as the official client does. */
  async uploadFileSet(
    path: string,
    entries: readonly FileSetEntry[],
    signal?: AbortSignal,
    opts: FileSetUploadOptions = {},
  ): Promise<UploadOutcome> {
    const denied = this.admitUpload(path, 'fileSet');
    if (denied) return { uploaded: false, omissions: [omission(path, denied, Math.max(1, entries.length))], errors: [] };
    const setExisted = this.fields.typeOf(path) !== undefined;
    const { errors, omissions } = await uploadFileSetAttribute(this.ctx, this.containerId, path, entries, signal, { setExisted, ...opts });
    this.fields.add(path, 'fileSet');
    return { uploaded: errors.length === 0, omissions, errors };
  }

  /** What a FileSet field already holds (relative path → size). */
  listFileSet(path: string, signal?: AbortSignal): Promise<Map<string, number>> {
    return listFileSetEntries(this.ctx.api, this.containerId, path, signal);
  }

  /** Marks the container active (`sys/state`); Neptune derives activity from pings. */
  async ping(signal?: AbortSignal): Promise<void> {
    await this.ctx.api.call({ method: 'POST', path: '/api/leaderboard/v1/attributes/ping', query: { experimentId: this.containerId }, signal, what: 'ping' });
  }
}
