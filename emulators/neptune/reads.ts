/** Read-side DTOs of the leaderboard API (attributes, series values), used for resume and inspection. */
import { HttpError } from './http-util.ts';
import { stateOf } from './containers.ts';
import {
  blobEntries, findProject, getAttr, lastPoint, listAttrs, seriesPage, seriesStats, setValues, type AttrRow, type ContainerRow, type Db,
} from './store.ts';

function parseValue(a: AttrRow): unknown {
  return a.value === null ? undefined : (JSON.parse(a.value) as unknown);
}

/** Type-specific properties (`FloatAttributeDTO`, `FloatSeriesAttributeDTO`, ...) of one attribute. */
export function attributeProperties(db: Db, c: ContainerRow, a: AttrRow): Record<string, unknown> {
  const base = { attributeName: a.path, attributeType: a.type };
  const v = parseValue(a);
  switch (a.type) {
    case 'string': case 'int': case 'float': case 'bool':
      return { ...base, value: v };
    case 'datetime':
      return { ...base, value: new Date(v as number).toISOString() };
    case 'experimentState':
      return { ...base, value: stateOf(c) };
    case 'artifact':
      return { ...base, hash: v };
    case 'floatSeries': {
      const cfg = (v ?? {}) as { min?: number | null; max?: number | null; unit?: string | null };
      const stats = seriesStats(db, c.id, a.path);
      const last = lastPoint(db, c.id, a.path);
      return {
        ...base, hasPreview: false,
        config: { min: cfg.min ?? undefined, max: cfg.max ?? undefined, unit: cfg.unit ?? undefined },
        ...(last ? { last: last.num, lastStep: last.step } : {}),
        ...(stats.n > 0 ? { min: stats.mn, max: stats.mx, average: stats.av, variance: (stats.sq ?? 0) - (stats.av ?? 0) ** 2 } : {}),
      };
    }
    case 'stringSeries': {
      const last = lastPoint(db, c.id, a.path);
      return { ...base, ...(last ? { last: last.str, lastStep: last.step } : {}) };
    }
    case 'imageSeries':
      return { ...base, channelId: c.id, ...(a.last_step !== null ? { lastStep: a.last_step } : {}) };
    case 'stringSet':
      return { ...base, values: setValues(db, c.id, a.path) };
    case 'file': {
      const meta = v as { ext: string; name: string; size: number };
      return { ...base, ext: meta.ext, name: meta.name, size: meta.size };
    }
    case 'fileSet':
      return { ...base, size: blobEntries(db, c.id, a.path).reduce((s, e) => s + e.data.length, 0) };
    case 'gitRef':
      return { repositoryDirty: false, commit: {}, ...(v as Record<string, unknown>), ...base };
    default:
      return base;
  }
}

export function attributeDto(db: Db, c: ContainerRow, a: AttrRow): Record<string, unknown> {
  return { name: a.path, type: a.type, [`${a.type}Properties`]: attributeProperties(db, c, a) };
}

const SYSTEM_FIELDS: Array<[string, string, string, unknown]> = [
  // [DTO key, path, type, default]
  ['creationTime', 'sys/creation_time', 'datetime', 0], ['customId', 'sys/custom_run_id', 'string', ''],
  ['description', 'sys/description', 'string', ''], ['failed', 'sys/failed', 'bool', false], ['family', 'sys/family', 'string', ''],
  ['modificationTime', 'sys/modification_time', 'datetime', 0], ['monitoringTime', 'sys/monitoring_time', 'int', 0],
  ['name', 'sys/name', 'string', ''], ['pingTime', 'sys/ping_time', 'datetime', 0], ['runningTime', 'sys/running_time', 'float', 0],
  ['shortId', 'sys/id', 'string', ''], ['size', 'sys/size', 'float', 0], ['state', 'sys/state', 'experimentState', 'idle'],
  ['tags', 'sys/tags', 'stringSet', undefined], ['trashed', 'sys/trashed', 'bool', false], ['owner', 'sys/owner', 'string', ''],
];

/** `GET /api/leaderboard/v1/attributes` → ExperimentAttributesDTO. */
export function experimentAttributesDto(db: Db, c: ContainerRow): Record<string, unknown> {
  const p = findProject(db, c.project_id);
  if (!p) throw new HttpError(404, 'Project not found');
  const attrs = listAttrs(db, c.id);
  const attributes = attrs.map((a) => attributeDto(db, c, a));
  const byPath = new Map(attrs.map((a) => [a.path, a]));
  const systemAttributes: Record<string, unknown> = {};
  for (const [key, path, type, dflt] of SYSTEM_FIELDS) {
    const row = byPath.get(path) ?? { container_id: c.id, path, type, value: dflt === undefined ? null : JSON.stringify(dflt), last_step: null };
    systemAttributes[key] = attributeProperties(db, c, row);
  }
  return {
    id: c.id, organizationId: p.workspace_id, organizationName: p.workspace, projectId: p.id, projectName: p.name,
    // No `fields` key: the served ExperimentAttributesDTO (2023 leaderboard.json) has `attributes`
    // only, and neptune-client 1.13 hosted_neptune_backend.py reads `result.attributes`.
    trashed: false, systemAttributes, attributes,
  };
}

/** One attribute of an expected type (typed getters like getFloatSeriesAttribute). */
export function typedAttribute(db: Db, c: ContainerRow, path: string, types: string[]): AttrRow {
  const a = getAttr(db, c.id, path);
  if (!a) throw new HttpError(404, `Attribute '${path}' not found`, { errorType: 'ATTRIBUTE_NOT_FOUND' });
  if (!types.includes(a.type)) throw new HttpError(400, `Attribute '${path}' is of type ${a.type}, not ${types.join('/')}`);
  return a;
}

function intParam(q: URLSearchParams, name: string, dflt: number, max = Number.MAX_SAFE_INTEGER): number {
  const raw = q.get(name);
  if (raw === null || raw === '') return dflt;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new HttpError(400, `Query parameter '${name}' must be a non-negative integer`);
  return Math.min(n, max);
}

/**
 * Series values, ascending by step. `skipToStep` keeps points with step >= it (the 1.x client
 * pages with it on both float and string series); `offset` skips that many points first.
 */
export function seriesValues(db: Db, c: ContainerRow, path: string, kind: 'float' | 'string', q: URLSearchParams): Record<string, unknown> {
  typedAttribute(db, c, path, [kind === 'float' ? 'floatSeries' : 'stringSeries']);
  const limit = intParam(q, 'limit', 1000, 10_000);
  const offset = intParam(q, 'offset', 0);
  const skipRaw = q.get('skipToStep');
  const skip = skipRaw === null || skipRaw === '' ? -Infinity : Number(skipRaw);
  if (Number.isNaN(skip)) throw new HttpError(400, "Query parameter 'skipToStep' must be a number");
  const total = seriesStats(db, c.id, path).n;
  const rows = seriesPage(db, c.id, path, Number.isFinite(skip) ? skip : -1e308, limit, offset);
  const values = rows.map((r) => kind === 'float'
    ? { step: r.step, value: r.num, timestampMillis: r.ts, isPreview: false, completionRatio: 1 }
    : { step: r.step, value: r.str, timestampMillis: r.ts });
  return { totalItemCount: total, values };
}
