import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { processAlive } from '../ledger/lock.ts';

/** The folder beside the ledger where downloads wait for their upload. */
export const STAGING_FOLDER = 'wandb-to-neptune-staging';

export interface Staging {
  /** This process's own folder (`<host>-<pid>`), made on creation. */
  readonly dir: string;
  /** Leftovers of dead processes removed at start (for the log). */
  readonly cleaned: string[];
  remove(): void;
}

/**
 * Downloads are staged beside the ledger, not in $TMPDIR: a `kill -9` leaves them where the next run
 * looks. Each process stages under `<host>-<pid>`; at start, the folders of processes of this host
 * that are no longer alive are removed (a live process's folder is never touched).
 */
export function prepareStaging(root: string): Staging {
  const base = join(root, STAGING_FOLDER);
  const host = hostname();
  const cleaned: string[] = [];
  let entries: string[] = [];
  try {
    entries = readdirSync(base);
  } catch {
    // No staging folder yet.
  }
  for (const name of entries) {
    const m = /^(.*)-(\d+)$/.exec(name);
    if (!m || m[1] !== host || Number(m[2]) === process.pid || processAlive(Number(m[2]))) continue;
    rmSync(join(base, name), { recursive: true, force: true });
    cleaned.push(join(base, name));
  }
  const dir = join(base, `${host}-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  return {
    dir,
    cleaned,
    remove() {
      rmSync(dir, { recursive: true, force: true });
      try {
        // The shared parent goes when it is empty (another live process may still stage there).
        if (readdirSync(base).length === 0) rmSync(base, { recursive: true, force: true });
      } catch {
        // Already gone.
      }
    },
  };
}
