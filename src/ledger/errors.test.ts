import { describe, expect, it } from 'vitest';
import { EXIT, exitCodeFor } from '../cli/exit-codes.ts';
import { LedgerError, asLedgerError } from './errors.ts';

const fail = (code: string) => Object.assign(new Error(`boom ${code}`), { code });

describe('ledger problems as one message (exit 2)', () => {
  it('names the file and what to do, for SQLite and file-system codes', () => {
    const cases: Array<[string, string]> = [
      ['EACCES', 'ledger /x/l.sqlite cannot be written: permission denied on it or its folder'],
      ['EROFS', 'ledger /x/l.sqlite is on a read-only file system'],
      ['ENOSPC', 'ledger /x/l.sqlite cannot grow: the disk is full; free space and run the same command again: it resumes'],
      ['SQLITE_FULL', 'ledger /x/l.sqlite cannot grow: the disk is full; free space and run the same command again: it resumes'],
      ['SQLITE_IOERR_WRITE', 'ledger /x/l.sqlite could not be read or written (I/O error; is the disk full?); free space and run the same command again: it resumes'],
      ['SQLITE_NOTADB', 'ledger /x/l.sqlite is not a ledger (not a SQLite database, or damaged)'],
      ['SQLITE_READONLY', 'ledger /x/l.sqlite is read-only (check the permissions of the file and its folder)'],
    ];
    for (const [code, message] of cases) {
      const e = asLedgerError(fail(code), '/x/l.sqlite');
      expect(e, code).toBeInstanceOf(LedgerError);
      expect((e as Error).message, code).toBe(message);
      expect(exitCodeFor(e), code).toEqual({ code: EXIT.usage, message: `error (LEDGER): ${message}` });
    }
  });

  it('leaves other errors as they are', () => {
    const other = fail('SQLITE_CONSTRAINT_PRIMARYKEY');
    expect(asLedgerError(other, '/x')).toBe(other);
    const plain = new TypeError('bug');
    expect(asLedgerError(plain, '/x')).toBe(plain);
  });
});
