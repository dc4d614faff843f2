import { describe, expect, it } from 'vitest';
import type { MigrationReport, RunReport } from '../../src/pipeline/report.ts';
import { renderHtmlReport } from '../../src/report-html/render.ts';
import type { RunVerification, VerifyReport } from '../../src/verify/types.ts';

/** Issue 12: "a few MB at most for 10,000 runs". A typical run: fields, points, files, W&B internals left out, a chart. */
function runs(n: number): { migration: MigrationReport; verify: VerifyReport } {
  const m: RunReport[] = [];
  const v: RunVerification[] = [];
  for (let i = 0; i < n; i++) {
    const runId = `r${i.toString(36).padStart(7, '0')}`;
    const project = `project_${i % 20}`;
    m.push({
      run: `team/${project}/${runId}`, name: `sweep-trial-${i}`, target: `demo/project-${i % 20}/PRJ-${i}`, status: 'migrated',
      written: { fields: 34, points: 1140, historyPoints: 880, systemPoints: 200, consolePoints: 60, consoleLines: 60, historyRows: 400, systemSamples: 40, files: 2, bytes: 2048 },
      notWritten: ['config/_wandb', 'summary/_runtime', 'summary/_step', 'summary/_timestamp', 'summary/_wandb', 'config.yaml', 'wandb-metadata.json', 'wandb-summary.json']
        .map((subject) => ({ reason: 'excluded-by-default', subject, count: 1, detail: 'W&B internal key' })),
      notices: [],
    });
    const curve = Array.from({ length: 200 }, (_, k): [number, number] => [k * 2, Math.exp(-k / 50) + Math.sin(k) / 20]);
    v.push({
      run: { entity: 'team', project, runId }, name: `sweep-trial-${i}`, targetProject: `demo/project-${i % 20}`, targetRun: 'x', status: 'verified',
      differences: [], checked: { fields: 34, series: 9, points: 1080, consoleEntries: 60, files: 2, md5: 2 }, omitted: 0,
      chart: { path: 'loss', wandb: curve, neptune: curve },
    });
  }
  const totals = { runs: n, migrated: n, skipped: 0, failed: 0, pending: 0, points: n * 1140, pointsAlreadyPresent: 0, files: 2 * n, filesAlreadyPresent: 0, bytes: 2048 * n, omitted: 8 * n };
  return {
    migration: { runs: m, totals, nonDefaultOmissions: 0 },
    verify: { runs: v, totals: { runs: n, selected: n, verified: n, 'verified-with-omissions': 0, mismatch: 0, missing: 0 }, requests: { target: {} }, wallMs: 1 },
  };
}

describe('HTML report size', () => {
  it('10,000 runs fit in a few MB', () => {
    const html = renderHtmlReport({ title: 'verify', generatedAt: 'now', toolVersion: 'test', ...runs(10_000) });
    const mb = Buffer.byteLength(html) / 1024 / 1024;
    console.log(`[size] 10,000 runs: ${mb.toFixed(1)} MiB`);
    expect(mb).toBeLessThan(5);
    const data = JSON.parse(html.slice(html.indexOf('<script type="application/json" id="data">') + 42, html.indexOf('</script>'))) as unknown[];
    expect(data).toHaveLength(10_000);
  });
});
