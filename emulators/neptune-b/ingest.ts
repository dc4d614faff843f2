/**
 * Applies one decoded `RunOperation` to the shared store with Protocol B's rules and ingest codes
 * (neptune-api.md §3.3, §3.4, §3.8; neptune-query@00fcb6b `.../ingest/v1/ingest.proto` IngestCode comments,
 * `.../ingest/v1/common.proto` Run / UpdateRunSnapshot comments). Called by the queue, long after
 * the POST was answered: everything here ends up in a RequestStatus, never in an HTTP error.
 */
import { HttpError } from '../neptune/http-util.ts';
import { createExperiment, createProject } from '../neptune/containers.ts';
import { findProject, findWorkspace, getAttr, insertPoints, putAttr, seriesId, stmt, type Db } from '../neptune/store.ts';
import { IngestCode, type IngestCodeValue } from './codes.ts';
import { beginChunks, ChunkBuilder, chunkPointAt, lastChunkPoint, rollBackChunks, RowSteps } from './chunks.ts';
import { bRun, existingSeriesId, lastPointWithTs, pointAt, putAttrJson, putBRun, runByRunId, type StoredPoint } from './store.ts';
import type { FileRef, FloatColumn, FloatRows, Path, RunCreate, RunOperation, SetOp, Snapshot, Step, Timestamp, Value } from './wire.ts';

export interface Issue { path: string; code: IngestCodeValue; message: string }

export interface Outcome {
  /** Field operations (or the create) that were applied. */
  ok: number;
  issues: Issue[];
  /** Set when the whole request was refused (project/run-level code). */
  fatal?: Issue;
  pointsStored: number;
}

export interface IngestRules {
  nanInf: 'accept' | 'refuse';
}

/** Limits of §3.8 (ingest.proto comments; SCALE `sync/parameters.py`). */
export const LIMITS = {
  pathBytes: 1024,
  stringBytes: 1024 * 1024,
  stringSetBytes: 1024 * 1024,
  fileRefBytes: 4 * 1024,
  maxStep: 1_000_000_000_000,
  maxMicro: 1_000_000,
  histogramEdges: 513,
  /** docs.neptune.ai/3.4.8/run: run id at most 128 bytes. */
  runIdBytes: 128,
  /** SCALE `sync/parameters.py MAX_EXPERIMENT_NAME_LENGTH`. */
  experimentIdChars: 730,
  /** ingest.proto DATETIME_VALUE_OUT_OF_RANGE: 1900-01-01 .. 2299-12-31. */
  minDatetimeMs: Date.UTC(1900, 0, 1),
  maxDatetimeMs: Date.UTC(2300, 0, 1) - 1,
};

/**
 * `sys/*` paths a client may write: tags and group tags (SCALE `api/run.py add_tags` writes
 * `sys/tags` / `sys/group_tags` through modify_sets), and the ones neptune-client 1.x assigns
 * (emulators/neptune/operations.ts READ_ONLY is the complement for A). Every other `sys/` path is
 * FIELD_PATH_NON_WRITABLE (ingest.proto: "Some special sys/ fields are read-only").
 */
const WRITABLE_SYS = new Set(['sys/tags', 'sys/group_tags', 'sys/description', 'sys/failed']);

const enc = new TextEncoder();
const byteLen = (s: string) => (s.length * 3 <= 1024 ? enc.encode(s).length : Buffer.byteLength(s, 'utf8'));

export function stepNumber(s: Step): number {
  return stepOf(s.whole, s.micro);
}

function stepOf(whole: number, micro: number): number {
  return whole + micro / 1e6;
}

/** Milliseconds of a Timestamp: the read side reports `timestamp_millis` (series_values.proto). */
export function timestampMs(t: Timestamp): number {
  return msOf(t.seconds, t.nanos);
}

function msOf(seconds: number, nanos: number): number {
  return seconds * 1000 + Math.floor(nanos / 1e6);
}

function stepProblem(s: Step): Issue['code'] | undefined {
  return stepProblemOf(s.whole, s.micro);
}

function stepProblemOf(whole: number, micro: number): Issue['code'] | undefined {
  if (micro >= LIMITS.maxMicro) return IngestCode.SERIES_STEP_INVALID;
  if (whole >= LIMITS.maxStep) return IngestCode.SERIES_STEP_TOO_LARGE;
  return undefined;
}

