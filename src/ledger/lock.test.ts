import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LedgerError } from './errors.ts';
import { Ledger } from './ledger.ts';
import { lockLedger } from './lock.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function tempLedgerPath() {
  const d = mkdtempSync(join(tmpdir(), 'w2n-lock-'));
  dirs.push(d);
  return join(d, 'ledger.sqlite');
}
/** The pid of a process that has ended. */
function deadPid(): number {
  return Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout);
}

describe('ledger lock', () => {
  it('names its holder to a second taker, and is free again once released', () => {
    const path = tempLedgerPath();
    const lock = lockLedger(path, () => new Date('2026-03-04T05:06:07.000Z'));
    expect(JSON.parse(readFileSync(`${path}.lock`, 'utf8'))).toEqual({ pid: process.pid, host: hostname(), since: '2026-03-04T05:06:07.000Z' });
    expect(() => lockLedger(path)).toThrow(LedgerError);
    expect(() => lockLedger(path)).toThrow(`ledger ${path} is in use by process ${process.pid} on ${hostname()} since 2026-03-04T05:06:07.000Z`);
    lock.release();
    expect(existsSync(`${path}.lock`)).toBe(false);
    lockLedger(path).release();
  });

  it('takes over the lock of a dead process on this host; respects one from another host', () => {
    const path = tempLedgerPath();
    writeFileSync(`${path}.lock`, JSON.stringify({ pid: deadPid(), host: hostname(), since: '2026-01-01T00:00:00.000Z' }));
    const lock = lockLedger(path);
    expect(JSON.parse(readFileSync(`${path}.lock`, 'utf8')).pid).toBe(process.pid);
    lock.release();
    writeFileSync(`${path}.lock`, JSON.stringify({ pid: deadPid(), host: 'another-host', since: '2026-01-01T00:00:00.000Z' }));
    expect(() => lockLedger(path)).toThrow(/on another-host since 2026-01-01T00:00:00.000Z; .* \(if that process is gone, delete /);
  });
});

describe('Ledger.copyInMemory (dry run)', () => {
  it('sees what the ledger holds (WAL included) and never changes the file', () => {
    const path = tempLedgerPath();
    const real = new Ledger(path);
    real.startRun({ entity: 'e', project: 'p', runId: 'r1' }, { targetProject: 'ws/p' });
    real.finishRun({ entity: 'e', project: 'p', runId: 'r1' }, 'fp');
    const before = readFileSync(path);
    const copy = Ledger.copyInMemory(path);
    expect(copy.getRun({ entity: 'e', project: 'p', runId: 'r1' })).toMatchObject({ status: 'done', fingerprint: 'fp' });
    copy.notePending({ entity: 'e', project: 'p', runId: 'r2' });
    copy.close();
    real.close();
    const after = new Ledger(path);
    expect(after.listRuns().map((r) => r.key.runId)).toEqual(['r1']);
    after.close();
    expect(before.length).toBeGreaterThan(0);
  });

  it('a corrupt ledger is a LedgerError naming the file', () => {
    const path = tempLedgerPath();
    writeFileSync(path, 'not sqlite '.repeat(100));
    expect(() => Ledger.copyInMemory(path)).toThrow(`ledger ${path} is not a ledger`);
    expect(() => new Ledger(path)).toThrow(LedgerError);
  });
});
