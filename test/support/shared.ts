import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../..');

/** The steering repo's `shared/` folder: it sits beside the clone (`<repo>/../shared`), in CI and on developer machines. */
export const SHARED_ROOT = resolve(ROOT, '../shared');

/**
 * A path inside `../shared`, resolved from the repo root. A test that needs it fails when it is
 * missing (at collection, naming the path): a check that silently did not run is not a pass.
 */
export function sharedPath(relative: string): string {
  const p = resolve(SHARED_ROOT, relative);
  if (!existsSync(p)) throw new Error(`${p} is missing: the tests need the shared reference folder beside the clone (${SHARED_ROOT})`);
  return p;
}
