/**
 * The project-wide attribute queries neptune-query 1.11.0 builds its tables from (its
 * `src/neptune_query/generated/neptune_api_spec/swagger/retrieval.json`, from neptune.git bb87417):
 * - `POST /api/leaderboard/v1/leaderboard/attributes/definitions/query` (`queryAttributeDefinitionsWithinProject`,
 *   JSON `QueryAttributeDefinitionsBodyDTO` → `QueryAttributeDefinitionsResultDTO{entries [{name, type}], nextPage}`):
 *   `list_attributes`, and the columns of `fetch_experiments_table` (internal/retrieval/attribute_definitions.py);
 * - `POST /api/leaderboard/v1/proto/leaderboard/attributes/query?projectIdentifier=` (`queryAttributesWithinProjectProto`,
 *   JSON `QueryAttributesBodyDTO` → `ProtoQueryAttributesResultDTO{entries=1 [{experimentId=1, experimentShortId=2,
 *   attributes=3 [ProtoAttributeDTO]}], nextPage=2 {nextPageToken=1, limit=2}}`, proto/neptune_pb/api/v1/model/attributes.proto):
 *   the values (internal/retrieval/attribute_values.py).
 * Both page with `nextPage{limit, nextPageToken}`: the client asks again with the token while one comes back
 * (attribute_values.py `_make_new_attribute_values_page_params`; definitions also stop on a short page).
 */
import { BinaryWriter } from '@bufbuild/protobuf/wire';
import { HttpError, isPlainObject } from '../neptune/http-util.ts';
import { findProject, listAttrs, stmt, type AttrRow, type ContainerRow, type Db } from '../neptune/store.ts';
import { resolveRun, writeAttribute } from './reads.ts';

type Json = Record<string, unknown>;

/** `AttributeTypeDTO` (retrieval.json): the types a 3.x server reports; A-only types (file, fileSet, …) are not among them. */
const TYPES_3X = new Set(['complex', 'experimentState', 'float', 'int', 'bool', 'string', 'datetime', 'floatSeries', 'stringSeries',
  'stringSet', 'gitRef', 'fileRef', 'fileRefSeries', 'histogramSeries']);

const strings = (x: unknown): string[] | undefined => (Array.isArray(x) ? x.filter((v): v is string => typeof v === 'string') : undefined);

function regexes(list: string[] | undefined, where: string): RegExp[] {
  return (list ?? []).map((r) => {
    try {
      return new RegExp(r);
    } catch {
      throw new HttpError(400, `Invalid regex in ${where}: ${r}`);
    }
  });
}

/**
 * `AttributeNameFilterDTO`: `mustMatchRegexes` all match and `mustNotMatchRegexes` none, or `mustMatchAny`
 * (a disjunction of such conjunctions). A regex matches anywhere in the name (neptune-query anchors an exact
 * name itself: attribute_filter.py `_escape_name_eq` gives `^name$`). The deprecated `attributeNameRegex`
 * counts only without `attributeNameFilter` (the DTO's description).
 */
function nameMatcher(body: Json): (name: string) => boolean {
  const conj = (f: Json, where: string) => {
    const must = regexes(strings(f.mustMatchRegexes), where);
    const mustNot = regexes(strings(f.mustNotMatchRegexes), where);
    return (n: string) => must.every((r) => r.test(n)) && !mustNot.some((r) => r.test(n));
  };
  const f = body.attributeNameFilter;
  if (isPlainObject(f)) {
    if (Array.isArray(f.mustMatchAny) && f.mustMatchAny.length > 0) {
      const alts = f.mustMatchAny.filter(isPlainObject).map((x) => conj(x, 'mustMatchAny'));
      return (n) => alts.some((m) => m(n));
    }
    return conj(f, 'attributeNameFilter');
  }
  if (typeof body.attributeNameRegex === 'string') return conj({ mustMatchRegexes: [body.attributeNameRegex] }, 'attributeNameRegex');
  return () => true;
}

