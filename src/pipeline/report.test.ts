import { describe, expect, it } from 'vitest';
import { Ledger } from '../ledger/ledger.ts';
import { buildReport, formatReport } from './report.ts';

describe('report', () => {
  it('gives each run a line with what was written, and what was not by reason, grouped by detail', () => {
    const ledger = new Ledger(':memory:');
    const a = { entity: 'e', project: 'p', runId: 'a' };
    const b = { entity: 'e', project: 'p', runId: 'b' };
    ledger.startRun(a, { targetProject: 'ws/p', displayName: 'first' });
    ledger.replaceScope(a, 'fields', { fields: 12 }, [
      { reason: 'excluded-by-default', subject: 'summary/_runtime', count: 1, detail: 'W&B internal key' },
      { reason: 'excluded-by-default', subject: 'summary/_step', count: 1, detail: 'W&B internal key' },
    ]);
    ledger.commit(a, 'history', { counts: { points: 90, historyPoints: 90 }, omissions: [{ reason: 'non-finite', subject: 'loss', count: 10 }] });
    ledger.finishRun(a, 'fp');
    ledger.startRun(b, { targetProject: 'ws/p' });
    ledger.commit(b, 'history', { omissions: [{ reason: 'rejected-by-server', subject: 'x', count: 2, detail: 'logSeriesValueError: step' }] });
    ledger.failRun(b, 'W&B history of e/p/b: bad row');

    ledger.addNotice(a, { stream: 'history', kind: 'invalid', message: 'history of e/p/a: the history row at step 7 is not valid JSON; the row was skipped', count: 1 });
    ledger.addNotice(a, { stream: 'system', kind: 'sampled', message: 'only a sample of the system metrics' });
    const report = buildReport(ledger);
    expect(report.totals).toMatchObject({ runs: 2, migrated: 1, failed: 1, points: 90, omitted: 14 });
    // 2 refused by the server + 1 row the source could not give; a sampled source is counted by its omission line.
    expect(report.nonDefaultOmissions).toBe(3);
    const text = formatReport(report);
    expect(text).toContain('MIGRATED  e/p/a (first): fields 12, points 90 (history 90');
    expect(text).toContain('not written, excluded-by-default: 2 — W&B internal key: summary/_runtime, summary/_step');
    expect(text).toContain('not written, non-finite: 10 — loss ×10');
    expect(text).toContain('FAILED    e/p/b');
    expect(text).toContain('error: W&B history of e/p/b: bad row');
    expect(text).toContain('source invalid (history): history of e/p/a: the history row at step 7 is not valid JSON; the row was skipped');
    ledger.close();
  });

  it('counts what the target held before a pass as held, and says how much of it was already there', () => {
    const ledger = new Ledger(':memory:');
    const a = { entity: 'e', project: 'p', runId: 'a' };
    ledger.startRun(a, { targetProject: 'ws/p' });
    ledger.commit(a, 'history', { counts: { points: 70, historyPoints: 70, pointsAlreadyPresent: 30, historyPointsAlreadyPresent: 30 } });
    ledger.commit(a, 'system', { counts: { points: 5, systemPoints: 5 } });
    ledger.commit(a, 'files', { counts: { files: 1, filesAlreadyPresent: 2, bytes: 10 } });
    ledger.finishRun(a, 'fp');
    const report = buildReport(ledger);
    expect(report.totals).toMatchObject({ points: 105, pointsAlreadyPresent: 30, files: 3, filesAlreadyPresent: 2 });
    const text = formatReport(report);
    expect(text).toContain('Written: 105 points, 3 files, 10 B (of which 30 points and 2 files were already in Neptune)');
    expect(text).toContain('points 105 (history 100, system 5, console 0), files 3 (10 B) (of which 30 points and 2 files were already in Neptune)');
    ledger.close();
  });

  it('says which of the files already there were kept on size alone (a target that proves no bytes)', () => {
    const ledger = new Ledger(':memory:');
    const a = { entity: 'e', project: 'p', runId: 'a' };
    ledger.startRun(a, { targetProject: 'ws/p' });
    ledger.commit(a, 'files', { counts: { files: 1, filesAlreadyPresent: 3, filesKeptOnSize: 2, bytes: 10 } });
    ledger.finishRun(a, 'fp');
    expect(formatReport(buildReport(ledger))).toContain('files 4 (10 B) (of which 3 files were already in Neptune; 2 of those files kept on size, their bytes not verified)');
    ledger.close();
  });
});