function pathProblem(p: Path, forWrite: boolean): Issue | undefined {
  if (!p.valid) return { path: p.text, code: IngestCode.FIELD_PATH_INVALID, message: 'path is not valid UTF-8' };
  if (p.bytes === 0) return { path: '', code: IngestCode.FIELD_PATH_EMPTY, message: 'path is empty' };
  if (p.bytes > LIMITS.pathBytes) {
    return { path: p.text, code: IngestCode.FIELD_PATH_EXCEEDS_SIZE_LIMIT, message: `path is ${p.bytes} bytes, more than ${LIMITS.pathBytes}` };
  }
  if (forWrite && p.text.startsWith('sys/') && !WRITABLE_SYS.has(p.text)) {
    return { path: p.text, code: IngestCode.FIELD_PATH_NON_WRITABLE, message: `'${p.text}' is read-only` };
  }
  return undefined;
}

/** Project `workspace/name` of a RunOperation, created when asked (`create_missing_project`, ingest.proto). */
function resolveProject(db: Db, op: RunOperation, user: string): { id: string } | Issue {
  const slash = op.project.indexOf('/');
  if (op.project === '' || slash <= 0 || slash === op.project.length - 1) {
    return { path: '', code: IngestCode.PROJECT_INVALID_NAME, message: `'${op.project}' is not a workspace/project name` };
  }
  const found = findProject(db, op.project);
  if (found) return found;
  if (!op.createMissingProject) return { path: '', code: IngestCode.PROJECT_NOT_FOUND, message: `project '${op.project}' not found` };
  const ws = findWorkspace(db, op.project.slice(0, slash));
  if (!ws) return { path: '', code: IngestCode.PROJECT_NOT_FOUND, message: `workspace '${op.project.slice(0, slash)}' not found` };
  try {
    // The workspace by uuid under both spellings A's createProject has accepted (organizationId / organizationIdentifier).
    return createProject(db, { organizationId: ws.id, organizationIdentifier: ws.id, name: op.project.slice(slash + 1) }, user);
  } catch (e) {
    if (!(e instanceof HttpError)) throw e;
    const code = e.status === 404 ? IngestCode.PROJECT_NOT_FOUND : IngestCode.PROJECT_INVALID_NAME;
    return { path: '', code, message: e.message };
  }
}

/** Paths already found writable (the decoder hands out one Path object per distinct key). */
const writable = new WeakSet<Path>();

const isIssue = (x: unknown): x is Issue => typeof x === 'object' && x !== null && 'code' in x;
const fatal = (i: Issue): Outcome => ({ ok: 0, issues: [], fatal: i, pointsStored: 0 });

export function applyRunOperation(db: Db, rules: IngestRules, op: RunOperation, user: string, nowMs: number): Outcome {
  beginChunks(db);
  try {
    return applyInTransaction(db, rules, op, user, nowMs);
  } catch (error) {
    rollBackChunks(db); // rolled back: the chunks it added are gone
    throw error;
  }
}

function applyInTransaction(db: Db, rules: IngestRules, op: RunOperation, user: string, nowMs: number): Outcome {
  return db.transaction(() => {
    const project = resolveProject(db, op, user);
    if (isIssue(project)) return fatal(project);
    if (op.create) return createRun(db, op, op.create, project.id, user, nowMs);
    const run = runByRunId(db, project.id, op.runId);
    if (!run) return fatal({ path: '', code: IngestCode.RUN_NOT_FOUND, message: `run '${op.runId}' not found in '${op.project}'` });
    if (op.rows) {
      // History rows by column: applied as such when no point of them breaks a rule; otherwise (nothing
      // written yet) snapshot by snapshot, where each rule gives its code in order.
      const byColumn = new SnapshotApplier(db, rules, run.id, nowMs);
      if (byColumn.applyRows(op.rows)) return byColumn.finish();
    }
    return new SnapshotApplier(db, rules, run.id, nowMs).applyAll(op.snapshots ?? []);
  })();
}

// ---------------------------------------------------------------------------------------------
// CreateRun (§3.3; common.proto `Run`: "CreateRun is idempotent, as long as fork_point and family are the same")

