import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { LEDGER_CACHE_KIB, Ledger } from './ledger.ts';
import { LEDGER_SCHEMA } from './schema.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function tempLedgerPath() {
  const d = mkdtempSync(join(tmpdir(), 'w2n-ledger-'));
  dirs.push(d);
  return join(d, 'ledger.sqlite');
}

const key = { entity: 'e', project: 'p', runId: 'r1' };

describe('Ledger', () => {
  it("keeps SQLite's page cache at 2 MB, not better-sqlite3's 16 MB (it filled as the ledger grew: RSS grew ~5 KB a run)", () => {
    const ledger = new Ledger(tempLedgerPath());
    try {
      expect(ledger['db'].pragma('cache_size', { simple: true })).toBe(-LEDGER_CACHE_KIB);
      expect(LEDGER_CACHE_KIB).toBe(2000);
      // A fresh better-sqlite3 connection has the 16 MB one: the ledger sets its own.
      const plain = new Database(':memory:');
      expect(plain.pragma('cache_size', { simple: true })).toBe(-16000);
      plain.close();
    } finally {
      ledger.close();
    }
  });

  it('a notice an earlier pass made of what a new read of the run reads whole goes; one of rows read before, or of this pass, stays', () => {
    const ledger = new Ledger(tempLedgerPath());
    try {
      ledger.beginPass();
      ledger.addNotice(key, { stream: 'log', kind: 'damaged', message: 'log cut at byte 900' });
      ledger.addNotice(key, { stream: 'history', kind: 'invalid', message: 'row 5 is not JSON', count: 1 });
      ledger.addNotice(key, { stream: 'config', kind: 'invalid', message: 'config is not JSON' });
      ledger.startRun(key, { targetProject: 'ws/p' });
      expect(ledger.notices(key).map((n) => n.stream).sort()).toEqual(['config', 'history', 'log']);
      // The next pass: the listing says again that the config is not JSON; the log reads complete.
      ledger.beginPass();
      ledger.addNotice(key, { stream: 'config', kind: 'invalid', message: 'config is not JSON' });
      ledger.startRun(key, { targetProject: 'ws/p' });
      expect(ledger.notices(key).map((n) => `${n.stream}: ${n.message}`).sort()).toEqual(['config: config is not JSON', 'history: row 5 is not JSON']);
      // A run the pass skips (unchanged) is not read: its notices stay as they were.
      const other = { ...key, runId: 'r2' };
      ledger.addNotice(other, { stream: 'log', kind: 'damaged', message: 'cut' });
      ledger.beginPass();
      expect(ledger.notices(other)).toHaveLength(1);
    } finally {
      ledger.close();
    }
  });

  it('keeps cursors, counts, omissions and series paths across reopen', () => {
    const path = tempLedgerPath();
    const a = new Ledger(path);
    a.startRun(key, { targetProject: 'ws/p' });
    a.commit(key, 'history', {
      cursor: { stream: 'history', position: 99 },
      counts: { points: 500 },
      omissions: [{ reason: 'non-finite', subject: 'loss', count: 2 }],
      seriesPaths: [{ key: 'loss', path: 'loss', kind: 'float' }],
    });
    a.commit(key, 'history', { cursor: { stream: 'history', position: 199 }, counts: { points: 100 }, omissions: [{ reason: 'non-finite', subject: 'loss', count: 1 }] });
    a.close();
    const b = new Ledger(path);
    expect(b.cursor(key, 'history')).toBe(199);
    expect(b.counts(key)).toEqual({ points: 600 });
    expect(b.omissions(key)).toEqual([{ scope: 'history', reason: 'non-finite', subject: 'loss', count: 3, detail: undefined }]);
    expect(b.seriesPaths(key)).toEqual([{ key: 'loss', path: 'loss', kind: 'float' }]);
    expect(b.getRun(key)?.status).toBe('in_progress');
    b.close();
  });

  it('replaces the fields scope on every pass instead of adding to it', () => {
    const l = new Ledger(tempLedgerPath());
    l.startRun(key, { targetProject: 'ws/p' });
    l.replaceScope(key, 'fields', { fields: 10 }, [{ reason: 'excluded-by-default', subject: 'summary/_runtime', count: 1 }]);
    l.replaceScope(key, 'fields', { fields: 12 }, [{ reason: 'excluded-by-default', subject: 'summary/_runtime', count: 1 }]);
    expect(l.counts(key)).toEqual({ fields: 12 });
    expect(l.omissions(key)).toHaveLength(1);
    l.close();
  });

  it('moves a run through in_progress → done / failed / back to pending', () => {
    const l = new Ledger(tempLedgerPath());
    l.startRun(key, { targetProject: 'ws/p', displayName: 'n' });
    l.interruptRun(key);
    expect(l.getRun(key)?.status).toBe('pending');
    l.startRun(key, { targetProject: 'ws/p' });
    l.failRun(key, 'boom');
    expect(l.getRun(key)).toMatchObject({ status: 'failed', lastError: 'boom', attempts: 2 });
    l.startRun(key, { targetProject: 'ws/p' });
    l.finishRun(key, 'fp1');
    expect(l.getRun(key)).toMatchObject({ status: 'done', fingerprint: 'fp1', lastError: undefined });
    l.close();
  });

  it('upgrades a ledger written by schema version 1 in place, keeping its runs and notices', () => {
    const path = tempLedgerPath();
    const old = new Database(path);
    old.exec(LEDGER_SCHEMA.replace(/\s*options_key TEXT,[^\n]*\n/, '\n').replace(/\s*earlier INTEGER[^\n]*\n/, '\n'));
    old.prepare("INSERT INTO meta(key, value) VALUES ('schema_version', '1')").run();
    old.prepare("INSERT INTO runs(run_key, entity, project, run_id, status, updated_at, fingerprint) VALUES ('e/p/r1', 'e', 'p', 'r1', 'done', 'now', 'fp')").run();
    expect((old.prepare('PRAGMA table_info(runs)').all() as Array<{ name: string }>).map((c) => c.name)).not.toContain('options_key');
    old.prepare("INSERT INTO notices(run_key, stream, kind, message) VALUES ('e/p/r1', 'log', 'damaged', 'cut')").run();
    old.close();
    const l = new Ledger(path);
    expect(l.meta('schema_version')).toBe('3');
    expect(l.getRun(key)).toMatchObject({ status: 'done', fingerprint: 'fp', optionsKey: undefined });
    // Schema 3: notices say which pass made them; an old one is an earlier pass's once a pass begins.
    expect(l.notices(key)).toHaveLength(1);
    l.beginPass();
    l.startRun(key, { targetProject: 'ws/p', optionsKey: 'media' });
    expect(l.getRun(key)?.optionsKey).toBe('media');
    expect(l.notices(key)).toEqual([]);
    l.close();
  });
});
