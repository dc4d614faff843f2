import { MigrationError } from '../core/errors.ts';

/**
 * The ledger cannot be used: held by another process, not a SQLite file, not writable, the disk is
 * full. A user-side problem with one clear message (exit 2), never a stack trace; the migration stops
 * and a later run resumes from what the ledger holds.
 */
export class LedgerError extends MigrationError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('LEDGER', message, options);
  }
}

const STORAGE_CODES: Record<string, string> = {
  SQLITE_NOTADB: 'is not a ledger (not a SQLite database, or damaged)',
  SQLITE_CORRUPT: 'is damaged (SQLite reports corruption)',
  SQLITE_FULL: 'cannot grow: the disk is full',
  SQLITE_CANTOPEN: 'cannot be opened (is it a folder, or is its folder missing or not writable?)',
  SQLITE_READONLY: 'is read-only (check the permissions of the file and its folder)',
  SQLITE_PERM: 'is not accessible (permissions)',
  SQLITE_IOERR: 'could not be read or written (I/O error; is the disk full?)',
};

/** A SQLite or file-system failure of the ledger as a LedgerError naming the file; anything else as it is. */
export function asLedgerError(error: unknown, path: string): unknown {
  if (error instanceof LedgerError) return error;
  const code = (error as { code?: unknown })?.code;
  if (typeof code !== 'string') return error;
  const base = code.startsWith('SQLITE_IOERR') ? 'SQLITE_IOERR' : code;
  const what = STORAGE_CODES[base] ?? fsProblem(code);
  if (!what) return error;
  const resumable = base === 'SQLITE_FULL' || base === 'SQLITE_IOERR' || code === 'ENOSPC' ? '; free space and run the same command again: it resumes' : '';
  return new LedgerError(`ledger ${path} ${what}${resumable}`, { cause: error });
}

function fsProblem(code: string): string | undefined {
  switch (code) {
    case 'EACCES':
    case 'EPERM':
      return 'cannot be written: permission denied on it or its folder';
    case 'EROFS':
      return 'is on a read-only file system';
    case 'ENOSPC':
      return 'cannot grow: the disk is full';
    case 'EISDIR':
      return 'is a folder: pass the path of a ledger file (e.g. --ledger ./wandb-to-neptune.sqlite)';
    case 'ENOTDIR':
      return 'is under a path that is a file, not a folder';
    default:
      return undefined;
  }
}
