/**
 * Builds dist/ the way `npm install` does (the `prepare` script), so the CLI the benchmark measures is the
 * compiled one a user runs: the launcher (bin/) runs dist/ when it is newer than src/, and the TypeScript
 * sources through tsx only otherwise — a developer's mode, whose loader and transpiler cost ~40 MB of
 * memory and a second of CPU that no user pays.
 */
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { ROOT } from './children.ts';

/**
 * Whether the launcher will run dist/ (true) or, being older than src/, the sources through tsx: with
 * `--build no` after an edit, the figures would be tsx's (its loader and transpiling), not the product's.
 */
export { distIsCurrent } from '../../bin/dist-current.js';

export function buildDist(): void {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`building dist/ failed (tsc exit ${r.status ?? r.signal})`);
}

