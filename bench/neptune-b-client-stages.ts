/**
 * The product's side of scenario (a) over Protocol B, stage by stage, in this process (the W&B and
 * Neptune emulators each in their own): the CPU each stage of one big run's history costs the client.
 *   download  the export files to disk (downloadToFile: HTTP, MD5, file writes);
 *   read      the files into history blocks (parquetFileBlocks: own numeric reader, hyparquet for the rest);
 *   map       blocks → float series blocks (mapHistoryBlock), in the batch-sized row ranges pumpHistory uses;
 *   check+encode  NeptuneBRun.appendFloatBlock (B's per-point checks) and the request bodies (SnapshotEncoder);
 *   send      (with --send yes) the bodies through the product's IngestClient to the Neptune emulator and
 *             their statuses through its StatusPoller, two flushes in flight as RunBatcher keeps them.
 * Each synchronous stage is timed with process.cpuUsage() around its own calls; the asynchronous ones
 * (download, send) by the whole pass minus what the synchronous stages inside it took.
 *   npx tsx bench/neptune-b-client-stages.ts [--points 5000000] [--batch 20000] [--send yes] [--rounds 1]
 *     [--page v1|v2] (the emulator's export pages: DATA_PAGE v1, as pyarrow writes, or v2)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HistoryBlock } from '../src/core/records.ts';
import { HttpClient } from '../src/http/client.ts';
import { emptyPoints } from '../src/mapping/history.ts';
import { mapHistoryBlock } from '../src/mapping/history-block.ts';
import { protocolBCapabilities } from '../src/mapping/capabilities.ts';
import { SeriesPathPlanner } from '../src/mapping/series-paths.ts';
import { NeptuneBTarget } from '../src/sinks/neptune-b/target.ts';
import type { NeptuneBRun } from '../src/sinks/neptune-b/run.ts';
import { SnapshotEncoder } from '../src/sinks/neptune-b/snapshots.ts';
import { downloadToFile } from '../src/sources/wandb/download.ts';
import { parquetFileBlocks } from '../src/sources/wandb/parquet-blocks.ts';
import { parquetStepRange } from '../src/sources/wandb/parquet-rows.ts';
import { arg } from './lib/args.ts';
import { parquetUrls } from './lib/bare-loop.ts';
import { killChildren, startEmulatorChild } from './lib/children.ts';

const points = Number(arg('points', '5000000'));
const batch = Number(arg('batch', '20000'));
const send = arg('send', 'no') === 'yes';
const rounds = Number(arg('rounds', '1'));
const page = arg('page', 'v2');
if (page !== 'v1' && page !== 'v2') throw new Error(`--page must be v1 or v2 (got ${page})`);

const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
/** CPU seconds spent in `f` (synchronous), added to `into[name]`. */
function timed<T>(into: Record<string, number>, name: string, f: () => T): T {
  const c0 = cpu();
  try {
    return f();
  } finally {
    into[name] = (into[name] ?? 0) + cpu() - c0;
  }
}

const work = mkdtempSync(join(tmpdir(), 'w2n-stages-'));
const signal = new AbortController().signal;
process.on('exit', () => {
  killChildren();
  rmSync(work, { recursive: true, force: true });
});
const wandb = await startEmulatorChild({ kind: 'wandb', entity: { kind: 'preset', spec: { seed: 1, preset: 'big-run', points } }, workDir: join(work, 'export'), exportPages: page });
const run = wandb.info.runs![0];
const urls = await parquetUrls({ url: wandb.info.url, apiKey: wandb.info.env.WANDB_API_KEY, entity: wandb.info.env.WANDB_ENTITY, project: run.project, runId: run.runId }, signal);
const neptune = send ? await startEmulatorChild({ kind: 'neptune', protocolB: { statusDelayMs: 0 } }) : undefined;

