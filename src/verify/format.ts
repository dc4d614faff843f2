import { runPath } from '../core/records.ts';
import type { RunVerification, VerifyReport } from './types.ts';

/** Differences listed per run before "… N more" (the JSON report has them all). */
const SHOWN = 10;

function difference(d: RunVerification['differences'][number]): string {
  const tag = d.explainedBy ? `expected (${d.explainedBy.reason})` : 'mismatch';
  const step = d.firstStep !== undefined ? ` [first differing step ${d.firstStep}]` : '';
  return `    ${tag}: ${d.scope} ${d.subject}${step}: ${d.detail}`;
}

/** Media compared: images (bytes per step), histograms (bins per step, B's histogram series), media files (size and MD5). */
function mediaCounts(c: Partial<RunVerification['checked']>): string {
  return `${c.images ?? 0} images${c.histograms ? `, ${c.histograms} histograms` : ''}, ${c.mediaFiles ?? 0} files`;
}

/** One run as a line (and its differences under it), for the terminal and the log. */
export function formatRunVerification(r: RunVerification): string {
  const c = r.checked;
  const media = c.images || c.histograms || c.mediaFiles ? `, media ${mediaCounts(c)}` : '';
  const what = `fields ${c.fields}, series ${c.series} (${c.points} points), console ${c.consoleEntries} entries, files ${c.files} (md5 ${c.md5})${media}`;
  const lines = [`${r.status.padEnd(23)} ${runPath(r.run)} → ${r.targetProject}${r.status === 'missing' ? '' : `  ${what}`}${r.omitted ? `, ${r.omitted} left out by the migration` : ''}`];
  const shown = [...r.differences.filter((d) => !d.explainedBy), ...r.differences.filter((d) => d.explainedBy)];
  for (const d of shown.slice(0, SHOWN)) lines.push(difference(d));
  if (shown.length > SHOWN) lines.push(`    … ${shown.length - SHOWN} more (--json lists every one)`);
  return lines.join('\n');
}

export function formatVerifyReport(report: VerifyReport): string {
  const t = report.totals;
  const lines = report.runs.map(formatRunVerification);
  lines.push('');
  if (report.sample !== undefined) {
    lines.push(`SAMPLED: --sample ${report.sample} verified ${t.runs} of the ${t.selected} selected runs; the others were not checked`);
  }
  lines.push(`verified ${t.verified}, verified with omissions ${t['verified-with-omissions']}, mismatch ${t.mismatch}, missing ${t.missing} (of ${t.runs} runs)`);
  const media: Partial<RunVerification['checked']> = {};
  for (const r of report.runs) for (const k of ['images', 'histograms', 'mediaFiles'] as const) media[k] = (media[k] ?? 0) + (r.checked[k] ?? 0);
  if (media.images || media.histograms || media.mediaFiles) lines.push(`media compared: ${mediaCounts(media)}`);
  const target = report.requests.target.requests ?? 0;
  const s = report.requests.source;
  // The W&B source counts API and storage (file) requests apart; run folders cost none.
  const source = s ? (s.apiRequests ?? 0) + (s.storageRequests ?? 0) : undefined;
  const perRun = (n: number) => (t.runs ? (n / t.runs).toFixed(1) : '0');
  const over = report.protocol ? ` over Protocol ${report.protocol.toUpperCase()}` : '';
  lines.push(`requests: Neptune${over} ${target} (${perRun(target)} per run)${source !== undefined ? `, W&B ${source} (${perRun(source)} per run)` : ''}; ${(report.wallMs / 1000).toFixed(1)} s`);
  return lines.join('\n');
}
