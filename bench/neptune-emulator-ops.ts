/**
 * The Neptune emulator's executeOperations hot path alone, in process (no HTTP): parses and applies
 * requests of 1000 logFloats operations × 100 points (the official client's batch shape) and prints
 * points/s. Used to measure emulator changes before/after.
 *   npx tsx bench/neptune-emulator-ops.ts [--points 2000000] [--series 10]
 */
import { createExperiment, createProject } from '../emulators/neptune/containers.ts';
import { parseJson } from '../emulators/neptune/http-util.ts';
import { executeOperations } from '../emulators/neptune/operations.ts';
import { ensureWorkspace, openDb } from '../emulators/neptune/store.ts';
import { resolveLimits } from '../emulators/neptune/types.ts';
import { arg } from './lib/args.ts';
import { logFloatsBody } from './lib/log-floats.ts';

const total = Number(arg('points', '2000000'));
const series = Number(arg('series', '10'));
const db = openDb(':memory:');
const ws = ensureWorkspace(db, 'demo');
const p = createProject(db, { organizationIdentifier: ws.name, name: 'bench' }, 'u');
const run = createExperiment(db, { projectIdentifier: p.id, customId: 'r1' }, 'u');
const target = { id: run.id, type: 'run', qualifiedName: `demo/bench/${run.short_id}` };
const limits = resolveLimits();

// Requests are built up front so only the emulator's work is timed.
const perSeries = Math.ceil(total / series);
const bodies: Buffer[] = [];
const rowsPerRequest = 100_000 / series;
for (let from = 0; from < perSeries; from += rowsPerRequest) {
  const n = Math.min(rowsPerRequest, perSeries - from);
  const cols = [...Array(series).keys()].map((s) => ({
    path: `metrics/series_${s}`,
    points: Array.from({ length: n }, (_, i) => ({ step: from + i, timestampMs: 1_700_000_000_000 + from + i, value: Math.sin(from + i) * s })),
  }));
  bodies.push(Buffer.from(logFloatsBody(cols, 100)));
}
let parseMs = 0;
let applyMs = 0;
let errors = 0;
for (const b of bodies) {
  const t0 = performance.now();
  const ops = parseJson(b);
  const t1 = performance.now();
  errors += executeOperations(db, limits, target, ops).length;
  applyMs += performance.now() - t1;
  parseMs += t1 - t0;
}
const secs = (parseMs + applyMs) / 1000;
console.log(JSON.stringify({
  points: perSeries * series, requests: bodies.length, errors,
  parseSeconds: +(parseMs / 1000).toFixed(2), applySeconds: +(applyMs / 1000).toFixed(2),
  pointsPerSecond: Math.round((perSeries * series) / secs),
}));
