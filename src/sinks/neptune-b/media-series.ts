/**
 * Protocol B's media series (neptune-api.md §3.4; `common.proto` `FileRef`, `Histogram`, neptune-api
 * @05a7d83): W&B images → a file series (`append[path] = Value{file_ref}` at the image's step, the
 * bytes uploaded through the storage bridge first), W&B histograms → a histogram series
 * (`append[path] = Value{histogram{bin_edges, counts | densities}}`). Media points are few and sent
 * apart from the float hot path (./snapshots.ts): one snapshot per point, encoded here.
 */
import type { HistogramPoint, ImagePoint, ImagesAnswer, Omission, OmissionReason } from '../../core/target.ts';
import { addOmission } from '../../mapping/values.ts';
import { checkPath, checkStep } from './limits.ts';
import {
  MAP_ENTRY,
  RUN_OPERATION,
  SNAPSHOT,
  SNAPSHOTS_FIELD,
  VALUE,
  decomposeStep,
  splitTimestamp,
  writeOperationHead,
  writeStep,
  writeTimestamp,
  writeValueEntry,
} from './messages.ts';
import { submitAndWait, type BRunContext } from './run.ts';
import { DEFAULT_ENCODER_LIMITS, type EncoderLimits } from './snapshots.ts';
import { mimeTypeOf, storageDestination, type UploadItem } from './uploads.ts';
import { ProtoWriter, WIRE_LEN, lenFieldSize, varintSize } from './wire.ts';

/** `Histogram{bin_edges = 1 (packed double), counts = 4 {values = 1 packed uint64} | densities = 5 {values = 1 packed double}}`. */
const HISTOGRAM = { binEdges: 1, counts: 4, densities: 5, values: 1 } as const;

export type MediaValue =
  | { type: 'fileRef'; path: string; sizeBytes: number; mimeType: string }
  | { type: 'histogram'; edges: readonly number[]; values: readonly number[]; kind: 'counts' | 'densities' };

function packedDoublesSize(n: number): number {
  return n ? lenFieldSize(HISTOGRAM.values, n * 8) : 0;
}

function histogramPayload(h: Extract<MediaValue, { type: 'histogram' }>): { size: number; values: number } {
  const edges = h.edges.length ? lenFieldSize(HISTOGRAM.binEdges, h.edges.length * 8) : 0;
  const inner = h.kind === 'counts'
    ? (h.values.length ? lenFieldSize(HISTOGRAM.values, h.values.reduce((n, v) => n + varintSize(v), 0)) : 0)
    : packedDoublesSize(h.values.length);
  return { size: edges + lenFieldSize(h.kind === 'counts' ? HISTOGRAM.counts : HISTOGRAM.densities, inner), values: inner };
}

function writeHistogramEntry(w: ProtoWriter, path: string, h: Extract<MediaValue, { type: 'histogram' }>): void {
  const { size, values } = histogramPayload(h);
  const value = lenFieldSize(VALUE.histogram, size);
  const key = lenFieldSize(MAP_ENTRY.key, Buffer.byteLength(path, 'utf8'));
  w.lenField(SNAPSHOT.append, key + lenFieldSize(MAP_ENTRY.value, value), () => {
    w.stringField(MAP_ENTRY.key, path);
    w.lenField(MAP_ENTRY.value, value, () => {
      w.lenField(VALUE.histogram, size, () => {
        if (h.edges.length) {
          w.tag(HISTOGRAM.binEdges, WIRE_LEN);
          w.varint(h.edges.length * 8);
          for (const e of h.edges) w.double(e);
        }
        w.lenField(h.kind === 'counts' ? HISTOGRAM.counts : HISTOGRAM.densities, values, () => {
          if (!h.values.length) return;
          if (h.kind === 'counts') {
            w.tag(HISTOGRAM.values, WIRE_LEN);
            w.varint(h.values.reduce((n, v) => n + varintSize(v), 0));
            for (const v of h.values) w.varint(v);
          } else {
            w.tag(HISTOGRAM.values, WIRE_LEN);
            w.varint(h.values.length * 8);
            for (const v of h.values) w.double(v);
          }
        });
      });
    });
  });
}

