/**
 * The HTML report's per-run "written" says what the target holds, as the text report and the totals
 * cards do: points and files written by this ledger's passes plus those a pass found already in Neptune
 * (a resume after a kill, a lost ledger). It showed only the ones written, so a run re-migrated after a
 * lost ledger read "points 0" in its row while its card and the text report said 1,000.
 */
import { describe, expect, it } from 'vitest';
import type { MigrationReport } from '../../src/pipeline/report.ts';
import { formatReport } from '../../src/pipeline/report.ts';
import { renderHtmlReport } from '../../src/report-html/render.ts';

const report: MigrationReport = {
  runs: [{
    run: 'team/proj/r1', name: 'r1', target: 'demo/proj/r1', status: 'migrated',
    written: { fields: 12, points: 40, historyPoints: 40, pointsAlreadyPresent: 960, historyPointsAlreadyPresent: 960, filesAlreadyPresent: 3, files: 1, bytes: 2048 },
    notWritten: [], notices: [],
  }],
  totals: { runs: 1, migrated: 1, skipped: 0, failed: 0, pending: 0, points: 1000, pointsAlreadyPresent: 960, files: 4, filesAlreadyPresent: 3, bytes: 2048, omitted: 0 },
  nonDefaultOmissions: 0,
};

describe('the HTML report of a run found partly in Neptune', () => {
  it('says the points and files the target holds, and which of them were there already', () => {
    const html = renderHtmlReport({ title: 'report', generatedAt: 'now', toolVersion: 'test', migration: report });
    const data = JSON.parse(html.slice(html.indexOf('<script type="application/json" id="data">') + 42, html.indexOf('</script>'))) as Array<{ w: string }>;
    expect(data[0].w).toBe('fields 12, points 1,000, files 4, 2.0 KiB, of which 960 points and 3 files already in Neptune');
    // The text report says the same.
    expect(formatReport(report)).toContain('points 1000 (history 1000, system 0, console 0), files 4 (2.0 KiB) (of which 960 points and 3 files were already in Neptune)');
  });
});
