/** Points per line drawn: enough for a trend, small enough for 10,000 runs in one file. */
const DRAWN = 24;
const W = 200;
const H = 40;

function thin(points: ReadonlyArray<[number, number]>): Array<[number, number]> {
  if (points.length <= DRAWN) return [...points];
  const out: Array<[number, number]> = [];
  for (let i = 0; i < DRAWN; i++) out.push(points[Math.round((i * (points.length - 1)) / (DRAWN - 1))]);
  return out;
}

/** A sparkline as the page draws it: polyline points in a 200×40 box, Neptune's only where it differs. */
export interface Spark {
  /** The series' path. */
  path: string;
  /** W&B's line, `x,y x,y …`. */
  w: string;
  /** Neptune's line where it is not W&B's; '' when both hold the same points. */
  n: string;
  /** In words, for the SVG's title. */
  t: string;
}

/** A run's main metric as W&B gives it and as Neptune holds it, scaled into one box. */
export function sparkline(path: string, wandb: ReadonlyArray<[number, number]>, neptune: ReadonlyArray<[number, number]>): Spark | undefined {
  const a = thin(wandb.filter(([s, v]) => Number.isFinite(s) && Number.isFinite(v)));
  const b = thin(neptune.filter(([s, v]) => Number.isFinite(s) && Number.isFinite(v)));
  const all = [...a, ...b];
  if (all.length === 0) return undefined;
  const xs = all.map((p) => p[0]);
  const ys = all.map((p) => p[1]);
  const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  const sx = (x: number) => (x1 === x0 ? W / 2 : ((x - x0) / (x1 - x0)) * (W - 2) + 1);
  const sy = (y: number) => (y1 === y0 ? H / 2 : H - 1 - ((y - y0) / (y1 - y0)) * (H - 2));
  const line = (pts: Array<[number, number]>) => pts.map(([x, y]) => `${Math.round(sx(x))},${Math.round(sy(y))}`).join(' ');
  const same = a.length === b.length && a.every((p, i) => p[0] === b[i][0] && p[1] === b[i][1]);
  return { path, w: line(a), n: same ? '' : line(b), t: `${path}: ${same ? 'same in W&B and Neptune' : 'W&B (blue) and Neptune (orange) differ'}, steps ${x0}..${x1}` };
}
