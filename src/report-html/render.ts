import { DEFAULT_REASONS, inTarget, type MigrationReport, type RunReport } from '../pipeline/report.ts';
import type { RunVerification, VerifyReport } from '../verify/types.ts';
import { sparkline, type Spark } from './chart.ts';
import { REPORT_CSS, REPORT_SCRIPT } from './assets.ts';

export interface HtmlReportInput {
  /** What made it: "migrate", "verify", "report". */
  title: string;
  generatedAt: string;
  toolVersion: string;
  migration?: MigrationReport;
  verify?: VerifyReport;
}

const esc = (s: unknown): string =>
  String(s ?? '').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const num = (n: number | undefined): string => (n ?? 0).toLocaleString('en-US');

function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(1)} ${units[i]}`;
}

interface Row {
  path: string;
  project: string;
  migration?: RunReport;
  verify?: RunVerification;
}

/** One row per run, from the migration report and the verify result (either may be absent). */
function rows(input: HtmlReportInput): Row[] {
  const byPath = new Map<string, Row>();
  const row = (path: string) => {
    let r = byPath.get(path);
    if (!r) byPath.set(path, (r = { path, project: path.split('/').slice(0, 2).join('/') }));
    return r;
  };
  for (const m of input.migration?.runs ?? []) row(m.run).migration = m;
  for (const v of input.verify?.runs ?? []) row(`${v.run.entity}/${v.run.project}/${v.run.runId}`).verify = v;
  return [...byPath.values()].sort((a, b) => (a.path < b.path ? -1 : 1));
}

function card(label: string, value: string, cls = ''): string {
  return `<div class="card ${cls}"><div class="v" data-total="${esc(label)}">${esc(value)}</div><div class="l">${esc(label)}</div></div>`;
}

function totals(input: HtmlReportInput): string {
  const cards: string[] = [];
  const m = input.migration?.totals;
  if (m) {
    cards.push(card('runs', num(m.runs)), card('migrated', num(m.migrated), 'ok'), card('skipped', num(m.skipped)), card('failed', num(m.failed), m.failed ? 'bad' : ''),
      card('pending', num(m.pending), m.pending ? 'warn' : ''), card('points', num(m.points)), card('files', num(m.files)), card('bytes', bytes(m.bytes)), card('left out', num(m.omitted)));
  }
  const v = input.verify?.totals;
  if (v) {
    cards.push(card('verified', num(v.verified), 'ok'), card('verified with omissions', num(v['verified-with-omissions']), 'ok'),
      card('mismatch', num(v.mismatch), v.mismatch ? 'bad' : ''), card('missing', num(v.missing), v.missing ? 'bad' : ''));
  }
  return `<section class="cards">${cards.join('')}</section>`;
}

function projects(list: Row[]): string {
  const by = new Map<string, Row[]>();
  for (const r of list) by.set(r.project, [...(by.get(r.project) ?? []), r]);
  const lines = [...by].map(([p, rs]) => {
    const count = (f: (r: Row) => boolean) => rs.filter(f).length;
    return `<tr><td>${esc(p)}</td><td>${esc(rs[0].migration?.target?.split('/').slice(0, 2).join('/') ?? rs[0].verify?.targetProject ?? '')}</td><td>${rs.length}</td>` +
      `<td>${count((r) => r.migration?.status === 'migrated' || r.migration?.status === 'skipped')}</td><td>${count((r) => r.migration?.status === 'failed')}</td>` +
      `<td>${count((r) => !!r.verify?.status.startsWith('verified'))}</td><td>${count((r) => r.verify?.status === 'mismatch' || r.verify?.status === 'missing')}</td></tr>`;
  });
  return `<h2>Projects</h2><table class="projects"><thead><tr><th>W&amp;B project</th><th>Neptune project</th><th>runs</th><th>done</th><th>failed</th><th>verified</th><th>mismatch / missing</th></tr></thead><tbody>${lines.join('')}</tbody></table>`;
}

/** Items listed per section of a run's details before "… N more". */
const LISTED = 12;

function list<T>(items: readonly T[], item: (x: T) => string): string {
  const more = items.length > LISTED ? `<li>… ${num(items.length - LISTED)} more</li>` : '';
  return `<ul>${items.slice(0, LISTED).map((x) => `<li>${item(x)}</li>`).join('')}${more}</ul>`;
}

/**
 * One run as the page's script draws it (short keys: 10,000 runs must stay a few MB). Details are
 * HTML made here, only for runs that have something to tell.
 */
export interface RunData {
  /** entity/project/run, name, W&B project. */
  p: string; nm: string; pr: string;
  /** Migration and verify status ('' when not known). */
  s: string; v: string;
  /** Written: fields, points, files, bytes (as text). */
  w: string;
  /** Left out, by reason: [reason, count]. */
  o: Array<[string, number]>;
  rn: number; dm: number;
  c?: Spark;
  /** Details (HTML), and whether a mismatch is among them. */
  x?: string; mis?: 1;
}

function runData(r: Row): RunData {
  const m = r.migration;
  const v = r.verify;
  const left = (m?.notWritten ?? []).filter((o) => o.reason !== 'renamed');
  const renames = (m?.notWritten ?? []).filter((o) => o.reason === 'renamed');
  const byReason = new Map<string, number>();
  for (const o of left) byReason.set(o.reason, (byReason.get(o.reason) ?? 0) + o.count);
  // The headline counts; the rest of the ledger's counters are in the JSON report.
  const w = m?.written ?? {};
  // Media are their own counts (images in image series, media files among the files): shown apart.
  // Points and files are what the target holds (as the text report and the totals say): written by this
  // ledger's passes and found already there (a resume, a lost ledger), the latter said apart.
  const held = inTarget(w);
  const already = [['points', w.pointsAlreadyPresent], ['files', w.filesAlreadyPresent]].filter(([, n]) => n).map(([k, n]) => `${num(n as number)} ${k}`);
  const written = m ? [['fields', w.fields], ['points', held.points], ['files', held.files], ['images', w.images], ['media files', w.mediaFiles], ['files kept on size (bytes not verified)', w.filesKeptOnSize]].filter(([, n]) => n)
    .map(([k, n]) => `${k} ${num(n as number)}`).concat(w.bytes ? [bytes(w.bytes)] : []).concat(already.length ? [`of which ${already.join(' and ')} already in Neptune`] : []).join(', ') : '';
  const diffs = v?.differences ?? [];
  const details: string[] = [];
  // What verify found first: it is what the reader opened the details for.
  if (diffs.length) {
    details.push(`<h4>Verify: differences</h4>${list(diffs, (d) => `<span class="${d.explainedBy ? 'exp' : 'mis'}"><b>${d.explainedBy ? `expected (${esc(d.explainedBy.reason)})` : 'mismatch'}</b></span> ${esc(d.scope)} <code>${esc(d.subject)}</code>${d.firstStep !== undefined ? ` — first differing step <b>${esc(d.firstStep)}</b>` : ''}: ${esc(d.detail)}`)}`);
  }
  const c = v?.checked;
  if (c && (c.images || c.histograms || c.mediaFiles)) {
    const histograms = c.histograms ? `${num(c.histograms)} histograms (bins and values per step), ` : '';
    details.push(`<h4>Verify: media compared</h4><p class="media">${num(c.images ?? 0)} images (bytes per step), ${histograms}${num(c.mediaFiles ?? 0)} media files (size and MD5)</p>`);
  }
  // The documented defaults (W&B internals, bookkeeping files) are counted in the row; the details
  // list what else was left out, a few per run (the JSON report and `report` have every line).
  const notable = left.filter((o) => !DEFAULT_REASONS.has(o.reason));
  if (notable.length) details.push(`<h4>Left out</h4>${list(notable, (o) => `<b>${esc(o.reason)}</b> ${esc(o.subject)} × ${num(o.count)}${o.detail ? ` — ${esc(o.detail)}` : ''}`)}`);
  if (renames.length) details.push(`<h4>Renamed</h4>${list(renames, (o) => `${esc(o.subject)} ${esc(o.detail ?? '')}`)}`);
  if (m?.notices.length) details.push(`<h4>Damage found in the source</h4>${list(m.notices, (n) => `${esc(n.stream)} ${esc(n.kind)}: ${esc(n.message)}`)}`);
  if (m?.error) details.push(`<h4>Error</h4><p>${esc(m.error)}</p>`);
  const chart = v?.chart ? sparkline(v.chart.path, v.chart.wandb, v.chart.neptune) : undefined;
  return {
    p: r.path, nm: m?.name ?? v?.name ?? '', pr: r.project, s: m?.status ?? '', v: v?.status ?? '', w: written,
    o: [...byReason], rn: renames.length, dm: m?.notices.length ?? 0,
    ...(chart ? { c: chart } : {}),
    ...(details.length ? { x: details.join('') } : {}),
    ...(diffs.some((d) => !d.explainedBy) ? { mis: 1 as const } : {}),
  };
}

/** JSON inside a <script> element: `<` escaped so no text in it can close the element. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

function options(values: Iterable<string>): string {
  return [...new Set(values)].filter(Boolean).sort().map((v) => `<option value="${esc(v)}">${esc(v)}</option>`).join('');
}

/**
 * The report as one self-contained HTML page: totals, per project and per run what was written, left
 * out by reason, renamed, the damage found in run folders and the verify result, with filters and a
 * search (inline script, no network), and a small inline SVG chart of each verified run's main metric.
 */
export function renderHtmlReport(input: HtmlReportInput): string {
  const all = rows(input);
  const sample = input.verify?.sample !== undefined
    ? `<p class="note">Sampled: <code>--sample ${esc(input.verify.sample)}</code> verified ${num(input.verify.totals.runs)} of ${num(input.verify.totals.selected)} selected runs.</p>`
    : '';
  const reasons = all.flatMap((r) => (r.migration?.notWritten ?? []).filter((o) => o.reason !== 'renamed').map((o) => o.reason));
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>wandb-to-neptune ${esc(input.title)} report</title>
<style>${REPORT_CSS}</style></head>
<body>
<header><h1>wandb-to-neptune — ${esc(input.title)} report</h1><p class="meta">generated ${esc(input.generatedAt)} by wandb-to-neptune ${esc(input.toolVersion)}</p></header>
${totals(input)}
${sample}
${projects(all)}
<h2>Runs</h2>
<form class="filters" onsubmit="return false">
<label>search <input type="search" id="q" placeholder="run id, name, project"></label>
<label>migration <select id="f-status"><option value="">any</option>${options(all.map((r) => r.migration?.status ?? ''))}</select></label>
<label>verify <select id="f-verify"><option value="">any</option>${options(all.map((r) => r.verify?.status ?? ''))}</select></label>
<label>project <select id="f-project"><option value="">any</option>${options(all.map((r) => r.project))}</select></label>
<label>left out for <select id="f-reason"><option value="">any reason</option>${options(reasons)}</select></label>
<span id="shown">${all.length} of ${all.length} runs</span>
</form>
<table class="runs"><thead><tr><th>run</th><th>migration</th><th>verify</th><th>written</th><th>left out</th><th>renamed</th><th>damage</th><th>main metric</th><th></th></tr></thead>
<tbody id="runs"></tbody></table>
<script type="application/json" id="data">${scriptJson(all.map(runData))}</script>
<script>${REPORT_SCRIPT}</script>
</body></html>
`;
}
