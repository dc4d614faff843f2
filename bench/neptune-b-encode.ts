/**
 * Micro-benchmark of the Protocol B encoder alone (no HTTP, no emulator): N float points as the
 * pipeline hands them over (path-major batches of SeriesPoint objects), grouped into snapshots and
 * encoded into request bodies; or, with `--blocks yes`, as float blocks (Float64Array columns, the
 * history fast path). Prints points/s, CPU-s per million points, bytes per point, peak RSS.
 *   npx tsx bench/neptune-b-encode.ts [--points 5000000] [--series 10] [--batch 20000] [--blocks yes]
 */
import { SnapshotEncoder } from '../src/sinks/neptune-b/snapshots.ts';
import { arg } from './lib/args.ts';

const total = Number(arg('points', '5000000'));
const seriesCount = Number(arg('series', '10'));
const batch = Number(arg('batch', '20000'));
const rowsPerBatch = Math.max(1, Math.floor(batch / seriesCount));
const rows = Math.ceil(total / seriesCount);
const blocks = arg('blocks', 'no') === 'yes';

const enc = new SnapshotEncoder();
const keys = Array.from({ length: seriesCount }, (_, s) => `metrics/series_${s}`);
let bytes = 0;
let requests = 0;
let encoded = 0;
// Blocks are made before the clock starts (as the history reader hands them over): the figure is the encoder's.
const columns = blocks
  ? Array.from({ length: Math.ceil(rows / rowsPerBatch) }, (_, b) => {
      const from = b * rowsPerBatch;
      const n = Math.min(rowsPerBatch, rows - from);
      return {
        n,
        steps: Float64Array.from({ length: n }, (_, i) => from + i),
        timestampsMs: Float64Array.from({ length: n }, (_, i) => 1_700_000_000_000 + (from + i) * 10),
        values: keys.map(() => Float64Array.from({ length: n }, (_, i) => Math.sin((from + i) / 100))),
      };
    })
  : [];
const cpu0 = process.cpuUsage();
const t0 = performance.now();
for (let from = 0, b = 0; from < rows; from += rowsPerBatch, b++) {
  const n = Math.min(rowsPerBatch, rows - from);
  if (blocks) {
    // What RunBatcher hands a target with a block method: rows by column.
    const c = columns[b];
    enc.appendFloatBlock({ steps: c.steps, timestampsMs: c.timestampsMs, keys: keys.map((k) => enc.key(k)), values: c.values, masks: keys.map(() => undefined) }, c.n * keys.length);
  }
  // What RunBatcher hands a target: one array of points per path.
  else for (const path of keys) {
    const pts = new Array(n);
    for (let i = 0; i < n; i++) pts[i] = { step: from + i, timestampMs: 1_700_000_000_000 + (from + i) * 10, value: Math.sin((from + i) / 100) };
    const key = enc.key(path);
    for (const p of pts) enc.appendFloat(key, p.step, p.timestampMs, p.value);
  }
  encoded += enc.pendingPoints;
  for (const body of enc.requests('ws/bench', 'bench-run', Date.now())) {
    bytes += body.length;
    requests++;
  }
  enc.clear();
}
const seconds = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(cpu0);
const cpuSeconds = (cpu.user + cpu.system) / 1e6;
const rss = process.resourceUsage().maxRSS / 1024;
console.log(
  JSON.stringify(
    {
      points: encoded,
      seconds: +seconds.toFixed(3),
      pointsPerSecond: Math.round(encoded / seconds),
      cpuSecondsPerMillionPoints: +((cpuSeconds / encoded) * 1e6).toFixed(3),
      bytesPerPoint: +(bytes / encoded).toFixed(2),
      requests,
      peakRssMB: Math.round(rss),
    },
    null,
    1,
  ),
);
