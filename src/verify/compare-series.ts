import type { RunInfo } from '../core/records.ts';
import type { SeriesKind } from '../core/target.ts';
import { STDOUT_PATH } from '../mapping/console.ts';
import { SeriesPathPlanner, type SeriesPath } from '../mapping/series-paths.ts';
import type { HeldField, HeldPoint } from '../sinks/neptune/read-back.ts';
import { Pool } from '../pipeline/pool.ts';
import { Decimator, mainMetric } from './decimate.ts';
import { sameSummary, samePoint, SeriesDigest, type DigestPoint, type SeriesSummary } from './digest.ts';
import type { ExpectedMedia } from './compare-media.ts';
import { expectedPoints, type ExpectedPoint, type OnOmission } from './expected.ts';
import type { Difference, RunVerification } from './types.ts';
import type { VerifyRunContext } from './verify-run.ts';

interface Expected {
  kind: VerifiedKind;
  digest: SeriesDigest;
}

/** Series of one run read at once. */
const SERIES_AT_ONCE = 4;

/** The series kinds verify compares point by point (image series and media files: compare-media.ts). */
type VerifiedKind = 'float' | 'string';

const SERIES_TYPE: Record<VerifiedKind, string> = { float: 'floatSeries', string: 'stringSeries' };

function range(s: SeriesSummary): string {
  return s.count === 0 ? 'no points' : `${s.count} points, steps ${s.firstStep}..${s.lastStep}`;
}

function show(p: DigestPoint): string {
  return `step ${p.step}: ${JSON.stringify(p.value)} at ${p.timestampMs}`;
}

/**
 * Every series the migration writes (history, system metrics, console), compared by count, first and
 * last step and a checksum over (step, timestamp, value) in step order: one pass over the source and
 * one over each Neptune series, memory bounded by the number of series. Only for series that differ,
 * a second pass walks both sides in step order to name the first differing step.
 */
export async function compareSeries(
  run: RunInfo,
  containerId: string,
  held: ReadonlyMap<string, HeldField>,
  /** The series paths the migration assigned (the ledger's), so keys map as they did then. */
  existing: readonly SeriesPath[],
  ctx: VerifyRunContext,
  onOmission: OnOmission,
  result: RunVerification,
  /** Collects the rows' media on the same pass over the history (compare-media compares them). */
  media?: ExpectedMedia,
): Promise<Difference[]> {
  const planner = new SeriesPathPlanner(existing);
  const asHeld = (p: ExpectedPoint['point']) => ({ ...p, step: ctx.reader.heldStep(p.step) });
  const expected = new Map<string, Expected>();
  // `--html`: a small chart of every history float series, both sides; the main metric's is kept.
  const charts = ctx.charts ? new Map<string, { wandb: Decimator; neptune: Decimator }>() : undefined;
  for await (const e of expectedPoints(run, ctx.source, planner, ctx.mapping, onOmission, ctx.signal, media && ((m) => media.add(m)))) {
    let x = expected.get(e.path);
    if (!x) expected.set(e.path, (x = { kind: e.kind, digest: new SeriesDigest() }));
    // The step as the target keeps it (Protocol B: to the microsecond).
    x.digest.add(asHeld(e.point));
    if (charts && e.stream === 'history' && e.kind === 'float') {
      let c = charts.get(e.path);
      if (!c) charts.set(e.path, (c = { wandb: new Decimator(), neptune: new Decimator() }));
      c.wandb.add(e.point.step, e.point.value as number);
    }
    if (e.stream === 'console') result.checked.consoleEntries++;
    else result.checked.points++;
  }
  const keyOf = new Map<string, string>();
  for (const p of [...existing, ...planner.added]) keyOf.set(p.path, p.key);
  const scopeOf = (path: string) => (path === STDOUT_PATH ? 'console' : 'series') as Difference['scope'];
  const names = (path: string) => (keyOf.has(path) && keyOf.get(path) !== path ? { names: [keyOf.get(path)!] } : {});

  // Where the protocol reads many float series per request (B), their digests are made in one pass
  // over a few requests instead of one request per series.
  const readAlready = new Map<string, SeriesDigest>();
  if (ctx.reader.floatSeriesMany) {
    const paths = [...expected].filter(([path, x]) => x.kind === 'float' && held.get(path)?.type === 'floatSeries').map(([path]) => path);
    for (const path of paths) readAlready.set(path, new SeriesDigest());
    await ctx.reader.floatSeriesMany(containerId, paths, (path, p) => {
      readAlready.get(path)!.add(p);
      charts?.get(path)?.neptune.add(p.step, p.value);
    }, ctx.signal);
  }

  const differing = new Map<string, { kind: VerifiedKind; diff: Difference }>();
  // Series are read a few at a time (the HTTP client's per-host limit still bounds the requests);
  // each slot keeps its result so the differences come out in the source's order.
  const pool = new Pool(SERIES_AT_ONCE);
  const found = await Promise.all([...expected].map(([path, x]) => pool.run(async (): Promise<Difference | undefined> => {
    result.checked.series++;
    const want = x.digest.summary();
    const h = held.get(path);
    if (!h) return { scope: scopeOf(path), subject: path, detail: `missing in Neptune (W&B: ${range(want)})`, firstStep: want.firstStep, ...names(path) };
    if (h.type !== SERIES_TYPE[x.kind]) {
      return { scope: scopeOf(path), subject: path, detail: `a ${h.type} in Neptune, a ${SERIES_TYPE[x.kind]} from W&B`, firstStep: want.firstStep, ...names(path) };
    }
    let got = readAlready.get(path);
    if (!got) {
      got = new SeriesDigest();
      const chart = charts?.get(path)?.neptune;
      for await (const p of ctx.reader.series(containerId, path, x.kind, ctx.signal)) {
        got.add(p);
        chart?.add(p.step, p.value as number);
      }
    }
    const have = got.summary();
    if (sameSummary(want, have)) return undefined;
    const diff: Difference = { scope: scopeOf(path), subject: path, detail: `W&B: ${range(want)}; Neptune: ${range(have)}`, ...names(path) };
    differing.set(path, { kind: x.kind, diff });
    return diff;
  })));
  const diffs = found.filter((d): d is Difference => d !== undefined);
  for (const [path, h] of held) {
    if ((h.type === 'floatSeries' || h.type === 'stringSeries') && !expected.has(path) && !path.startsWith('sys/')) {
      diffs.push({ scope: scopeOf(path), subject: path, detail: `a ${h.type} in Neptune that the W&B run does not give` });
    }
  }
  const main = charts && mainMetric(charts.keys());
  if (main) result.chart = { path: main, wandb: charts.get(main)!.wandb.points(), neptune: charts.get(main)!.neptune.points() };
  if (differing.size) await locateFirstDifferences(run, containerId, new SeriesPathPlanner([...existing, ...planner.added]), differing, ctx);
  return diffs;
}

