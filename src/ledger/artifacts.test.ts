import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ArtifactLedger } from './artifacts.ts';
import { Ledger } from './ledger.ts';

const run = { entity: 'e', project: 'p', runId: 'r1' };
let dir: string;
let ledger: Ledger;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'w2n-art-ledger-'));
  ledger = new Ledger(join(dir, 'l.sqlite'));
  ledger.startRun(run, { targetProject: 'ws/p' });
});
afterEach(() => {
  ledger.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the artifact ledger', () => {
  it('remembers which run copies a version and each acknowledged file, across reopening', () => {
    const book = new ArtifactLedger(ledger);
    book.begin('e/p/m:v0', 'd1', run);
    book.recordFiles('e/p/m:v0', run, [{ path: 'a.bin', digest: 'x', size: 3 }], { counts: { files: 1, bytes: 3 } });
    ledger.close();
    ledger = new Ledger(join(dir, 'l.sqlite'));
    const again = new ArtifactLedger(ledger);
    expect(again.version('e/p/m:v0')).toEqual({ digest: 'd1', runKey: 'e/p/r1', status: 'copying' });
    expect(again.copiedFiles('e/p/m:v0')).toEqual(new Map([['a.bin', 'x']]));
    expect(ledger.counts(run)).toEqual({ files: 1, bytes: 3 });
    again.finish('e/p/m:v0');
    expect(again.version('e/p/m:v0')?.status).toBe('done');
    // Another digest under the same name starts afresh.
    again.begin('e/p/m:v0', 'd2', run);
    expect(again.version('e/p/m:v0')?.status).toBe('copying');
    expect(again.copiedFiles('e/p/m:v0').size).toBe(0);
  });

  it('a gone file is settled with its one line, across reopening; another digest under the same name forgets it', () => {
    const book = new ArtifactLedger(ledger);
    const line = { reason: 'download-failed' as const, subject: 'artifacts/m/v0/files/g.bin', count: 1, detail: 'HTTP 404' };
    book.begin('e/p/m:v0', 'd1', run);
    book.recordGone('e/p/m:v0', run, { path: 'g.bin', digest: 'gx' }, line);
    book.recordGone('e/p/m:v0', run, { path: 'g.bin', digest: 'gx' }, line);
    ledger.close();
    ledger = new Ledger(join(dir, 'l.sqlite'));
    const again = new ArtifactLedger(ledger);
    expect(again.goneFiles('e/p/m:v0')).toEqual(new Map([['g.bin', 'gx']]));
    expect(again.copiedFiles('e/p/m:v0').size).toBe(0);
    expect(ledger.omissions(run)).toEqual([{ ...line, scope: 'files' }]);
    again.begin('e/p/m:v0', 'd2', run);
    expect(again.goneFiles('e/p/m:v0').size).toBe(0);
  });

  it('a report line replaces the earlier one of its subject, and a file that lands clears it', () => {
    const book = new ArtifactLedger(ledger);
    const fail = { reason: 'download-failed' as const, subject: 'artifacts/m/v0/files/a.bin', count: 1, detail: 'x' };
    book.recordFiles('k', run, [], { omissions: [fail] });
    book.recordFiles('k', run, [], { omissions: [fail] });
    expect(ledger.omissions(run).map((o) => [o.subject, o.count])).toEqual([['artifacts/m/v0/files/a.bin', 1]]);
    book.recordFiles('k', run, [{ path: 'a.bin', digest: 'x', size: 1 }], {}, ['artifacts/m/v0/files/a.bin']);
    expect(ledger.omissions(run)).toEqual([]);
  });

  it('fields: only what the target does not hold yet is sent; a changed value is not counted as a new field', () => {
    const book = new ArtifactLedger(ledger);
    const f = (v: string) => ({ path: 'artifacts/used', value: { type: 'stringSet' as const, values: [v] } });
    expect(book.changedFields(run, [f('a:v0')])).toHaveLength(1);
    book.recordFields(run, [f('a:v0')], {});
    expect(book.changedFields(run, [f('a:v0')])).toEqual([]);
    expect(book.changedFields(run, [f('a:v1')])).toHaveLength(1);
    book.recordFields(run, [f('a:v1')], {});
    expect(ledger.counts(run).fields).toBe(1);
  });
});