for (let round = 1; round <= rounds; round++) {
  const stages: Record<string, number> = {};
  const wall: Record<string, number> = {};
  // Download: the product's downloader (storage URLs carry no credentials).
  const http = new HttpClient({ service: 'W&B' });
  const dir = mkdtempSync(join(work, 'dl-'));
  let t0 = performance.now();
  let c0 = cpu();
  const files = await Promise.all(urls.map((url, i) => downloadToFile({ url, route: () => ({ http, headers: {} }), dir, fileName: `export-${i}.parquet`, what: `export file ${i + 1}`, signal })));
  stages.download = cpu() - c0;
  wall.download = performance.now() - t0;
  await http.close();
  const ranges = await Promise.all(files.map((f) => parquetStepRange(f.path)));
  const order = files.map((_, i) => i).sort((a, b) => ranges[a]!.min - ranges[b]!.min);

  // Read, map, check + encode (and send): one pass, each stage timed around its own calls.
  let target: NeptuneBTarget | undefined;
  let bRun: NeptuneBRun | undefined;
  if (neptune) {
    target = new NeptuneBTarget({ env: neptune.info.env });
    const project = await target.ensureProject('demo', `stages-${round}`, { description: '', fields: [] }, signal);
    bRun = (await target.openRun(project, `run-${round}`, signal, { ledgerStarted: false })) as NeptuneBRun;
    await bRun.state(signal);
  }
  const planner = new SeriesPathPlanner([]);
  const mapping = { include: new Set<never>(), capabilities: protocolBCapabilities() };
  const encoder = new SnapshotEncoder();
  let bytes = 0;
  let requests = 0;
  let written = 0;
  const flushes: Promise<unknown>[] = [];
  t0 = performance.now();
  c0 = cpu();
  const perRow = 10;
  for (const i of order) {
    const blocks = parquetFileBlocks(files[i].path, { fromStep: 0, where: `export file ${i + 1}` });
    for (;;) {
      const c1 = cpu();
      const next = await blocks.next();
      stages.read = (stages.read ?? 0) + cpu() - c1;
      if (next.done) break;
      const block: HistoryBlock = next.value;
      for (let from = 0; from < block.length; ) {
        const to = Math.min(block.length, from + Math.ceil(batch / perRow));
        const floats = timed(stages, 'map', () => mapHistoryBlock(block, from, to, planner, mapping, 0, emptyPoints()));
        from = to;
        if (!floats) continue;
        if (bRun) {
          timed(stages, 'check', () => bRun!.appendFloatBlock(floats));
          // Two flushes in flight, as RunBatcher keeps them for a run that takes appends during a flush.
          if (flushes.length >= 2) await flushes.shift();
          const f = bRun.flush(signal);
          f.catch(() => {});
          flushes.push(f);
        } else {
          // The run's checks with no server behind it: the encoder the run would use, bodies measured.
          timed(stages, 'encode', () => {
            encoder.appendFloatBlock({ steps: floats.steps, timestampsMs: floats.timestampsMs, keys: floats.series.map((c) => encoder.key(c.path)), values: floats.series.map((c) => c.values), masks: floats.series.map((c) => c.present) }, floats.series.length * (to - from));
            for (const body of encoder.requests('demo/stages', `run-${round}`, Date.now())) {
              bytes += body.length;
              requests++;
            }
            encoder.clear();
          });
        }
        written += floats.series.length * floats.steps.length;
      }
    }
  }
  await Promise.all(flushes);
  const passCpu = cpu() - c0;
  wall.pass = performance.now() - t0;
  if (target) {
    const s = target.stats();
    bytes = s.bytes;
    requests = s.ingestRequests;
    stages['send+status (rest of the pass)'] = passCpu - (stages.read ?? 0) - (stages.map ?? 0) - (stages.check ?? 0);
    await target.close();
  }
  rmSync(dir, { recursive: true, force: true });
  const m = written / 1e6;
  console.log(`\nround ${round} · ${process.version} · load average ${loadavg()[0].toFixed(1)} · ${written.toLocaleString()} points · ${requests} requests, ${(bytes / 1e6).toFixed(1)} MB${page === 'v1' ? ' · export in DATA_PAGE v1' : ''}`);
  console.log(`  ${'stage'.padEnd(34)}${'CPU-s'.padStart(8)}${'CPU-s/M'.padStart(9)}`);
  for (const [k, v] of Object.entries(stages)) console.log(`  ${k.padEnd(34)}${v.toFixed(3).padStart(8)}${(v / m).toFixed(3).padStart(9)}`);
  const total = Object.values(stages).reduce((a, b) => a + b, 0);
  console.log(`  ${'all of it'.padEnd(34)}${total.toFixed(3).padStart(8)}${(total / m).toFixed(3).padStart(9)}`);
  console.log(`  wall: download ${(wall.download / 1000).toFixed(2)} s, the rest ${(wall.pass / 1000).toFixed(2)} s; peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`);
}
await wandb.close();
await neptune?.close();
