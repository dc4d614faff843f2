/**
 * Writes N float points (default 10 series × 500k = 5M) to a Neptune emulator running in a child process,
 * through the Protocol A writer, and prints points/s, requests and peak RSS of the writer process.
 *   npx tsx bench/neptune-write.ts [--points 5000000] [--series 10] [--chunk 50000]
 *                                  [--float-points-per-op 100] [--ops-per-request 1000] [--url U --token T]
 */
import type { NeptuneStats } from '../emulators/neptune/index.ts';
import { createNeptuneClient } from '../src/sinks/neptune/index.ts';
import { arg } from './lib/args.ts';
import { startEmulatorChild } from './lib/children.ts';

async function startEmulator(): Promise<{ url: string; token: string; close: () => Promise<void> }> {
  const emu = await startEmulatorChild<NeptuneStats>({ kind: 'neptune' });
  return { url: emu.info.url, token: emu.info.env.NEPTUNE_API_TOKEN, close: () => emu.close() };
}

const total = Number(arg('points', '5000000'));
const seriesCount = Number(arg('series', '10'));
const chunk = Number(arg('chunk', '50000'));
const perSeries = Math.ceil(total / seriesCount);

const given = arg('url', '') && arg('token', '') ? { url: arg('url', ''), token: arg('token', ''), close: undefined } : undefined;
const emu = given ?? (await startEmulator());
const client = createNeptuneClient({
  token: emu.token,
  limits: { maxFloatPointsPerOp: Number(arg('float-points-per-op', '100')), maxOpsPerRequest: Number(arg('ops-per-request', '1000')) },
});
try {
  const project = await client.ensureProject('demo', 'bench');
  const run = await client.openRun(project, `bench-${Date.now().toString(36)}`);
  const t0 = performance.now();
  let flushTime = 0;
  for (let from = 0; from < perSeries; from += chunk) {
    const n = Math.min(chunk, perSeries - from);
    for (let s = 0; s < seriesCount; s++) {
      const pts = new Array(n);
      for (let i = 0; i < n; i++) pts[i] = { step: from + i, timestampMs: 1_700_000_000_000 + (from + i) * 10, value: Math.sin((from + i) / 100) * s };
      const out = run.logFloats(`metrics/series_${s}`, pts);
      if (out.omissions.length) throw new Error(`unexpected omissions: ${JSON.stringify(out.omissions)}`);
    }
    const f0 = performance.now();
    const res = await run.flush();
    flushTime += performance.now() - f0;
    if (res.errors.length) throw new Error(`server errors: ${JSON.stringify(res.errors.slice(0, 3))}`);
  }
  const seconds = (performance.now() - t0) / 1000;
  const st = client.stats();
  const check = await run.lastSteps();
  const ok = [...Array(seriesCount).keys()].every((s) => check.get(`metrics/series_${s}`) === perSeries - 1);
  console.log(JSON.stringify({
    points: st.points,
    seconds: Number(seconds.toFixed(2)),
    pointsPerSecond: Math.round(st.points / seconds),
    flushSeconds: Number((flushTime / 1000).toFixed(2)),
    executeOperationsRequests: st.batches,
    httpRequests: st.requests,
    operations: st.operations,
    megabytesSent: Number((st.bytes / 1e6).toFixed(1)),
    peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
    lastStepsVerified: ok,
  }, null, 2));
} finally {
  await client.close();
  await emu.close?.();
}
