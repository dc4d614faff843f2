/**
 * The Neptune emulator's Protocol B ingest stages in-process, one at a time (no HTTP): decoding the
 * request bodies, keeping them (the queue's SQLite row), applying them to the store. Bodies are what
 * the writer sends (N float points, --series per row, --batch points per request). Prints points per
 * CPU-second and CPU-µs per point of each stage, to tell which one bounds bench/neptune-b-ingest.ts.
 *   npx tsx bench/neptune-b-stages.ts [--points 2000000] [--series 10] [--batch 20000]
 */
import { openDb, ensureWorkspace } from '../emulators/neptune/store.ts';
import { applyRunOperation } from '../emulators/neptune-b/ingest.ts';
import { openBTables } from '../emulators/neptune-b/store.ts';
import { encodeCreate } from '../emulators/neptune-b/test-wire.ts';
import { decodeRunOperation } from '../emulators/neptune-b/wire.ts';
import { SnapshotEncoder } from '../src/sinks/neptune-b/snapshots.ts';
import { loadavg } from 'node:os';
import { arg } from './lib/args.ts';

const total = Number(arg('points', '2000000'));
const seriesCount = Number(arg('series', '10'));
const batch = Number(arg('batch', '20000'));
const rowsPerBatch = Math.max(1, Math.floor(batch / seriesCount));
const rows = Math.ceil(total / seriesCount);
const PROJECT = 'demo/stages';

const enc = new SnapshotEncoder();
const keys = Array.from({ length: seriesCount }, (_, s) => enc.key(`metrics/series_${s}`));
const bodies: Uint8Array[] = [];
for (let from = 0; from < rows; from += rowsPerBatch) {
  const n = Math.min(rowsPerBatch, rows - from);
  for (const k of keys) for (let i = 0; i < n; i++) enc.appendFloat(k, from + i, 1_700_000_000_000 + (from + i) * 10, Math.sin(from + i));
  for (const b of enc.requests(PROJECT, 'run-1', Date.now())) bodies.push(Buffer.from(b));
  enc.clear();
}
const points = rows * seriesCount;

const db = openDb(':memory:');
ensureWorkspace(db, 'demo');
openBTables(db);
const rules = { nanInf: 'refuse' as const };
const created = applyRunOperation(db, rules, decodeRunOperation(encodeCreate(PROJECT, 'run-1', {}, true)), 'bench', Date.now());
if (created.fatal || created.ok !== 1) throw new Error(`CreateRun failed: ${JSON.stringify(created)}`);

/** CPU seconds (user + system) of `f`: on a shared machine wall time follows the load. */
const time = (f: () => void): number => {
  const c0 = process.cpuUsage();
  f();
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1e6;
};
// One request at a time, as the emulator holds them (nothing decoded is kept across requests).
time(() => { for (const b of bodies.slice(0, 5)) decodeRunOperation(b); }); // warms the JIT and the path cache
const ins = db.prepare('INSERT INTO b_requests(id, project, username, received_ms, body) VALUES (?, ?, ?, ?, ?)');
let decode = 0;
let keep = 0;
let apply = 0;
let stored = 0;
bodies.forEach((b, i) => {
  let op!: ReturnType<typeof decodeRunOperation>;
  decode += time(() => { op = decodeRunOperation(b); });
  keep += time(() => { ins.run(`stage-${i}`, PROJECT, 'bench', 0, b); });
  apply += time(() => {
    const o = applyRunOperation(db, rules, op, 'bench', Date.now());
    if (o.fatal || o.issues.length) throw new Error(`apply: ${JSON.stringify(o.fatal ?? o.issues[0])}`);
    stored += o.pointsStored;
  });
});
if (stored !== points) throw new Error(`stored ${stored} of ${points} points`);
const figure = (s: number) => ({ pointsPerCpuSecond: Math.round(points / s), cpuMicrosPerPoint: +((s / points) * 1e6).toFixed(3) });
console.log(JSON.stringify({
  points, requests: bodies.length, bytesPerPoint: +(bodies.reduce((a, b) => a + b.length, 0) / points).toFixed(1),
  decode: figure(decode), keepBody: figure(keep), apply: figure(apply), all: figure(decode + keep + apply), loadAverage: loadavg()[0],
}, null, 1));