function createRun(db: Db, op: RunOperation, c: RunCreate, projectId: string, user: string, nowMs: number): Outcome {
  const bad = (message: string) => fatal({ path: '', code: IngestCode.RUN_INVALID_CREATION_PARAMETERS, message });
  if (op.runId === '') return bad('run_id is empty');
  if (byteLen(op.runId) > LIMITS.runIdBytes) return bad(`run_id is longer than ${LIMITS.runIdBytes} bytes`);
  if (c.runId !== undefined && c.runId !== op.runId) return bad('Run.run_id differs from RunOperation.run_id');
  if (c.experimentId !== undefined && [...c.experimentId].length > LIMITS.experimentIdChars) {
    return bad(`experiment_id is longer than ${LIMITS.experimentIdChars} characters`);
  }
  const creationMs = c.creationTime ? timestampMs(c.creationTime) : nowMs;
  if (creationMs < LIMITS.minDatetimeMs || creationMs > LIMITS.maxDatetimeMs) return bad('creation_time is out of range');
  const fp = c.forkPoint;
  if (fp && fp.step && stepProblem(fp.step)) return bad('fork_point step is invalid');
  const family = c.family ?? op.runId;
  const forkProject = fp ? (fp.parentProject || op.project) : null;
  const forkStep = fp?.step ? stepNumber(fp.step) : null;

  const existing = runByRunId(db, projectId, op.runId);
  if (existing) {
    // A run made over Protocol A (customId) has no B parameters: it counts as family = run id, no fork.
    const b = bRun(db, existing.id);
    const same = (b?.family ?? op.runId) === family && (b?.fork_project ?? null) === forkProject
      && (b?.fork_run_id ?? null) === (fp ? fp.parentRunId : null) && (b?.fork_step ?? null) === forkStep;
    // The original run keeps its creation time and experiment id (§3.9: resume re-sends CreateRun with now()).
    return {
      ok: 0, pointsStored: 0,
      issues: [same
        ? { path: '', code: IngestCode.RUN_DUPLICATE, message: `run '${op.runId}' already exists` }
        : { path: '', code: IngestCode.RUN_CONFLICTING, message: `run '${op.runId}' exists with a different family or fork point` }],
    };
  }
  const issues: Issue[] = [];
  if (fp) {
    const parentProject = findProject(db, forkProject as string);
    if (!parentProject || !runByRunId(db, parentProject.id, fp.parentRunId)) {
      // "Warning: Missing fork parent run." — the run is still created.
      issues.push({ path: '', code: IngestCode.RUN_FORK_PARENT_NOT_FOUND, message: `fork parent '${forkProject}/${fp.parentRunId}' not found` });
    }
  }
  const row = createExperiment(db, { projectIdentifier: projectId, customId: op.runId }, c.owner ?? user);
  // Back-dating is the point of creation_time (common.proto: "useful for getting consistent relative timestamps").
  putAttr(db, row.id, 'sys/creation_time', 'datetime', creationMs);
  // System attribute names and types: neptune-query@00fcb6b `src/neptune_query/internal/composition/type_inference.py`.
  putAttr(db, row.id, 'sys/family', 'string', family);
  if (c.experimentId !== undefined) {
    // experiment_id is unique per project: assigning it moves it from the previous holder (common.proto
    // Run.experiment_id, "exposed as sys/name"); the previous holder stops being the experiment's head.
    const previous = stmt(db, 'SELECT container_id FROM b_runs WHERE project_id = ? AND experiment_id = ?').all(projectId, c.experimentId) as Array<{ container_id: string }>;
    for (const p of previous) putAttr(db, p.container_id, 'sys/experiment/is_head', 'bool', false);
    stmt(db, 'UPDATE b_runs SET experiment_id = NULL WHERE project_id = ? AND experiment_id = ?').run(projectId, c.experimentId);
    putAttr(db, row.id, 'sys/name', 'string', c.experimentId);
    putAttr(db, row.id, 'sys/experiment/name', 'string', c.experimentId);
    putAttr(db, row.id, 'sys/experiment/is_head', 'bool', true);
  }
  if (c.tracker !== undefined) putAttr(db, row.id, 'sys/diagnostics/tracker_client', 'string', c.tracker);
  putAttr(db, row.id, 'sys/forking/depth', 'int', forkDepth(db, fp ? { project: forkProject as string, runId: fp.parentRunId } : undefined));
  putBRun(db, {
    container_id: row.id, project_id: projectId, run_id: op.runId, family, fork_project: forkProject,
    fork_run_id: fp ? fp.parentRunId : null, fork_step: forkStep, experiment_id: c.experimentId ?? null, creation_ms: creationMs,
  });
  return { ok: 1, issues, pointsStored: 0 };
}

/** `sys/forking/depth`: 0 for a run that is no fork, else its parent's depth + 1 (a missing parent counts as depth 0). */
function forkDepth(db: Db, parent: { project: string; runId: string } | undefined): number {
  if (!parent) return 0;
  const p = findProject(db, parent.project);
  const run = p ? runByRunId(db, p.id, parent.runId) : undefined;
  const depth = run ? getAttr(db, run.id, 'sys/forking/depth')?.value : undefined;
  return (depth ? Number(JSON.parse(depth)) : 0) + 1;
}

