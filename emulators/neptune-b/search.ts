/**
 * `POST /api/leaderboard/v1/proto/leaderboard/entries/search/?projectIdentifier=&type=` (neptune-query@00fcb6b
 * `swagger/retrieval.json` `searchLeaderboardEntriesProto`): how neptune-query finds a run by its custom
 * run id before reading it (`internal/retrieval/search.py`: `attributeFilters` = the projection,
 * `query.query` = an NQL filter such as `` `sys/custom_run_id`:string == "abc" ``, built by
 * `internal/filters.py _AttributeValuePredicate`). Answers `ProtoLeaderboardEntriesSearchResultDTO
 * {matching_item_count = 1, entries = 3 [ProtoAttributesDTO]}` (leaderboard_entries.proto).
 * This emulator understands one predicate: a string attribute `==` a quoted value (escapes `\\` and `\"`),
 * optionally in parentheses; an empty query matches every run.
 */
import { BinaryWriter } from '@bufbuild/protobuf/wire';
import { HttpError, isPlainObject } from '../neptune/http-util.ts';
import { findProject, stmt, type ContainerRow, type Db } from '../neptune/store.ts';
import { encodeAttributes } from './reads.ts';

interface Predicate { path: string; value: string }

export function parsePredicate(query: string): Predicate | undefined {
  const q = query.trim().replace(/^\((.*)\)$/s, '$1').trim();
  if (q === '') return undefined;
  const m = /^`([^`]+)`(?::string)?\s*==\s*"((?:[^"\\]|\\.)*)"$/s.exec(q);
  if (!m) throw new HttpError(400, `This emulator understands only \`path\`:string == "value" queries, not: ${query}`);
  return { path: m[1], value: m[2].replace(/\\(.)/g, '$1') };
}

export function searchEntries(db: Db, projectIdentifier: string, body: unknown): Uint8Array {
  const p = findProject(db, projectIdentifier);
  if (!p) throw new HttpError(404, `Project ${projectIdentifier} not found`, { errorType: 'PROJECT_NOT_FOUND' });
  const params = isPlainObject(body) ? body : {};
  const filter = Array.isArray(params.attributeFilters)
    ? params.attributeFilters.map((f: unknown) => (isPlainObject(f) && typeof f.path === 'string' ? f.path : '')).filter(Boolean)
    : undefined;
  const query = isPlainObject(params.query) && typeof params.query.query === 'string' ? params.query.query : '';
  const pred = parsePredicate(query);
  const limit = isPlainObject(params.pagination) && typeof params.pagination.limit === 'number' ? params.pagination.limit : 50;
  const runs = stmt(db, "SELECT * FROM containers WHERE project_id = ? AND type = 'run' ORDER BY created_ms DESC").all(p.id) as ContainerRow[];
  const attr = stmt(db, 'SELECT value FROM attrs WHERE container_id = ? AND path = ?');
  const matching = pred
    ? runs.filter((c) => {
        const a = attr.get(c.id, pred.path) as { value: string | null } | undefined;
        return a?.value != null && JSON.parse(a.value) === pred.value;
      })
    : runs;
  const w = new BinaryWriter();
  w.tag(1, 0).int64(matching.length);
  for (const c of matching.slice(0, limit)) w.tag(3, 2).bytes(encodeAttributes(db, c, filter));
  return w.finish();
}
