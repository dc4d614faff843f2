import { PerformanceObserver } from 'node:perf_hooks';
import v8 from 'node:v8';

/**
 * V8 heap settings chosen by measurement (README, "Benchmarks"), set by the CLI itself at start. What a
 * migration keeps alive is small (~25-30 MB for a 5M-point run); its peak RSS is garbage V8 lets pile up:
 * - The young generation: V8 grows it up to 2 × 16 MB (Node 20) or 2 × 64 MB (Node 24) when much
 *   survives a scavenge, as a migration's batches in flight do. It is capped at two 4 MB semi-spaces.
 *   `--max-semi-space-size` is fixed when V8 starts, so the launcher (bin/) restarts in place with it where
 *   Node can (process.execve, Node >= 22.15); elsewhere (Node 20) growth is stopped here once it reaches
 *   the cap (`--semi-space-growth-factor`, read by V8 at each growth).
 * - The old generation: after each full collection V8 lets it grow to up to 4 × what survived; 2 × keeps
 *   a 5M-point migration at ~160 MB instead of ~200 MB on Node 20, for ~10% more CPU
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
