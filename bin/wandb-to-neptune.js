#!/usr/bin/env node
// Runs the compiled CLI (dist/, built by `npm install` through the `prepare` script). When the sources
// are newer than the build — a developer editing src/ — it runs the TypeScript sources through tsx
// instead, so what runs is never stale.
import { built, distIsCurrent } from './dist-current.js';

// Memory settings chosen by measurement (README, "Benchmarks"; re-checked with `npm run bench -- --heap-sweep`),
// given at start where Node can restart itself in place (process.execve: same pid, stdio and signals; Node
// >= 22.15 on POSIX). Where it cannot (Node 20), src/cli/heap.ts sets what V8 lets it set at run time.
// - 4 MB semi-spaces instead of V8's young generation of up to 2 x 64 MB (Node 24), which made a migration's
//   peak RSS ~1.5x Node 20's (8 and 16 MB measured no less CPU on Node 24, for +30-50 MB).
// - The old generation grown to 1.75x what survived a full collection, not V8's up to 4x: 8 runs of 1M
//   points at once on Node 24 peaked at 273-294 MB for 2.6 CPU-s per million points, against 298-303 MB
//   at 2x (2.45) and 265-279 MB at 1.5x (2.85). Node 20 (src/cli/heap.ts) keeps 2x: it cannot be restarted
//   with MALLOC_ARENA_MAX, and its own figures are read in the README.
// - glibc's malloc keeps one arena per thread that allocates (V8's GC and compiler threads, libuv's pool),
//   each holding freed memory: two arenas took ~10-30 MB off 8 big runs at once, at no measured CPU cost.
// - glibc's thresholds fixed at its defaults (trim the top of a heap past 128 KB free, no top pad): left
//   dynamic, freeing one large mmapped block raises them to twice its size, and the arenas then kept up to
//   that much free memory each. Sampled in (c) on Node 24 (malloc_info, smaps), the second arena held
//   9.3 MB free of its 9.7 MB and the main heap crept 19.7 -> 22.7 MB over 10,000 runs; fixed, the main
//   heap stayed at 14.7 MB and the RSS flat (134 MB from 1,400 to 3,500 runs, against 139 -> 142).
// A flag or variable the user (or the benchmark) gave is kept.
const START_FLAGS = ['--max-semi-space-size=4', '--heap-growing-percent=75'];
const START_ENV = { MALLOC_ARENA_MAX: '2', MALLOC_TRIM_THRESHOLD_: '131072', MALLOC_TOP_PAD_: '0' };
const given = [...process.execArgv, process.env.NODE_OPTIONS ?? ''];
const missing = START_FLAGS.filter((f) => !given.some((a) => a.includes(f.slice(0, f.indexOf('=')))));
if (missing.length > 0 && typeof process.execve === 'function' && process.platform !== 'win32') {
  try {
    process.execve(process.execPath, [process.execPath, ...process.execArgv, ...missing, ...process.argv.slice(1)], { ...START_ENV, ...process.env });
  } catch {
    // Could not restart: run with what src/cli/heap.ts can set at run time rather than not at all.
  }
}

if (distIsCurrent()) {
  await import(built);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli/index.ts');
}
