import { mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { asLedgerError } from './errors.ts';
import { Ledger } from './ledger.ts';
import { lockLedger } from './lock.ts';

export interface OpenedLedger {
  ledger: Ledger;
  /** Closes the ledger and releases its lock. */
  close(): void;
}

/** A ledger path that is a folder (or under a file) is said as such, before SQLite's vaguer words. */
function checkNotFolder(path: string): void {
  let isFolder = false;
  try {
    isFolder = statSync(path, { throwIfNoEntry: false })?.isDirectory() ?? false;
  } catch (e) {
    throw asLedgerError(e, path);
  }
  if (isFolder) throw asLedgerError(Object.assign(new Error('is a folder'), { code: 'EISDIR' }), path);
}

/**
 * The ledger a `migrate` works on: locked (one process per ledger), its folder made. A dry run gets a
 * private in-memory copy instead — it plans against what a real run would skip, and neither writes
 * nor locks. Every problem is a LedgerError naming the file.
 */
export function openLedgerForMigration(path: string, dryRun: boolean): OpenedLedger {
  checkNotFolder(path);
  if (dryRun) {
    const ledger = Ledger.copyInMemory(path);
    return { ledger, close: () => ledger.close() };
  }
  try {
    mkdirSync(dirname(path), { recursive: true });
  } catch (e) {
    // A file where a folder of the path should be: Node 20 says ENOTDIR, Node 24 says EEXIST.
    const code = (e as NodeJS.ErrnoException).code;
    throw asLedgerError(code === 'EEXIST' ? Object.assign(e as Error, { code: 'ENOTDIR' }) : e, path);
  }
  const lock = lockLedger(path);
  let ledger: Ledger;
  try {
    ledger = new Ledger(path);
  } catch (e) {
    lock.release();
    throw e;
  }
  return {
    ledger,
    close() {
      try {
        ledger.close();
      } finally {
        lock.release();
      }
    },
  };
}