/**
 * The second pass, for the series whose checksums differ: the source's points and Neptune's, side by
 * side in step order (one page of each differing series in memory), up to the first that differs.
 */
async function locateFirstDifferences(
  run: RunInfo,
  containerId: string,
  planner: SeriesPathPlanner,
  differing: ReadonlyMap<string, { kind: VerifiedKind; diff: Difference }>,
  ctx: VerifyRunContext,
): Promise<void> {
  const open = new Map<string, { it: AsyncIterator<HeldPoint>; diff: Difference }>();
  for (const [path, d] of differing) open.set(path, { it: ctx.reader.series(containerId, path, d.kind, ctx.signal)[Symbol.asyncIterator](), diff: d.diff });
  const settle = (path: string, step: number, what: string) => {
    const o = open.get(path)!;
    o.diff.firstStep = step;
    o.diff.detail = `${o.diff.detail}; first difference at ${what}`;
    open.delete(path);
    void o.it.return?.();
  };
  for await (const x of expectedPoints(run, ctx.source, planner, ctx.mapping, () => {}, ctx.signal)) {
    const o = open.get(x.path);
    if (!o) continue;
    const e = { ...x, point: { ...x.point, step: ctx.reader.heldStep(x.point.step) } };
    const next = await o.it.next();
    if (next.done) settle(e.path, e.point.step, `step ${e.point.step}, missing in Neptune (W&B ${show(e.point)})`);
    else if (!samePoint(e.point, next.value)) {
      const n = next.value;
      if (n.step === e.point.step) settle(e.path, n.step, `W&B ${show(e.point)}; Neptune ${show(n)}`);
      else if (n.step > e.point.step) settle(e.path, e.point.step, `step ${e.point.step}, missing in Neptune (W&B ${show(e.point)})`);
      else settle(e.path, n.step, `step ${n.step}, in Neptune but not in W&B (Neptune ${show(n)})`);
    }
    if (open.size === 0) break;
  }
  // The source ran out first: Neptune holds extra points.
  for (const [path, o] of [...open]) {
    const next = await o.it.next();
    if (!next.done) settle(path, next.value.step, `step ${next.value.step}, in Neptune but not in W&B (Neptune ${show(next.value)})`);
  }
}