/** `attributeFilter: [AttributeFilterDTO{attributeType}]` (match any); absent = every type. */
function typeMatcher(body: Json): (type: string) => boolean {
  if (!Array.isArray(body.attributeFilter)) return () => true;
  const types = new Set(body.attributeFilter.filter(isPlainObject).map((f) => f.attributeType).filter((t): t is string => typeof t === 'string'));
  return (t) => types.has(t);
}

/** `experimentIdsFilter` (`<workspace>/<project>/<sys id>`, identifiers.py `RunIdentifier`), else every run of the projects. */
function selectRuns(db: Db, projects: string[], body: Json): ContainerRow[] {
  const ids = strings(body.experimentIdsFilter);
  if (ids) return ids.map((id) => resolveRun(db, id));
  return projects.flatMap((ident) => {
    const p = findProject(db, ident);
    if (!p) throw new HttpError(404, `Project ${ident} not found`, { errorType: 'PROJECT_NOT_FOUND' });
    return stmt(db, "SELECT * FROM containers WHERE project_id = ? AND type = 'run' ORDER BY created_ms").all(p.id) as ContainerRow[];
  });
}

function page(body: Json): { offset: number; limit: number } {
  const np = isPlainObject(body.nextPage) ? body.nextPage : {};
  const offset = typeof np.nextPageToken === 'string' && /^\d+$/.test(np.nextPageToken) ? Number(np.nextPageToken) : 0;
  const limit = typeof np.limit === 'number' && np.limit > 0 ? np.limit : 10_000;
  return { offset, limit };
}

function attrsOf(db: Db, c: ContainerRow, body: Json): AttrRow[] {
  const names = strings(body.attributeNamesFilter);
  const byName = names ? new Set(names) : undefined;
  const name = nameMatcher(body);
  const type = typeMatcher(body);
  return listAttrs(db, c.id).filter((a) => TYPES_3X.has(a.type) && (byName ? byName.has(a.path) : name(a.path)) && type(a.type));
}

/** Distinct `{name, type}` over the selected runs, by name. */
export function queryAttributeDefinitions(db: Db, body: unknown): Json {
  if (!isPlainObject(body)) throw new HttpError(400, 'Body must be a QueryAttributeDefinitionsBodyDTO');
  const projects = strings(body.projectIdentifiers) ?? [];
  const defs = new Map<string, { name: string; type: string }>();
  for (const c of selectRuns(db, projects, body)) for (const a of attrsOf(db, c, body)) defs.set(`${a.path}\u0000${a.type}`, { name: a.path, type: a.type });
  const all = [...defs.values()].sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
  const { offset, limit } = page(body);
  const entries = all.slice(offset, offset + limit);
  const more = offset + limit < all.length;
  return { entries, nextPage: more ? { limit, nextPageToken: String(offset + limit) } : { limit } };
}

/** Every selected (run, attribute) value, `limit` values a page, grouped by run in `entries`. */
export function queryAttributeValues(db: Db, projectIdentifier: string, body: unknown): Uint8Array {
  if (!isPlainObject(body)) throw new HttpError(400, 'Body must be a QueryAttributesBodyDTO');
  const pairs = selectRuns(db, [projectIdentifier], body).flatMap((c) => attrsOf(db, c, body).map((a) => ({ c, a })));
  const { offset, limit } = page(body);
  const slice = pairs.slice(offset, offset + limit);
  const w = new BinaryWriter();
  for (let i = 0; i < slice.length;) {
    const c = slice[i].c;
    w.tag(1, 2).fork().tag(1, 2).string(c.id).tag(2, 2).string(c.short_id);
    for (; i < slice.length && slice[i].c === c; i++) writeAttribute(w, 3, db, c, slice[i].a);
    w.join();
  }
  w.tag(2, 2).fork();
  if (offset + limit < pairs.length) w.tag(1, 2).string(String(offset + limit));
  w.tag(2, 0).uint32(limit).join();
  return w.finish();
}