// ---------------------------------------------------------------------------------------------
// UpdateRunSnapshot(s) (§3.4)

const ATOM_TYPE: Partial<Record<Value['kind'], string>> = {
  float64: 'float', int64: 'int', bool: 'bool', string: 'string', timestamp: 'datetime', stringSet: 'stringSet', fileRef: 'fileRef',
};
const SERIES_TYPE: Partial<Record<Value['kind'], string>> = {
  float64: 'floatSeries', string: 'stringSeries', histogram: 'histogramSeries', fileRef: 'fileRefSeries',
};

interface SeriesFound { sid: number; last?: StoredPoint; previewStep?: number }

interface SeriesState {
  sid: number; type: string; last?: StoredPoint; created: boolean; previewStep?: number;
  /** Float points of this request, written as one chunk (chunks.ts). */
  buf?: ChunkBuilder;
}

class SnapshotApplier {
  private readonly out: Outcome = { ok: 0, issues: [], pointsStored: 0 };
  private readonly series = new Map<string, SeriesState>();
  private readonly rows: unknown[] = [];
  private readonly forkStep: number | null;
  private readonly types = new Map<string, string | null>();
  private pointsPerSeries = 0;

  constructor(private readonly db: Db, private readonly rules: IngestRules, private readonly cid: string, private readonly nowMs: number) {
    this.forkStep = bRun(db, cid)?.fork_step ?? null;
  }

  applyAll(snapshots: Snapshot[]): Outcome {
    // A series has at most one point per snapshot: its chunk builder is sized so (chunks.ts).
    this.pointsPerSeries = snapshots.length;
    for (const s of snapshots) this.snapshot(s);
    return this.finish();
  }

  /**
   * A batch of history rows (wire.ts FloatRows), column by column, when every point passes every rule
   * that store() applies — then the outcome is the one snapshot-by-snapshot application gives: each
   * point stored, no issue. Returns false, having written nothing, when some point would not pass
   * (or would need the implicit step): the caller applies the snapshots one by one instead.
   */
  applyRows(rows: FloatRows): boolean {
    const n = rows.count;
    // The rows' steps then timestamps, as the chunks of every column share them (chunks.ts RowSteps).
    const shared = new RowSteps(n, new Float64Array(2 * n));
    const steps = shared.data.subarray(0, n);
    const ts = shared.data.subarray(n);
    for (let i = 0; i < n; i++) {
      const whole = rows.stepWhole[i];
      const micro = rows.stepMicro[i];
      if (whole < 0 || stepProblemOf(whole, micro) !== undefined) return false;
      steps[i] = stepOf(whole, micro);
      ts[i] = Number.isNaN(rows.tsSeconds[i]) ? this.nowMs : msOf(rows.tsSeconds[i], rows.tsNanos[i]);
    }
    const found: Array<{ f: SeriesFound | undefined; existed: boolean }> = [];
    for (const c of rows.columns) {
      if (!this.isWritable(c.path)) return false;
      const type = this.typeOf(c.path.text);
      if (type !== null && type !== 'floatSeries') return false;
      const f = this.seriesFound(c.path.text, 'floatSeries');
      if (!this.passes(c, steps, ts, f?.last)) return false;
      found.push({ f, existed: type !== null });
    }
    this.pointsPerSeries = n;
    rows.columns.forEach((c, k) => {
      const st = this.seriesFrom(c.path.text, 'floatSeries', found[k].f, found[k].existed);
      st.buf!.addColumn(shared, c.rows, c.values, c.count);
      const i = c.rows[c.count - 1];
      const v = c.values[c.count - 1];
      // NaN is compared as SQLite keeps it: NULL (as store() keeps it).
      st.last = { step: steps[i], ts: ts[i], num: Number.isNaN(v) ? null : v, str: null };
      if (st.previewStep !== undefined && steps[i] >= st.previewStep) this.dropPreview(st);
      this.out.ok += c.count;
      this.out.pointsStored += c.count;
    });
    return true;
  }

  /**
   * Whether every point of a column passes store()'s rules: finite values unless the server accepts
   * NaN/±Inf (32), after the fork step (26), steps strictly increasing from the series' last (24, 25),
   * timestamps not decreasing (27).
   */
  private passes(c: FloatColumn, steps: Float64Array, ts: Float64Array, last: StoredPoint | undefined): boolean {
    const refuseNonFinite = this.rules.nanInf !== 'accept';
    const fork = this.forkStep ?? -Infinity;
    let prevStep = last ? last.step : -Infinity;
    let prevTs = last ? last.ts : -Infinity;
    for (let k = 0; k < c.count; k++) {
      const i = c.rows[k];
      const step = steps[i];
      const t = ts[i];
      if (refuseNonFinite && !Number.isFinite(c.values[k])) return false;
      if (step <= fork || step <= prevStep || t < prevTs) return false;
      prevStep = step;
      prevTs = t;
    }
    return true;
  }

