/**
 * `POST /api/leaderboard/v1/proto/leaderboard/entries/search/?projectIdentifier=&type=` (neptune-query@00fcb6b
 * `swagger/retrieval.json` `searchLeaderboardEntriesProto`): how neptune-query finds runs and experiments
 * (`internal/retrieval/search.py`: `attributeFilters` = the projection, `query.query` = an NQL filter built by
 * `internal/filters.py`, e.g. `` (`sys/custom_run_id`:string == "abc") `` or `` `sys/name`:string MATCHES "^a" ``,
 * `sorting{sortBy{name, type}, dir}`, `pagination{limit, offset}`). Answers `ProtoLeaderboardEntriesSearchResultDTO
 * {matching_item_count = 1, entries = 3 [ProtoAttributesDTO]}` (leaderboard_entries.proto).
 * The NQL is A's (../neptune/nql.ts, which reads neptune-query's forms too), compared the same way as A's
 * runs table (../neptune/leaderboard.ts `comparable`); a query it cannot read is A's 400 "Syntax error".
 */
import { BinaryWriter } from '@bufbuild/protobuf/wire';
import { HttpError, isPlainObject } from '../neptune/http-util.ts';
import { comparable, order } from '../neptune/leaderboard.ts';
import { matches, parseNql } from '../neptune/nql.ts';
import { findProject, stmt, type AttrRow, type ContainerRow, type Db } from '../neptune/store.ts';
import { encodeAttributes } from './reads.ts';

export function searchEntries(db: Db, projectIdentifier: string, body: unknown): Uint8Array {
  const p = findProject(db, projectIdentifier);
  if (!p) throw new HttpError(404, `Project ${projectIdentifier} not found`, { errorType: 'PROJECT_NOT_FOUND' });
  const params = isPlainObject(body) ? body : {};
  const filter = Array.isArray(params.attributeFilters)
    ? params.attributeFilters.map((f: unknown) => (isPlainObject(f) && typeof f.path === 'string' ? f.path : '')).filter(Boolean)
    : undefined;
  const query = parseNql(isPlainObject(params.query) && typeof params.query.query === 'string' ? params.query.query : '');
  const page = isPlainObject(params.pagination) ? params.pagination : {};
  const limit = typeof page.limit === 'number' ? page.limit : 50;
  const offset = typeof page.offset === 'number' ? page.offset : 0;
  const runs = stmt(db, "SELECT * FROM containers WHERE project_id = ? AND type = 'run' ORDER BY created_ms DESC").all(p.id) as ContainerRow[];
  const attr = stmt(db, 'SELECT * FROM attrs WHERE container_id = ? AND path = ?');
  const field = (c: ContainerRow, path: string) => comparable(db, c, attr.get(c.id, path) as AttrRow | undefined);
  // `experimentLeader: true` is how neptune-query lists experiments rather than runs (internal/retrieval/
  // search.py: `container_type == ContainerType.EXPERIMENT`): only the run that holds its experiment name now,
  // `sys/experiment/is_head` (./ingest.ts moves the name, and the head, to the latest run that claims it).
  const leaders = params.experimentLeader === true;
  const matching = runs.filter((c) => (!leaders || field(c, 'sys/experiment/is_head') === true) && matches(query, (path) => field(c, path)));
  const sorting = isPlainObject(params.sorting) ? params.sorting : {};
  const sortBy = isPlainObject(sorting.sortBy) ? sorting.sortBy.name : undefined;
  if (typeof sortBy === 'string') {
    const sign = sorting.dir === 'descending' ? -1 : 1;
    matching.sort((a, b) => sign * order(field(a, sortBy), field(b, sortBy)));
  }
  const w = new BinaryWriter();
  w.tag(1, 0).int64(matching.length);
  for (const c of matching.slice(offset, offset + limit)) w.tag(3, 2).bytes(encodeAttributes(db, c, filter));
  return w.finish();
}