/**
 * Snapshots of media points, one per point (step, timestamp, one `append` entry), packed into
 * `RunOperation{update_batch}` bodies of at most the request limit. Kept in step order per series by
 * the caller.
 */
export class MediaSnapshotEncoder {
  private snapshots: Buffer[] = [];
  private readonly w = new ProtoWriter(4096);

  constructor(private readonly limits: EncoderLimits = DEFAULT_ENCODER_LIMITS) {}

  get empty(): boolean {
    return this.snapshots.length === 0;
  }

  append(path: string, step: number, timestampMs: number, value: MediaValue): void {
    const w = this.w;
    w.reset();
    const { whole, micro } = decomposeStep(step);
    const t = splitTimestamp(timestampMs);
    writeStep(w, SNAPSHOT.step, whole, micro);
    writeTimestamp(w, SNAPSHOT.timestamp, t.seconds, t.nanos);
    if (value.type === 'fileRef') writeValueEntry(w, SNAPSHOT.append, path, value);
    else writeHistogramEntry(w, path, value);
    this.snapshots.push(Buffer.from(w.view()));
  }

  /** The request bodies, each a fresh buffer. `nowMs` is unused: every media snapshot has its own timestamp. */
  *requests(project: string, runId: string, _nowMs: number): Generator<Buffer> {
    const head = lenFieldSize(RUN_OPERATION.project, Buffer.byteLength(project)) + lenFieldSize(RUN_OPERATION.runId, Buffer.byteLength(runId));
    const budget = this.limits.maxRequestBytes - head - 6;
    let i = 0;
    while (i < this.snapshots.length) {
      let size = 0;
      let j = i;
      while (j < this.snapshots.length) {
        const s = lenFieldSize(SNAPSHOTS_FIELD, this.snapshots[j].length);
        if (j > i && size + s > budget) break;
        size += s;
        j++;
      }
      const w = new ProtoWriter(head + size + 16);
      writeOperationHead(w, project, runId);
      w.lenField(RUN_OPERATION.updateBatch, size, () => {
        for (let k = i; k < j; k++) {
          w.tag(SNAPSHOTS_FIELD, WIRE_LEN);
          w.varint(this.snapshots[k].length);
          w.bytes(this.snapshots[k]);
        }
      });
      yield Buffer.from(w.view());
      i = j;
    }
  }
}

/** A step as B orders it (whole, then millionths): two steps closer than a micro-step are the same point. */
function after(step: number, last: { whole: number; micro: number } | undefined): boolean {
  if (!last) return true;
  const s = decomposeStep(step);
  return s.whole > last.whole || (s.whole === last.whole && s.micro > last.micro);
}

/** `<whole>_<micro>`: the step in a storage destination (`.` is avoided in path components, as neptune-scale does). */
function stepLabel(step: number): string {
  const { whole, micro } = decomposeStep(step);
  return micro ? `${whole}_${String(micro).padStart(6, '0')}` : String(whole);
}

const DETAILS: Partial<Record<OmissionReason, string>> = {
  'unsupported-value': 'step outside 0 ≤ step < 1e12',
  'step-not-increasing': 'step not after the previous point of the series (B keeps millionths of a step)',
};

/**
 * The file and histogram series of one Protocol B run. Each call uploads (images), sends and waits
 * until the server processed the points, returning what was refused by path (the caller names the key).
 */
export class BMediaSeries {
  private readonly last = new Map<string, { whole: number; micro: number }>();

  constructor(
    private readonly ctx: BRunContext,
    private readonly project: string,
    private readonly runId: string,
    /** The run existed before this pass: storage may hold images an earlier pass uploaded (uploads.ts `mayHold`). */
    private readonly existed = false,
  ) {}