  finish(): Outcome {
    this.flush();
    for (const [path, st] of this.series) {
      if (st.created || st.last) putAttr(this.db, this.cid, path, st.type, undefined, st.last?.step ?? null);
    }
    if (this.out.ok > 0) putAttr(this.db, this.cid, 'sys/modification_time', 'datetime', this.nowMs);
    return this.out;
  }

  /** Points are inserted in batches (see insertPoints); flushed before reading points back. */
  private flush(): void {
    insertPoints(this.db, sortedBySeries(this.rows));
    this.rows.length = 0;
    for (const st of this.series.values()) st.buf?.write(this.db, st.sid);
  }

  private issue(path: string, code: IngestCodeValue, message: string): void {
    this.out.issues.push({ path, code, message });
  }

  /** The type an attribute has (cached for the request), or null when it does not exist yet. */
  private typeOf(path: string): string | null {
    if (!this.types.has(path)) this.types.set(path, getAttr(this.db, this.cid, path)?.type ?? null);
    return this.types.get(path) ?? null;
  }

  /** FIELD_TYPE_CONFLICTING (21): "Once a field type is set, it cannot be changed." */
  private claimType(path: string, type: string): boolean {
    const t = this.typeOf(path);
    if (t !== null && t !== type) {
      this.issue(path, IngestCode.FIELD_TYPE_CONFLICTING, `'${path}' is a ${t}, not a ${type}`);
      return false;
    }
    this.types.set(path, type);
    return true;
  }

  private snapshot(s: Snapshot): void {
    for (const [p, v] of s.assign) this.assign(p, v);
    for (const [p, ops] of s.modifySets) this.modifySet(p, ops);
    // Packed float entries (wire.ts `floats`) are read as they are: `append` would unpack them.
    if (s.floats || s.append.length > 0) this.appendAll(s);
  }

  private floatProblem(path: string, x: number): boolean {
    if (Number.isFinite(x) || this.rules.nanInf === 'accept') return false;
    this.issue(path, IngestCode.FLOAT_VALUE_NAN_INF_UNSUPPORTED, `'${path}': ${x} is not supported by this server`);
    return true;
  }

  private assign(p: Path, v: Value): void {
    const bad = pathProblem(p, true);
    if (bad) return this.issue(bad.path, bad.code, bad.message);
    const path = p.text;
    const type = ATOM_TYPE[v.kind];
    if (!type) return this.issue(path, IngestCode.FIELD_TYPE_UNSUPPORTED, `'${path}': a ${v.kind} cannot be assigned`);
    let json: string;
    switch (v.kind) {
      case 'float64':
        if (this.floatProblem(path, v.v)) return;
        // JSON has no NaN/Infinity: kept as strings, as neptune's JSON DTOs spell them.
        json = Number.isFinite(v.v) ? JSON.stringify(v.v) : JSON.stringify(String(v.v));
        break;
      case 'int64': json = v.v.toString(); break;
      case 'bool': json = JSON.stringify(v.v); break;
      case 'string':
        if (v.bytes > LIMITS.stringBytes) return this.issue(path, IngestCode.STRING_VALUE_EXCEEDS_SIZE_LIMIT, `'${path}': string of ${v.bytes} bytes`);
        json = JSON.stringify(v.v);
        break;
      case 'timestamp': {
        const ms = timestampMs(v.v);
        if (ms < LIMITS.minDatetimeMs || ms > LIMITS.maxDatetimeMs) return this.issue(path, IngestCode.DATETIME_VALUE_OUT_OF_RANGE, `'${path}': datetime out of range`);
        json = JSON.stringify(ms);
        break;
      }
      case 'stringSet':
        if (v.bytes > LIMITS.stringSetBytes) return this.issue(path, IngestCode.STRING_SET_EXCEEDS_SIZE_LIMIT, `'${path}': string set of ${v.bytes} bytes`);
        if (!this.claimType(path, type)) return;
        putAttrJson(this.db, this.cid, path, type, null);
        stmt(this.db, 'DELETE FROM set_values WHERE container_id = ? AND path = ?').run(this.cid, path);
        for (const s of v.v) stmt(this.db, 'INSERT OR IGNORE INTO set_values(container_id, path, value) VALUES (?, ?, ?)').run(this.cid, path, s);
        this.out.ok += 1;
        return;
      case 'fileRef':
        if (v.bytes > LIMITS.fileRefBytes) return this.issue(path, IngestCode.FILE_REF_EXCEEDS_SIZE_LIMIT, `'${path}': file ref of ${v.bytes} bytes`);
        json = JSON.stringify(fileRefJson(v.v));
        break;
      default: return;
    }
    if (!this.claimType(path, type)) return;
    putAttrJson(this.db, this.cid, path, type, json);
    this.out.ok += 1;
  }

