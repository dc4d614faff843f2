import { PerformanceObserver } from 'node:perf_hooks';
import v8 from 'node:v8';

/**
 * V8 heap settings chosen by measurement (README, "Benchmarks"; `npm run bench -- --heap-sweep` re-checks
 * them), set by the CLI itself. What a migration keeps alive is small (~25-30 MB for a 5M-point run); its
 * peak RSS is garbage V8 lets pile up. Where Node can restart in place (process.execve, Node >= 22.15) the
 * launcher (bin/) gives these at start, with glibc's MALLOC_ARENA_MAX, which no run-time call can set;
 * elsewhere (Node 20) this sets what V8 reads at run time:
 * - The young generation: V8 grows it up to 2 × 16 MB (Node 20) when much survives a scavenge, as a
 *   migration's batches in flight do. Growth is stopped at two 4 MB semi-spaces (`--semi-space-growth-factor`,
 *   read by V8 at each growth). 8 MB measured ~15% less CPU per point but ~+50 MB with 8 big runs at once
 *   (over the 300 MB goal), so 4 MB it stays on Node 20.
 * - The old generation: after each full collection V8 lets it grow to up to 4 × what survived; 2 × keeps
 *   a 5M-point migration at ~140-150 MB instead of ~230-250 MB on Node 20, for ~20-30% more CPU
 *   (`--heap-growing-percent`, read by V8 after each full collection).
 * A user's own choice of either flag (command line or NODE_OPTIONS) is kept.
 */
const YOUNG_GENERATION_BYTES = 2 * 4 * 1024 * 1024;
const OLD_GENERATION_GROWING_PERCENT = 100;

export function tuneHeap(nodeArgs: readonly string[] = [...process.execArgv, process.env.NODE_OPTIONS ?? '']): void {
  const chosen = (flag: string) => nodeArgs.some((a) => a.includes(flag));
  if (!chosen('--heap-growing-percent')) v8.setFlagsFromString(`--heap-growing-percent=${OLD_GENERATION_GROWING_PERCENT}`);
  if (chosen('--max-semi-space-size') || chosen('--semi-space-growth-factor')) return;
  const young = () => v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_size ?? 0;
  // Told after each collection (the young generation only grows during one).
  const observer = new PerformanceObserver(() => {
    if (young() < YOUNG_GENERATION_BYTES) return;
    v8.setFlagsFromString('--semi-space-growth-factor=1');
    observer.disconnect();
  });
  observer.observe({ entryTypes: ['gc'] });
}
