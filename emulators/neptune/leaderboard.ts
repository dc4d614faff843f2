/**
 * The runs table: `searchLeaderboardEntries` and `searchLeaderboardAttributes` (2023 leaderboard.json),
 * as neptune-client 1.x calls them for `fetch_runs_table` (api/searching_entries.py: NQL query,
 * `attributeFilters` as columns, `sorting`, `pagination{limit, offset}`, `type` query list) and for
 * the sort column's type (hosted_neptune_backend.py `_get_column_types`: `search` = column name).
 */
import { stateOf } from './containers.ts';
import { HttpError, isPlainObject } from './http-util.ts';
import { matches, parseNql, type Comparable } from './nql.ts';
import { attributeDto } from './reads.ts';
import { findProject, listAttrs, setValues, lastPoint, type AttrRow, type ContainerRow, type Db, stmt } from './store.ts';

function projectContainers(db: Db, projectIdent: string, types: string[]): { p: NonNullable<ReturnType<typeof findProject>>; cs: ContainerRow[] } {
  const p = findProject(db, projectIdent);
  if (!p) throw new HttpError(404, `Project '${projectIdent}' not found`, { errorType: 'PROJECT_NOT_FOUND' });
  const all = stmt(db, 'SELECT * FROM containers WHERE project_id = ? ORDER BY created_ms, rowid').all(p.id) as ContainerRow[];
  const wanted = types.length ? types : ['run', 'model', 'modelVersion'];
  return { p, cs: all.filter((c) => wanted.includes(c.type)) };
}

/** What NQL and sorting compare for one field. */
export function comparable(db: Db, c: ContainerRow, a: AttrRow | undefined): Comparable {
  if (!a) return undefined;
  const v = a.value === null ? undefined : (JSON.parse(a.value) as unknown);
  switch (a.type) {
    case 'float': case 'int': case 'bool': case 'string': case 'datetime':
      return v as Comparable;
    case 'experimentState': return stateOf(c);
    case 'stringSet': return setValues(db, c.id, a.path);
    case 'floatSeries': return lastPoint(db, c.id, a.path)?.num ?? undefined;
    case 'stringSeries': return lastPoint(db, c.id, a.path)?.str ?? undefined;
    default: return undefined;
  }
}

export function order(a: Comparable, b: Comparable): number {
  if (a === undefined || b === undefined) return a === b ? 0 : a === undefined ? 1 : -1;
  const x = Array.isArray(a) ? a.join(',') : a;
  const y = Array.isArray(b) ? b.join(',') : b;
  return x < y ? -1 : x > y ? 1 : 0;
}

const obj = (v: unknown): Record<string, unknown> => (isPlainObject(v) ? v : {});

export function searchEntries(db: Db, projectIdent: string, types: string[], params: unknown): Record<string, unknown> {
  const prm = obj(params);
  const query = parseNql(typeof obj(prm.query).query === 'string' ? (obj(prm.query).query as string) : '');
  const { p, cs } = projectContainers(db, projectIdent, types);
  const rows = cs.map((c) => ({ c, attrs: new Map(listAttrs(db, c.id).map((a) => [a.path, a])) }));
  const hits = rows.filter((r) => matches(query, (name) => comparable(db, r.c, r.attrs.get(name))));
  const sorting = obj(prm.sorting);
  const sortBy = obj(sorting.sortBy).name;
  if (typeof sortBy === 'string') {
    const sign = sorting.dir === 'descending' ? -1 : 1;
    hits.sort((a, b) => sign * order(comparable(db, a.c, a.attrs.get(sortBy)), comparable(db, b.c, b.attrs.get(sortBy))));
  }
  const page = obj(prm.pagination);
  const offset = typeof page.offset === 'number' ? page.offset : 0;
  const limit = typeof page.limit === 'number' ? page.limit : hits.length;
  const filters = Array.isArray(prm.attributeFilters) ? prm.attributeFilters.map((f) => obj(f).path).filter((x): x is string => typeof x === 'string') : undefined;
  const entries = hits.slice(offset, offset + limit).map(({ c, attrs }) => ({
    experimentId: c.id, type: c.type, organizationId: p.workspace_id, organizationName: p.workspace, projectId: p.id, projectName: p.name,
    attributes: [...attrs.values()].filter((a) => !filters || filters.includes(a.path)).map((a) => attributeDto(db, c, a)),
  }));
  return { entries, matchingItemCount: hits.length };
}

export function searchAttributes(db: Db, projectIdent: string, types: string[], search: string): Record<string, unknown> {
  const { cs } = projectContainers(db, projectIdent, types);
  const seen = new Map<string, { name: string; type: string }>();
  for (const c of cs) {
    for (const a of listAttrs(db, c.id)) {
      if (a.path.includes(search)) seen.set(`${a.path}\0${a.type}`, { name: a.path, type: a.type });
    }
  }
  return { entries: [...seen.values()].sort((a, b) => order(a.name, b.name)) };
}