  private modifySet(p: Path, ops: Array<[string, SetOp]>): void {
    const bad = pathProblem(p, true);
    if (bad) return this.issue(bad.path, bad.code, bad.message);
    const path = p.text;
    if (!this.claimType(path, 'stringSet')) return;
    const add = stmt(this.db, 'INSERT OR IGNORE INTO set_values(container_id, path, value) VALUES (?, ?, ?)');
    const del = stmt(this.db, 'DELETE FROM set_values WHERE container_id = ? AND path = ? AND value = ?');
    const sizeOf = () => (stmt(this.db, 'SELECT COALESCE(SUM(LENGTH(CAST(value AS BLOB))), 0) AS n FROM set_values WHERE container_id = ? AND path = ?')
      .get(this.cid, path) as { n: number }).n;
    if (this.typeOf(path) === 'stringSet' && !getAttr(this.db, this.cid, path)) putAttrJson(this.db, this.cid, path, 'stringSet', null);
    for (const [value, op] of ops) {
      if (op === 1) add.run(this.cid, path, value);
      else if (op === 2) del.run(this.cid, path, value);
    }
    if (sizeOf() > LIMITS.stringSetBytes) {
      // Refused whole: undo this modification's additions.
      for (const [value, op] of ops) if (op === 1) del.run(this.cid, path, value);
      return this.issue(path, IngestCode.STRING_SET_EXCEEDS_SIZE_LIMIT, `'${path}': string set over ${LIMITS.stringSetBytes} bytes`);
    }
    this.out.ok += 1;
  }

  private seriesState(path: string, type: string): SeriesState | undefined {
    const st = this.series.get(path);
    if (st) return st.type === type ? st : (this.claimType(path, type), undefined);
    const existed = this.typeOf(path) !== null;
    if (!this.claimType(path, type)) return undefined;
    return this.seriesFrom(path, type, this.seriesAt(seriesId(this.db, this.cid, path), type), existed);
  }

  /** What the store holds of a series: its newest point and preview step (reads only). */
  private seriesAt(sid: number, type: string): SeriesFound {
    const pv = stmt(this.db, 'SELECT step FROM b_previews WHERE series_id = ?').get(sid) as { step: number } | undefined;
    const rowLast = lastPointWithTs(this.db, sid);
    const chunkLast = type === 'floatSeries' ? lastChunkPoint(this.db, sid) : undefined;
    const last = rowLast && chunkLast ? (chunkLast.step > rowLast.step ? chunkLast : rowLast) : rowLast ?? chunkLast;
    return { sid, last, previewStep: pv?.step };
  }

  /**
   * seriesState's reads without its writes (for applyRows, which may yet give up): the series' row
   * when there is one (seriesState finds the same), else nothing stored (seriesState makes the row).
   */
  private seriesFound(path: string, type: string): SeriesFound | undefined {
    const sid = existingSeriesId(this.db, this.cid, path);
    return sid === undefined ? undefined : this.seriesAt(sid, type);
  }

  /** The request's state of a series whose type is claimed (`found` undefined: its row is made now). */
  private seriesFrom(path: string, type: string, found: SeriesFound | undefined, existed: boolean): SeriesState {
    this.claimType(path, type);
    const sid = found?.sid ?? seriesId(this.db, this.cid, path);
    const st: SeriesState = {
      sid, type, last: found?.last, created: !existed, previewStep: found?.previewStep,
      ...(type === 'floatSeries' ? { buf: new ChunkBuilder(this.pointsPerSeries) } : {}),
    };
    this.series.set(path, st);
    return st;
  }

  /**
   * "In case the step is not set, it will select the successor of the highest last_step value among
   * metrics currently being updated" (pub/ingest.proto RunOperation.update) — 0 when none has points.
   */
  private implicitStep(s: Snapshot): number {
    let hi = -1;
    for (const p of appendPaths(s)) {
      const st = this.series.get(p.text);
      const last = st ? st.last?.step : (() => {
        const a = getAttr(this.db, this.cid, p.text);
        return a?.last_step ?? undefined;
      })();
      if (last !== undefined && last > hi) hi = last;
    }
    return hi < 0 ? 0 : Math.floor(hi) + 1;
  }