  /** Points whose path and step B accepts; the rest counted by reason into `out`. */
  private accepted<P extends { step: number }>(path: string, points: readonly P[], out: Omission[]): P[] {
    const bad = checkPath(path);
    if (bad) {
      addOmission(out, { reason: bad.reason, subject: path, count: points.length, detail: bad.detail });
      return [];
    }
    const kept: P[] = [];
    for (const p of points) {
      const why: OmissionReason | undefined = checkStep(p.step) ? 'unsupported-value' : after(p.step, this.last.get(path)) ? undefined : 'step-not-increasing';
      if (why) {
        addOmission(out, { reason: why, subject: path, count: 1, detail: DETAILS[why] });
        continue;
      }
      this.last.set(path, decomposeStep(p.step));
      kept.push(p);
    }
    return kept;
  }

  /**
   * Images → file series `path`: each image's bytes go to `<run id>/<path>/<step>/<name>` in storage
   * (deterministic, so a re-send after a crash overwrites the same object and appends an identical
   * FileRef, which B takes as a duplicate), then one FileRef per step. Captions are not here: a FileRef
   * has none; the mapping writes them as a string series beside (capabilities `imageCaptions`).
   */
  async logImages(path: string, points: readonly ImagePoint[], signal?: AbortSignal): Promise<ImagesAnswer> {
    const out: Omission[] = [];
    const items: Array<{ point: ImagePoint; item: UploadItem }> = [];
    for (const p of this.accepted(path, points, out)) {
      if (!p.localPath) {
        addOmission(out, { reason: 'upload-failed', subject: path, count: 1, detail: 'no local copy of the image to upload' });
        continue;
      }
      const name = p.name || 'image';
      const attribute = `${path}/${stepLabel(p.step)}/${name}`;
      items.push({ point: p, item: { attribute, localPath: p.localPath, sizeBytes: p.data.byteLength, destination: storageDestination(this.runId, attribute), mimeType: mimeTypeOf(name) } });
    }
    const { failed, held } = await this.ctx.uploader.upload(items.map((x) => x.item), signal, { mayHold: this.existed });
    const refs = new MediaSnapshotEncoder(this.ctx.encoderLimits);
    let sent = 0;
    const present: number[] = [];
    for (const { point, item } of items) {
      const why = failed.get(item);
      if (why) {
        addOmission(out, { reason: 'upload-failed', subject: path, count: 1, detail: why });
        continue;
      }
      refs.append(path, point.step, point.timestampMs, { type: 'fileRef', path: item.destination, sizeBytes: item.sizeBytes, mimeType: item.mimeType });
      if (held.has(item)) present.push(point.step);
      sent++;
    }
    const refused = await submitAndWait(refs, this.ctx, this.project, this.runId, signal);
    this.ctx.counters.files += sent - refused.reduce((n, o) => n + o.count, 0);
    // Held in storage and its FileRef taken: the image was there, this pass sent none of its bytes. A
    // refusal names the series, not a step: which held images it took is unknown, so none is claimed
    // present then (they count as the caller counts the series' other images).
    return { refused: [...out, ...refused], alreadyPresent: refused.length ? [] : present };
  }

  /** Histogram points → histogram series `path` (the mapping checked bins and edges against B's rules). */
  async logHistograms(path: string, points: readonly HistogramPoint[], signal?: AbortSignal): Promise<Omission[]> {
    const out: Omission[] = [];
    const enc = new MediaSnapshotEncoder(this.ctx.encoderLimits);
    let sent = 0;
    for (const p of this.accepted(path, points, out)) {
      enc.append(path, p.step, p.timestampMs, { type: 'histogram', edges: p.edges, values: p.values, kind: p.kind });
      sent++;
    }
    const refused = await submitAndWait(enc, this.ctx, this.project, this.runId, signal);
    this.ctx.counters.points += sent - refused.reduce((n, o) => n + o.count, 0);
    return [...out, ...refused];
  }
}
