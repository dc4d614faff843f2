import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { LedgerError, asLedgerError } from './errors.ts';

export interface LockHolder {
  pid: number;
  host: string;
  /** ISO 8601: when the holder took the lock. */
  since: string;
}

export interface LedgerLock {
  readonly path: string;
  release(): void;
}

/** Whether a process with this id is alive on this machine (signal 0 only tests for it). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists but belongs to someone else.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readHolder(path: string): LockHolder | undefined {
  try {
    const h = JSON.parse(readFileSync(path, 'utf8')) as Partial<LockHolder>;
    if (typeof h.pid === 'number' && typeof h.host === 'string' && typeof h.since === 'string') return h as LockHolder;
  } catch {
    // Unreadable or half-written: treated below as a holder we cannot name.
  }
  return undefined;
}

/**
 * One `migrate` per ledger: two processes on one ledger would both count what they send, and the
 * report would be wrong for good. The lock is a file beside the ledger, created exclusively, naming
 * its holder. A lock whose holder died (`kill -9`, a crash) on this host is taken over; a lock from
 * another host cannot be checked and is respected.
 */
export function lockLedger(ledgerPath: string, now: () => Date = () => new Date()): LedgerLock {
  const path = `${ledgerPath}.lock`;
  const me: LockHolder = { pid: process.pid, host: hostname(), since: now().toISOString() };
  for (let attempt = 0; attempt < 3; attempt++) {
    let fd: number;
    try {
      fd = openSync(path, 'wx');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw asLedgerError(e, ledgerPath);
      const holder = readHolder(path);
      const stale = holder ? holder.host === me.host && !processAlive(holder.pid) : false;
      if (!stale) {
        const who = holder ? `process ${holder.pid} on ${holder.host} since ${holder.since}` : `another process (lock file ${path} is unreadable)`;
        throw new LedgerError(
          `ledger ${ledgerPath} is in use by ${who}; wait for it to finish, or pass another --ledger` +
            (holder && holder.host !== me.host ? ` (if that process is gone, delete ${path})` : ''),
        );
      }
      // The holder is dead: its lock goes. Another process taking it meanwhile wins the next `wx`.
      try {
        unlinkSync(path);
      } catch (u) {
        if ((u as NodeJS.ErrnoException).code !== 'ENOENT') throw asLedgerError(u, ledgerPath);
      }
      continue;
    }
    try {
      writeSync(fd, JSON.stringify(me));
    } finally {
      closeSync(fd);
    }
    return {
      path,
      release() {
        // Only our own lock: a lock taken over after we were presumed dead is not ours to remove.
        const h = readHolder(path);
        if (h?.pid === me.pid && h.host === me.host) unlinkSync(path);
      },
    };
  }
  throw new LedgerError(`ledger ${ledgerPath}: could not take its lock ${path}`);
}