  private appendAll(s: Snapshot): void {
    let step: number;
    if (s.step) {
      const sp = stepProblem(s.step);
      if (sp !== undefined) {
        for (const p of appendPaths(s)) this.issue(p.text, sp, sp === IngestCode.SERIES_STEP_INVALID ? 'step micro must be < 1000000' : 'step must be < 1e12');
        return;
      }
      step = stepNumber(s.step);
    } else step = this.implicitStep(s);
    const ts = s.timestamp ? timestampMs(s.timestamp) : this.nowMs;
    const f = s.floats;
    if (f) for (let k = 0; k < f.paths.length; k++) this.appendFloat(f.paths[k], f.values[k], step, ts, s.preview);
    else for (const [p, v] of s.append) this.appendOne(p, v, step, ts, s.preview);
  }

  /** A float64 append entry: what appendOne does for `{kind: 'float64'}`, without the Value object. */
  private appendFloat(p: Path, v: number, step: number, ts: number, preview: Snapshot['preview']): void {
    if (!this.writablePath(p)) return;
    if (this.floatProblem(p.text, v)) return;
    this.store(p.text, 'floatSeries', v, null, step, ts, preview);
  }

  private writablePath(p: Path): boolean {
    if (this.isWritable(p)) return true;
    const bad = pathProblem(p, true) as Issue;
    this.issue(bad.path, bad.code, bad.message);
    return false;
  }

  private isWritable(p: Path): boolean {
    if (writable.has(p)) return true;
    if (pathProblem(p, true)) return false;
    writable.add(p);
    return true;
  }

  private appendOne(p: Path, v: Value, step: number, ts: number, preview: Snapshot['preview']): void {
    if (!this.writablePath(p)) return;
    const path = p.text;
    const type = SERIES_TYPE[v.kind];
    if (!type) return this.issue(path, IngestCode.FIELD_TYPE_UNSUPPORTED, `'${path}': a ${v.kind} cannot be appended to a series`);
    let num: number | null = null;
    let str: string | null = null;
    switch (v.kind) {
      case 'float64':
        if (this.floatProblem(path, v.v)) return;
        num = v.v;
        break;
      case 'string':
        if (v.bytes > LIMITS.stringBytes) return this.issue(path, IngestCode.STRING_VALUE_EXCEEDS_SIZE_LIMIT, `'${path}': point of ${v.bytes} bytes`);
        str = v.v;
        break;
      case 'histogram': {
        const h = v.v;
        const values = h.counts ?? h.densities ?? [];
        if (h.edges.some(Number.isNaN)) return this.issue(path, IngestCode.HISTOGRAM_BIN_EDGES_CONTAINS_NAN, `'${path}': NaN bin edge`);
        if (h.edges.length > LIMITS.histogramEdges) return this.issue(path, IngestCode.HISTOGRAM_TOO_MANY_BINS, `'${path}': ${h.edges.length - 1} bins, more than 512`);
        if (h.edges.some((e, i) => i > 0 && !(e > h.edges[i - 1]))) return this.issue(path, IngestCode.HISTOGRAM_BIN_EDGES_NOT_INCREASING, `'${path}': bin edges do not increase`);
        if (values.length !== h.edges.length - 1) {
          return this.issue(path, IngestCode.HISTOGRAM_VALUES_LENGTH_DOESNT_MATCH_BINS, `'${path}': ${values.length} values for ${h.edges.length} edges`);
        }
        str = JSON.stringify({ type: h.counts ? 'COUNTS' : 'DENSITIES', edges: h.edges, values });
        break;
      }
      case 'fileRef':
        if (v.bytes > LIMITS.fileRefBytes) return this.issue(path, IngestCode.FILE_REF_EXCEEDS_SIZE_LIMIT, `'${path}': file ref of ${v.bytes} bytes`);
        str = JSON.stringify(fileRefJson(v.v));
        break;
      default: return;
    }
    this.store(path, type, num, str, step, ts, preview);
  }

