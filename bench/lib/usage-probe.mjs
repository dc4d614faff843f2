// Preloaded (`--import`) into the migration CLI by the benchmark: on exit, the process writes its own CPU
// time (process.cpuUsage: stable on a shared machine, unlike wall time) and peak RSS to
// $W2N_BENCH_USAGE_DIR/<pid>.json. Every Node process of the CLI writes one (a launcher that re-executes
// itself with other V8 flags included), so the benchmark sums CPU and takes the largest RSS.
// It also samples memory over the migration, for "does it grow with the run count" (lib/memory-growth.ts):
// - the heap V8 kept after each full (mark-compact) collection: what is still reachable then, the one
//   honest figure of retained objects that needs no extra collection (a forced gc() would change what is
//   measured). Read when the observer is told, a tick after the collection: what was allocated in that
//   tick is included (at most the 4 MB young generation the CLI sets).
// - once a second, the RSS (what the allocator keeps, live or not), and of it V8's heap as committed
//   (heapTotal) and the memory outside it V8 knows of (external: buffers): what is neither is the
//   allocator's own (glibc arenas, SQLite, undici, code).
// Samples are flat number arrays ([epoch ms, bytes, ...]); a 10-minute migration keeps a few thousand.
import { writeFileSync } from 'node:fs';
import { constants, PerformanceObserver } from 'node:perf_hooks';

const dir = process.env.W2N_BENCH_USAGE_DIR;
if (dir) {
  const afterFullGc = []; // epoch ms, heapUsed, external (incl. array buffers)
  const rss = []; // epoch ms, rss, heapTotal, external
  const observer = new PerformanceObserver((list) => {
    if (!list.getEntries().some((e) => e.detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR)) return;
    const m = process.memoryUsage();
    afterFullGc.push(Date.now(), m.heapUsed, m.external);
  });
  observer.observe({ entryTypes: ['gc'] });
  setInterval(() => {
    const m = process.memoryUsage();
    rss.push(Date.now(), m.rss, m.heapTotal, m.external);
  }, 1000).unref();
  process.on('exit', () => {
    const cpu = process.cpuUsage();
    const usage = { pid: process.pid, cpuUserMicros: cpu.user, cpuSystemMicros: cpu.system, maxRssKb: process.resourceUsage().maxRSS, execArgv: process.execArgv, afterFullGc, rss };
    writeFileSync(`${dir}/${process.pid}.json`, JSON.stringify(usage));
  });
}
