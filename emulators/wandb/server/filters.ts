/**
 * The Mongo-style run filters and `order` strings the W&B SDK sends (wandb-api.md §2.3), evaluated
 * over an in-memory view of each run.
 */
import type { GenRun } from '../generator/types.ts';

type Filter = Record<string, unknown>;

function runtimeSeconds(run: GenRun): number {
  const w = run.summary._wandb as { runtime?: number } | undefined;
  return typeof w?.runtime === 'number' ? w.runtime : 0;
}

/** Resolves a filter path (`state`, `config.lr.value`, `summary_metrics.loss`) on a run. */
export function fieldValue(run: GenRun, path: string): unknown {
  const parts = path.split('.');
  const walk = (v: unknown, rest: string[]): unknown => {
    for (const p of rest) {
      if (v === null || typeof v !== 'object') return undefined;
      v = (v as Record<string, unknown>)[p];
    }
    return v;
  };
  switch (parts[0]) {
    case 'config': {
      const rest = parts.slice(2);
      if (rest[0] === 'value') rest.shift();
      return walk(run.config[parts[1]], rest);
    }
    case 'summary_metrics':
    case 'summaryMetrics':
      return walk(run.summary, parts.slice(1));
    case 'name': case 'id': return run.id;
    case 'displayName': case 'display_name': return run.displayName;
    case 'state': return run.state;
    case 'createdAt': case 'created_at': return run.createdAt;
    case 'heartbeatAt': case 'heartbeat_at': return run.heartbeatAt;
    case 'tags': return run.tags;
    case 'group': return run.group ?? null;
    case 'jobType': case 'job_type': return run.jobType ?? null;
    case 'host': return run.host ?? null;
    case 'username': case 'user': return run.user;
    case 'sweep': case 'sweepName': return run.sweep ?? null;
    case 'duration': return runtimeSeconds(run);
    default: return undefined;
  }
}

const DATE_FIELD = /(At|_at)$/;

function toMs(s: string): number {
  // W&B dates may lack a zone designator; they are UTC.
  return Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(s) ? s : s + 'Z');
}

function compare(a: unknown, b: unknown, dateLike: boolean): number | undefined {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'string' && typeof b === 'string') {
    if (dateLike) {
      const x = toMs(a), y = toMs(b);
      if (!Number.isNaN(x) && !Number.isNaN(y)) return x - y;
    }
    return a < b ? -1 : a > b ? 1 : 0;
  }
  return undefined;
}

function equal(a: unknown, b: unknown): boolean {
  if (b === null) return a === null || a === undefined;
  if (typeof a === 'object' || typeof b === 'object') return JSON.stringify(a) === JSON.stringify(b);
  return a === b;
}

function testScalar(v: unknown, op: string, arg: unknown, dateLike: boolean, cond: Filter): boolean {
  const c = (): number | undefined => compare(v, arg, dateLike);
  switch (op) {
    case '$eq': return equal(v, arg);
    case '$gt': { const r = c(); return r !== undefined && r > 0; }
    case '$gte': { const r = c(); return r !== undefined && r >= 0; }
    case '$lt': { const r = c(); return r !== undefined && r < 0; }
    case '$lte': { const r = c(); return r !== undefined && r <= 0; }
    case '$in': return Array.isArray(arg) && arg.some((x) => equal(v, x));
    case '$regex': {
      if (typeof v !== 'string') return false;
      const flags = typeof cond.$options === 'string' ? cond.$options : '';
      return new RegExp(String(arg), flags).test(v);
    }
    default: throw new Error(`unsupported filter operator ${op}`);
  }
}

function testField(run: GenRun, path: string, cond: unknown): boolean {
  const v = fieldValue(run, path);
  const dateLike = DATE_FIELD.test(path);
  const ops: Filter =
    cond !== null && typeof cond === 'object' && !Array.isArray(cond) && Object.keys(cond).every((k) => k.startsWith('$'))
      ? (cond as Filter)
      : { $eq: cond };
  for (const [op, arg] of Object.entries(ops)) {
    if (op === '$options') continue;
    // Mongo array semantics: a positive test matches when any element matches; $ne/$nin when none does.
    const anyOf = (o: string, a: unknown): boolean =>
      Array.isArray(v) && o !== '$eq' ? v.some((e) => testScalar(e, o, a, dateLike, ops))
        : Array.isArray(v) && !Array.isArray(a) ? v.some((e) => testScalar(e, o, a, dateLike, ops))
          : testScalar(v, o, a, dateLike, ops);
    let ok: boolean;
    if (op === '$exists') ok = (v !== undefined) === Boolean(arg);
    else if (op === '$ne') ok = !anyOf('$eq', arg);
    else if (op === '$nin') ok = !anyOf('$in', arg);
    else if (op === '$not') ok = !testField(run, path, arg);
    else ok = anyOf(op, arg);
    if (!ok) return false;
  }
  return true;
}

export function matchesFilter(run: GenRun, filter: Filter): boolean {
  for (const [k, cond] of Object.entries(filter)) {
    if (k === '$and') { if (!(cond as Filter[]).every((f) => matchesFilter(run, f))) return false; }
    else if (k === '$or') { if (!(cond as Filter[]).some((f) => matchesFilter(run, f))) return false; }
    else if (k === '$nor') { if ((cond as Filter[]).some((f) => matchesFilter(run, f))) return false; }
    else if (!testField(run, k, cond)) return false;
  }
  return true;
}

/** Parses the `filters` JSONString variable; throws on malformed JSON (a GraphQL error, like W&B). */
export function parseFilters(filters: string | null | undefined): Filter {
  if (!filters) return {};
  const f: unknown = JSON.parse(filters);
  if (f === null || typeof f !== 'object' || Array.isArray(f)) throw new Error('filters must be a JSON object');
  return f as Filter;
}

/** Sorts runs by a W&B order string (`+created_at`, `-heartbeat_at`, `config.lr.value`, `summary_metrics.loss`). */
export function sortRuns(runs: GenRun[], order: string | null | undefined): GenRun[] {
  const o = order || '+created_at';
  const desc = o.startsWith('-');
  const field = o.replace(/^[+-]/, '');
  const dateLike = DATE_FIELD.test(field);
  const sorted = [...runs].sort((a, b) => {
    const r = compare(fieldValue(a, field), fieldValue(b, field), dateLike) ?? 0;
    return (desc ? -r : r) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  });
  return sorted;
}