  /** A point whose value passed its type's checks: the series' rules (§3.4, §3.8), then stored. */
  private store(path: string, type: string, num: number | null, str: string | null, step: number, ts: number, preview: Snapshot['preview']): void {
    const st = this.seriesState(path, type);
    if (!st) return;
    if (this.forkStep !== null && step <= this.forkStep) {
      return this.issue(path, IngestCode.SERIES_STEP_NOT_AFTER_FORK_POINT, `'${path}': step ${step} is not after the fork step ${this.forkStep}`);
    }
    if (preview?.isPreview) return this.previewPoint(st, path, step, ts, num, preview.completionRatio);
    const last = st.last;
    if (last) {
      if (step === last.step) {
        // SERIES_POINT_DUPLICATE: "The exact same data point was already logged" — a warning, not stored twice.
        if (sameValue(last, num, str)) return this.issue(path, IngestCode.SERIES_POINT_DUPLICATE, `'${path}': step ${step} already holds this value`);
        return this.issue(path, IngestCode.SERIES_STEP_NON_INCREASING, `'${path}': step ${step} already holds a different value`);
      }
      if (step < last.step) {
        // A re-sent old point (resume after a crash) is still "the exact same data point": a duplicate (§3.4).
        this.flush();
        const old = pointAt(this.db, st.sid, step) ?? (st.type === 'floatSeries' ? chunkPointAt(this.db, st.sid, step) : undefined);
        if (old && sameValue(old, num, str)) return this.issue(path, IngestCode.SERIES_POINT_DUPLICATE, `'${path}': step ${step} already holds this value`);
        return this.issue(path, IngestCode.SERIES_STEP_NON_INCREASING, `'${path}': step ${step} is lower than the last step ${last.step}`);
      }
      if (ts < last.ts) return this.issue(path, IngestCode.SERIES_TIMESTAMP_DECREASING, `'${path}': timestamp goes back in time`);
    }
    if (st.buf) st.buf.add(step, ts, num ?? NaN);
    else this.rows.push(st.sid, step, ts, num, str);
    // NaN is compared as SQLite keeps it: NULL.
    const keep = num !== null && Number.isNaN(num) ? null : num;
    if (st.last) { st.last.step = step; st.last.ts = ts; st.last.num = keep; st.last.str = str; } else st.last = { step, ts, num: keep, str };
    if (st.previewStep !== undefined && step >= st.previewStep) this.dropPreview(st);
    this.out.ok += 1;
    this.out.pointsStored += 1;
  }

  /** A committed point at or after a preview's step replaces that preview. */
  private dropPreview(st: SeriesState): void {
    stmt(this.db, 'DELETE FROM b_previews WHERE series_id = ?').run(st.sid);
    st.previewStep = undefined;
  }

  /** Preview (not yet committed) point: only the newest is kept, after the last committed step (code 42). */
  private previewPoint(st: SeriesState, path: string, step: number, ts: number, num: number | null, ratio: number): void {
    if (st.type !== 'floatSeries') return this.issue(path, IngestCode.FIELD_TYPE_UNSUPPORTED, `'${path}': previews exist for float series only`);
    if (st.last && step <= st.last.step) {
      return this.issue(path, IngestCode.SERIES_PREVIEW_STEP_NOT_AFTER_LAST_COMMITTED_STEP, `'${path}': preview step ${step} is not after ${st.last.step}`);
    }
    stmt(this.db, `INSERT INTO b_previews(series_id, step, ts, num, ratio) VALUES (?, ?, ?, ?, ?)
      ON CONFLICT(series_id) DO UPDATE SET step = excluded.step, ts = excluded.ts, num = excluded.num, ratio = excluded.ratio`)
      .run(st.sid, step, ts, num, ratio);
    st.previewStep = step;
    this.out.ok += 1;
  }
}

/**
 * Flat (series_id, step, ts, num, str) rows reordered by series then step: a snapshot interleaves
 * every metric, and inserting into the (series_id, step) B-tree in key order is several times faster.
 */
function sortedBySeries(rows: unknown[]): unknown[] {
  const n = rows.length / 5;
  if (n < 2) return rows;
  const order = Array.from({ length: n }, (_, i) => i);
  order.sort((a, b) => ((rows[a * 5] as number) - (rows[b * 5] as number)) || ((rows[a * 5 + 1] as number) - (rows[b * 5 + 1] as number)));
  const out = new Array<unknown>(rows.length);
  order.forEach((from, to) => {
    for (let k = 0; k < 5; k++) out[to * 5 + k] = rows[from * 5 + k];
  });
  return out;
}

/** The paths of a snapshot's append entries, packed or not. */
function appendPaths(s: Snapshot): Path[] {
  return s.floats ? s.floats.paths : s.append.map(([p]) => p);
}

function sameValue(last: StoredPoint, num: number | null, str: string | null): boolean {
  if (str !== null) return last.str === str;
  // SQLite stores NaN as NULL.
  if (num === null || Number.isNaN(num)) return last.num === null;
  return last.num === num;
}

function fileRefJson(f: FileRef): FileRef {
  return { path: f.path, sizeBytes: f.sizeBytes, mimeType: f.mimeType };
}

