/**
 * Reads all history of the emulator's 'big-run' preset (5,000,000 points by default) through the W&B
 * reader and prints points/s and the reader's peak RSS. Run:
 *   /usr/bin/time -v npx tsx bench/wandb-read.ts [points]
 * The emulator runs in a child process so the RSS figure is the reader's own (`/usr/bin/time -v` reports
 * the largest process of the tree, which may be the emulator). The export is written before timing starts.
 */
import { fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { generateEntity, startWandbEmulator } from '../emulators/wandb/index.ts';
import { createWandbSource } from '../src/sources/wandb/index.ts';

const points = Number(process.argv[2] ?? 5_000_000);
const KEY = 'benchkey-0123456789abcdef0123456789abcdef0';
const gen = generateEntity({ seed: 1, preset: 'big-run', points });

if (process.argv[3] === '--emulator') {
  const emu = await startWandbEmulator({ apiKeys: [KEY], entity: gen });
  process.send!({ url: emu.url });
  process.on('disconnect', () => void emu.close().then(() => process.exit(0)));
} else {
  await main();
}

async function main(): Promise<void> {
const child = fork(fileURLToPath(import.meta.url), [String(points), '--emulator'], { execArgv: process.execArgv, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
const url = await new Promise<string>((resolve, reject) => {
  child.once('message', (m) => resolve((m as { url: string }).url));
  child.once('exit', (code) => reject(new Error(`emulator exited with ${code}`)));
});
const emu = { url, close: async () => { child.disconnect(); } };
const source = createWandbSource({ baseUrl: emu.url, apiKey: KEY, env: {} });

let peak = 0;
let peakHeap = 0;
let peakBuffers = 0;
const sample = () => {
  const m = process.memoryUsage();
  peak = Math.max(peak, m.rss);
  peakHeap = Math.max(peakHeap, m.heapUsed);
  peakBuffers = Math.max(peakBuffers, m.arrayBuffers);
};
const timer = setInterval(sample, 50);

const project = gen.projects[0];
const runs = [];
for await (const r of source.listRuns(project.name, {})) runs.push(r);
const run = runs[0];

// Warm-up: have the emulator write its parquet export before the clock starts.
const t0 = performance.now();
for await (const _ of source.history(run, { fromStep: Number.MAX_SAFE_INTEGER - 1 })) void _;
const exportMs = performance.now() - t0;
sample();
const rssBefore = process.memoryUsage().rss;

const started = performance.now();
let rows = 0;
let pts = 0;
let lastStep = -1;
for await (const row of source.history(run, {})) {
  if (row.step <= lastStep) throw new Error(`step ${row.step} after ${lastStep}`);
  lastStep = row.step;
  rows++;
  for (const k in row.values) if (!k.startsWith('_')) pts++;
}
const secs = (performance.now() - started) / 1000;
clearInterval(timer);
sample();
const expectedRows = project.runs[0].historyRowCount;
console.log(JSON.stringify({
  preset: 'big-run', requestedPoints: points, rows, expectedRows, metricPoints: pts,
  seconds: Number(secs.toFixed(2)), pointsPerSecond: Math.round(pts / secs), rowsPerSecond: Math.round(rows / secs),
  peakRssMB: Math.round(peak / 1048576),
  // The kernel's own high-water mark of this process (the reader), which a sampler cannot miss.
  vmHwmMB: Math.round(Number(/VmHWM:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? 0) / 1024), peakHeapUsedMB: Math.round(peakHeap / 1048576), peakArrayBuffersMB: Math.round(peakBuffers / 1048576), rssBeforeReadMB: Math.round(rssBefore / 1048576), exportWarmupSeconds: Number((exportMs / 1000).toFixed(1)),
  requests: source.stats(),
}, null, 1));
if (rows !== expectedRows) process.exitCode = 1;
await source.close();
await emu.close();
}
