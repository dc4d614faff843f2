/**
 * `executeOperations` semantics (neptune-api.md §2.4): every valid operation is applied, every
 * invalid one yields an OperationError, the rest of the batch still lands. A batch that would
 * push a container over the field cap is refused as a whole with 422
 * `ATTRIBUTES_PER_EXPERIMENT_LIMIT_EXCEEDED` — the error is an HTTP-level one in the Python
 * client (swagger_client_wrapper.py reads `errorType`, `limit`, `experimentQualifiedName` from
 * the response body) and the OperationError enum has no such value, so it cannot be per-op.
 */
import { HttpError } from './http-util.ts';
import { clearSeries, countAttrs, deleteAttr, getAttr, insertPoints, putAttr, seriesId, type AttrRow, type Db, stmt } from './store.ts';
import type { ResolvedLimits } from './types.ts';
import { MalformedRequest, splitOperation, validateOperation, type OperationErrorType } from './validators.ts';

export interface OperationError { errorType: OperationErrorType; errorDescription: string }

/** Attribute type each operation creates or requires. */
const OP_TYPE: Record<string, string> = {
  assignString: 'string', assignInt: 'int', assignFloat: 'float', assignBool: 'bool', assignDatetime: 'datetime',
  assignArtifact: 'artifact', logFloats: 'floatSeries', clearFloatSeries: 'floatSeries', configFloatSeries: 'floatSeries',
  logStrings: 'stringSeries', clearStringSeries: 'stringSeries', logImages: 'imageSeries', clearImageSeries: 'imageSeries',
  insertStrings: 'stringSet', removeStrings: 'stringSet', clearStringSet: 'stringSet', deleteFiles: 'fileSet',
};

/** Operations that do nothing (and create nothing) when the attribute does not exist. */
const NO_CREATE = new Set(['removeStrings', 'deleteFiles', 'deleteAttribute']);

/**
 * Server-managed system fields. Writable by clients: sys/name, sys/description, sys/tags,
 * sys/failed (neptune-client 1.x assigns these); everything else under sys/ is refused.
 */
const READ_ONLY = new Set([
  'sys/id', 'sys/custom_run_id', 'sys/creation_time', 'sys/modification_time', 'sys/state', 'sys/owner',
  'sys/ping_time', 'sys/running_time', 'sys/monitoring_time', 'sys/size', 'sys/trashed',
]);

class FieldLimitExceeded extends Error {}

/**
 * The server's words for a step at or below the series' last one (recorded 2023 traffic, issue 8).
 * The step prints as a Java double does (3 → "3.0"): the server is a JVM one; the recording shows
 * only `<step>`, so the number format is this emulator's assumption.
 */
export function stepRefusal(path: string, step: number): string {
  const shown = Number.isInteger(step) && Math.abs(step) < 1e7 ? step.toFixed(1) : String(step);
  return `X-coordinates (step) must be strictly increasing for series attribute: ${path}. Invalid point: ${shown}`;
}

function codePoints(s: string, max: number): number {
  // UTF-16 length is an upper bound of the code-point count: only count when it matters.
  return s.length <= max ? s.length : [...s].length;
}

/** The 422 the server answers when a request would create more fields than allowed. */
export function fieldLimitError(limits: ResolvedLimits, target: BatchTarget): HttpError {
  return new HttpError(422, `Field count limit of ${limits.fieldsPerRun} exceeded`, {
    errorType: 'ATTRIBUTES_PER_EXPERIMENT_LIMIT_EXCEEDED', title: `Field count limit of ${limits.fieldsPerRun} exceeded`,
    limit: limits.fieldsPerRun, experimentType: target.type, experimentQualifiedName: target.qualifiedName,
  });
}

export interface BatchTarget { id: string; type: string; qualifiedName: string }

/** Server generation: `legacy` = an older server that does not know `sys/group_tags` (types.ts `legacy`). */
export interface ServerProfile { legacy?: boolean }

