/** Points per line drawn: enough for a trend, small enough for 10,000 runs in one file. */
const DRAWN = 30;
const W = 200;
const H = 40;

function thin(points: ReadonlyArray<[number, number]>): Array<[number, number]> {
  if (points.length <= DRAWN) return [...points];
  const out: Array<[number, number]> = [];
  for (let i = 0; i < DRAWN; i++) out.push(points[Math.round((i * (points.length - 1)) / (DRAWN - 1))]);
  return out;
}

/**
 * A run's main metric as an inline SVG sparkline: W&B's points, and Neptune's drawn over them only
 * where they differ (one line, said in the title, when they are the same). No script, no remote file.
 */
export function sparkline(title: string, wandb: ReadonlyArray<[number, number]>, neptune: ReadonlyArray<[number, number]>): string {
  const a = thin(wandb.filter(([s, v]) => Number.isFinite(s) && Number.isFinite(v)));
  const b = thin(neptune.filter(([s, v]) => Number.isFinite(s) && Number.isFinite(v)));
  const all = [...a, ...b];
  if (all.length === 0) return '';
  const xs = all.map((p) => p[0]);
  const ys = all.map((p) => p[1]);
  const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  const sx = (x: number) => (x1 === x0 ? W / 2 : ((x - x0) / (x1 - x0)) * (W - 2) + 1);
  const sy = (y: number) => (y1 === y0 ? H / 2 : H - 1 - ((y - y0) / (y1 - y0)) * (H - 2));
  const line = (pts: Array<[number, number]>) => pts.map(([x, y]) => `${Math.round(sx(x))},${Math.round(sy(y))}`).join(' ');
  const same = a.length === b.length && a.every((p, i) => p[0] === b[i][0] && p[1] === b[i][1]);
  const label = `${title}: ${same ? 'W&B and Neptune hold the same points' : 'W&B (blue) and Neptune (orange) differ'}; steps ${x0}..${x1}, values ${y0.toPrecision(4)}..${y1.toPrecision(4)}`;
  const esc = label.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/"/g, '&quot;');
  return `<svg class="spark" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc}"><title>${esc}</title>` +
    `<polyline class="w" points="${line(a)}"/>${same ? '' : `<polyline class="n" points="${line(b)}"/>`}</svg>`;
}
