import type { NeptuneLimits } from './limits.ts';
import { estimateAtomBytes, type BatchOp, type WireOp } from './operations.ts';
import type { SeriesBuffer } from './series.ts';

/** One `executeOperations` request and how far it advances each buffer once acknowledged. */
export interface Batch {
  /** Atoms as wire operations, series points as slices of their buffers (`body.ts` writes both). */
  ops: BatchOp[];
  points: number;
  /** Atoms before this index are in this or an earlier batch. */
  atomsUpTo: number;
  /** Per series: points before this index are in this or an earlier batch. */
  seriesUpTo: Map<string, number>;
  paths: string[];
}

export interface PendingView {
  atoms: readonly WireOp[];
  atomsFrom: number;
  atomsEnd: number;
  series: ReadonlyMap<string, SeriesBuffer<number> | SeriesBuffer<string>>;
  /** Per series: send points with index < end only (what was buffered when the flush began). */
  seriesEnd: ReadonlyMap<string, number>;
}

const FLOAT_ENTRY_BYTES = 72;
const STRING_ENTRY_OVERHEAD = 64;

/**
 * Cuts pending writes into requests: atoms first (in order), then each series in chunks of
 * `maxFloatPointsPerOp` / `maxStringPointsPerOp` points per op; a request closes at `maxOpsPerRequest`
 * ops or `maxRequestBytes` estimated bytes. Lazy, so a flush never materialises all requests at once.
 */
export function* planBatches(view: PendingView, limits: NeptuneLimits): Generator<Batch> {
  let batch = newBatch(view.atomsFrom);
  let bytes = 2;
  const full = (more: number) => batch.ops.length >= limits.maxOpsPerRequest || (batch.ops.length > 0 && bytes + more > limits.maxRequestBytes);
  const rotate = function* () {
    if (batch.ops.length > 0) yield batch;
    const next = newBatch(batch.atomsUpTo);
    next.atomsUpTo = batch.atomsUpTo;
    batch = next;
    bytes = 2;
  };

  for (let i = view.atomsFrom; i < view.atomsEnd; i++) {
    const op = view.atoms[i];
    const size = estimateAtomBytes(op);
    if (full(size)) yield* rotate();
    batch.ops.push(op);
    batch.paths.push(op.path);
    batch.atomsUpTo = i + 1;
    bytes += size;
  }

  for (const [path, buf] of view.series) {
    const end = Math.min(view.seriesEnd.get(path) ?? buf.length, buf.length);
    const perOp = buf.kind === 'float' ? limits.maxFloatPointsPerOp : limits.maxStringPointsPerOp;
    let i = buf.committed;
    while (i < end) {
      let opBytes = path.length + 40;
      let j = i;
      for (; j < end && j - i < perOp; j++) {
        const size = buf.kind === 'float' ? FLOAT_ENTRY_BYTES : STRING_ENTRY_OVERHEAD + (buf.values as string[])[j].length * 1.1;
        if (j > i && opBytes + size > limits.maxRequestBytes / 2) break;
        opBytes += size;
      }
      if (j > i) {
        if (full(opBytes)) yield* rotate();
        batch.ops.push({ path, buf, from: i, to: j });
        batch.paths.push(path);
        batch.points += j - i;
        bytes += opBytes;
      }
      batch.seriesUpTo.set(path, j);
      i = j;
    }
  }
  if (batch.ops.length > 0 || batch.seriesUpTo.size > 0 || batch.atomsUpTo > view.atomsFrom) yield batch;
}

function newBatch(atomsUpTo: number): Batch {
  return { ops: [], points: 0, atomsUpTo, seriesUpTo: new Map(), paths: [] };
}
