#!/usr/bin/env node
// Runs the compiled CLI (dist/, built by `npm install` through the `prepare` script). When the sources
// are newer than the build — a developer editing src/ — it runs the TypeScript sources through tsx
// instead, so what runs is never stale.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// V8 heap settings chosen by measurement (README, "Benchmarks"; src/cli/heap.ts sets the rest): 4 MB
// semi-spaces instead of V8's default young generation (up to 2 x 64 MB on Node 24), which made a
// migration's peak RSS on Node 24 ~1.5x Node 20's. Semi-space sizes are fixed when V8 starts, so the
// launcher restarts itself in place with them (process.execve: same pid, same stdio and signals; Node >=
// 22.15 on POSIX). Where that is not available (Node 20) the CLI caps the young generation's growth at
// the same size itself. A user's or the benchmark's own choice of the flag is kept.
const HEAP_FLAGS = ['--max-semi-space-size=4'];
const chosen = [...process.execArgv, process.env.NODE_OPTIONS ?? ''].some((a) => a.includes('--max-semi-space-size'));
if (!chosen && typeof process.execve === 'function' && process.platform !== 'win32') {
  try {
    process.execve(process.execPath, [process.execPath, ...process.execArgv, ...HEAP_FLAGS, ...process.argv.slice(1)], process.env);
  } catch {
    // Could not restart: run with V8's defaults rather than not at all.
  }
}

const root = fileURLToPath(new URL('..', import.meta.url));
const built = `${root}dist/cli/index.js`;

function newestSource(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(path));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

if (existsSync(built) && statSync(built).mtimeMs >= newestSource(`${root}src`)) {
  await import(built);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli/index.ts');
}
