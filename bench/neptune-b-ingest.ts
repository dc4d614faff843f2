/**
 * The Neptune emulator's Protocol B ingest alone: request bodies encoded up front (N float points,
 * --series series per row, --batch points per request), then submitted to the emulator (its own
 * process, no status delay) and waited on through /ingest/check, as the writer does. Prints points/s
 * of the emulator's ingest, so an end-to-end figure can be told apart from the emulator's limit, and
 * the emulator process's own CPU time in that window (/proc/<pid>/stat): on a shared machine wall
 * time follows the load, while points per emulator CPU-second is what it sustains with a core to itself.
 *   npx tsx bench/neptune-b-ingest.ts [--points 1000000] [--series 10] [--batch 20000]
 */
import type { NeptuneStats } from '../emulators/neptune/index.ts';
import { NeptuneBTarget } from '../src/sinks/neptune-b/target.ts';
import { IngestClient } from '../src/sinks/neptune-b/ingest.ts';
import { SnapshotEncoder } from '../src/sinks/neptune-b/snapshots.ts';
import { createNeptuneSession } from '../src/sinks/neptune/client.ts';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { arg } from './lib/args.ts';
import { killChildren, startEmulatorChild } from './lib/children.ts';

const total = Number(arg('points', '1000000'));
const seriesCount = Number(arg('series', '10'));
const batch = Number(arg('batch', '20000'));
const rowsPerBatch = Math.max(1, Math.floor(batch / seriesCount));
const rows = Math.ceil(total / seriesCount);

/** User + system CPU seconds of a process so far (Linux /proc/<pid>/stat, fields 14 and 15, in clock ticks of 1/100 s). */
function cpuSecondsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

const emu = await startEmulatorChild<NeptuneStats>({ kind: 'neptune', protocolB: { statusDelayMs: 0 } });
try {
  const token = emu.info.env.NEPTUNE_API_TOKEN;
  const target = new NeptuneBTarget({ token });
  const project = await target.ensureProject('demo', 'bench-b', { description: 'bench', fields: [] });
  const runId = `ingest-${Date.now().toString(36)}`;
  await target.openRun(project, runId, undefined, { createdAtMs: Date.now() });
  await target.close();

  // Bodies first: the clock below covers the emulator's side only (plus loopback HTTP).
  const enc = new SnapshotEncoder();
  const keys = Array.from({ length: seriesCount }, (_, s) => enc.key(`metrics/series_${s}`));
  const bodies: Buffer[] = [];
  for (let from = 0; from < rows; from += rowsPerBatch) {
    const n = Math.min(rowsPerBatch, rows - from);
    for (const k of keys) for (let i = 0; i < n; i++) enc.appendFloat(k, from + i, 1_700_000_000_000 + (from + i) * 10, Math.sin(from + i));
    for (const b of enc.requests(project.qualifiedName, runId, Date.now())) bodies.push(Buffer.from(b));
    enc.clear();
  }
  const session = createNeptuneSession({ token });
  const ingest = new IngestClient(session.api);
  await session.auth.accessToken();
  const emuCpu0 = cpuSecondsOf(emu.pid);
  const t0 = performance.now();
  // As the writer runs: one batch in flight while the next is prepared, so submit, then wait.
  for (const body of bodies) {
    const id = await ingest.submit(body, 'bench ingest');
    await ingest.waitProcessed(project.qualifiedName, [id]);
  }
  const seconds = (performance.now() - t0) / 1000;
  const emuCpu = cpuSecondsOf(emu.pid) - emuCpu0;
  const points = rows * seriesCount;
  console.log(JSON.stringify({
    points, requests: bodies.length, seconds: +seconds.toFixed(2), emulatorPointsPerSecond: Math.round(points / seconds), statusChecks: ingest.stats.statusChecks,
    emulatorCpuSeconds: +emuCpu.toFixed(2), emulatorPointsPerCpuSecond: Math.round(points / emuCpu), loadAverage: loadavg()[0],
  }, null, 1));
  await session.http.close();
} finally {
  await emu.close();
  killChildren();
}