export function executeOperations(db: Db, limits: ResolvedLimits, target: BatchTarget, raw: unknown, profile: ServerProfile = {}): OperationError[] {
  if (!Array.isArray(raw)) throw new HttpError(400, 'Request body must be a JSON array of operations');
  if (limits.maxOperationsPerRequest > 0 && raw.length > limits.maxOperationsPerRequest) {
    throw new HttpError(400, `Too many operations in one request: ${raw.length} > ${limits.maxOperationsPerRequest}`);
  }
  try {
    raw.forEach((op, i) => splitOperation(op, i));
  } catch (e) {
    if (e instanceof MalformedRequest) throw new HttpError(400, e.message);
    throw e;
  }
  try {
    return db.transaction(() => applyAll(db, limits, target, raw, profile))();
  } catch (e) {
    if (e instanceof FieldLimitExceeded) throw fieldLimitError(limits, target);
    throw e;
  }
}

function applyAll(db: Db, limits: ResolvedLimits, target: BatchTarget, raw: unknown[], profile: ServerProfile): OperationError[] {
  const errors: OperationError[] = [];
  let fieldCount = countAttrs(db, target.id);
  let applied = 0;
  const fail = (errorType: OperationErrorType, errorDescription: string) => errors.push({ errorType, errorDescription });

  raw.forEach((rawOp, i) => {
    const op = validateOperation(rawOp, i, limits.pathMax);
    if ('errorType' in op) return fail(op.errorType, op.errorDescription);
    const { path, key, body } = op;
    if (READ_ONLY.has(path)) return fail('metadata_inconsistency', `Attribute '${path}' is read-only`);
    // An older server has no such system attribute: the operation is refused on its own, the rest of
    // the batch lands. The OperationError type is the served enum's (2023 leaderboard.json
    // OperationError); the description's wording is this emulator's, no recording of it exists.
    if (profile.legacy && path === 'sys/group_tags') {
      return fail('metadata_inconsistency', `Attribute '${path}' is not a known system attribute on this server`);
    }
    const existing = getAttr(db, target.id, path);

    if (key === 'deleteAttribute') {
      if (existing) { deleteAttr(db, target.id, path); fieldCount -= 1; applied += 1; }
      return;
    }
    const type = OP_TYPE[key];
    if (existing && existing.type !== type) {
      return fail('metadata_inconsistency', `Cannot perform ${key} on attribute '${path}': it is of type ${existing.type}, ${key} needs ${type}`);
    }
    if (!existing && NO_CREATE.has(key)) return;
    const tooLong = lengthProblem(key, body, limits, path);
    if (tooLong) return fail('metadata_inconsistency', tooLong);
    if (!existing) {
      if (fieldCount + 1 > limits.fieldsPerRun) throw new FieldLimitExceeded();
      fieldCount += 1;
    }
    const err = applyOne(db, limits, target.id, path, key, body, existing);
    if (err.length > 0) errors.push(...err);
    // A newly created series whose every point was refused still exists (the server
    // registers the attribute type first), matching "type fixed once set".
    applied += 1;
  });
  if (applied > 0 && getAttr(db, target.id, 'sys/modification_time')) {
    putAttr(db, target.id, 'sys/modification_time', 'datetime', Date.now());
  }
  return errors;
}

/** String atoms and set values over `stringMax` are refused whole (the client truncates before sending). */
function lengthProblem(key: string, body: Record<string, unknown>, limits: ResolvedLimits, path: string): string | undefined {
  if (key === 'assignString' && codePoints(body.value as string, limits.stringMax) > limits.stringMax) {
    return `Attribute '${path}': string value exceeds ${limits.stringMax} characters`;
  }
  if ((key === 'insertStrings' || key === 'removeStrings') && (body.values as string[]).some((v) => codePoints(v, limits.stringMax) > limits.stringMax)) {
    return `Attribute '${path}': a string set value exceeds ${limits.stringMax} characters`;
  }
  return undefined;
}

