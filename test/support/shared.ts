import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../..');

/**
 * A path inside the steering repo's `shared/` folder, which sits beside the clone (`../shared`) in
 * CI and on developer machines. `W2N_SHARED` overrides. Tests that need it say so when it is absent.
 */
export function sharedPath(relative: string): string {
  const roots = [process.env.W2N_SHARED, resolve(ROOT, '../shared'), '/work/shared'].filter((r): r is string => !!r);
  for (const root of roots) {
    const p = resolve(root, relative);
    if (existsSync(p)) return p;
  }
  return resolve(roots[0] ?? resolve(ROOT, '../shared'), relative);
}