function applyOne(
  db: Db, limits: ResolvedLimits, cid: string, path: string, key: string, body: Record<string, unknown>,
  existing: AttrRow | undefined,
): OperationError[] {
  const errors: OperationError[] = [];
  const type = OP_TYPE[key];
  switch (key) {
    case 'assignString': case 'assignInt': case 'assignFloat': case 'assignBool':
      putAttr(db, cid, path, type, body.value);
      break;
    case 'assignDatetime':
      putAttr(db, cid, path, type, body.valueMilliseconds);
      break;
    case 'assignArtifact':
      // 2023 leaderboard.json AssignArtifactOperation{hash}; read back as ArtifactAttributeDTO{hash}.
      putAttr(db, cid, path, type, body.hash);
      break;
    case 'insertStrings': case 'removeStrings': case 'clearStringSet': {
      if (!existing) putAttr(db, cid, path, type, undefined);
      if (key === 'clearStringSet') { stmt(db, 'DELETE FROM set_values WHERE container_id = ? AND path = ?').run(cid, path); break; }
      const values = body.values as string[];
      const st = key === 'insertStrings'
        ? stmt(db, 'INSERT OR IGNORE INTO set_values(container_id, path, value) VALUES (?, ?, ?)')
        : stmt(db, 'DELETE FROM set_values WHERE container_id = ? AND path = ? AND value = ?');
      for (const s of values) st.run(cid, path, s);
      break;
    }
    case 'deleteFiles': {
      const del = stmt(db, "DELETE FROM blobs WHERE container_id = ? AND path = ? AND (sub_path = ? OR sub_path LIKE ? ESCAPE '\\')");
      for (const f of body.filePaths as string[]) {
        const clean = f.replace(/^\/+|\/+$/g, '');
        del.run(cid, path, clean, clean.replace(/[\\%_]/g, (c) => '\\' + c) + '/%');
      }
      break;
    }
    case 'clearFloatSeries': case 'clearStringSeries': case 'clearImageSeries':
      clearSeries(db, cid, path);
      putAttr(db, cid, path, type, existing?.value ? JSON.parse(existing.value) : undefined, null);
      break;
    case 'configFloatSeries':
      putAttr(db, cid, path, type, { min: body.min ?? null, max: body.max ?? null, unit: body.unit ?? null }, existing?.last_step ?? null);
      break;
    case 'logFloats': case 'logStrings': case 'logImages': {
      let last = existing?.last_step ?? null;
      const entries = body.entries as Array<Record<string, unknown>>;
      const sid = seriesId(db, cid, path);
      // Accepted points as flat (series_id, step, ts, num, str) rows, inserted together at the end.
      const rows: unknown[] = [];
      for (const e of entries) {
        const step = typeof e.step === 'number' ? e.step : last === null ? 0 : last + 1;
        if (last !== null && step <= last) {
          errors.push({ errorType: 'logSeriesValueError', errorDescription: stepRefusal(path, step) });
          continue;
        }
        if (key === 'logStrings' && codePoints(e.value as string, limits.stringSeriesEntryMax) > limits.stringSeriesEntryMax) {
          errors.push({ errorType: 'logSeriesValueError', errorDescription: `Attribute '${path}': series entry at step ${step} exceeds ${limits.stringSeriesEntryMax} characters` });
          continue;
        }
        const ts = e.timestampMilliseconds as number;
        if (key === 'logFloats') rows.push(sid, step, ts, e.value as number, null);
        else if (key === 'logStrings') rows.push(sid, step, ts, null, e.value as string);
        else rows.push(sid, step, ts, null, JSON.stringify(e.value ?? null));
        last = step;
      }
      insertPoints(db, rows);
      putAttr(db, cid, path, type, existing?.value ? JSON.parse(existing.value) : undefined, last);
      break;
    }
  }
  return errors;
}
