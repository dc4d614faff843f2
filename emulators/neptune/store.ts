/**
 * SQLite state of the emulator. Everything a test might want to read back lives here, so a
 * server restarted on the same file sees exactly what the previous one accepted.
 */
import Database from 'better-sqlite3';
import { randomBytes, randomUUID } from 'node:crypto';

export type Db = Database.Database;

export interface WorkspaceRow { id: string; name: string; created_ms: number }
export interface ProjectRow {
  id: string; workspace_id: string; name: string; key: string; visibility: string;
  description: string | null; created_ms: number; run_counter: number;
}
export interface ContainerRow {
  id: string; project_id: string; type: string; short_id: string; custom_id: string | null;
  created_ms: number; ping_ms: number | null;
}
export interface AttrRow { container_id: string; path: string; type: string; value: string | null; last_step: number | null }

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta(k TEXT PRIMARY KEY, v TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS workspaces(id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, created_ms INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS projects(
  id TEXT PRIMARY KEY, workspace_id TEXT NOT NULL, name TEXT NOT NULL COLLATE NOCASE, key TEXT NOT NULL,
  visibility TEXT NOT NULL, description TEXT, created_ms INTEGER NOT NULL, run_counter INTEGER NOT NULL DEFAULT 0,
  UNIQUE(workspace_id, name), UNIQUE(workspace_id, key));
CREATE TABLE IF NOT EXISTS containers(
  id TEXT PRIMARY KEY, project_id TEXT NOT NULL, type TEXT NOT NULL, short_id TEXT NOT NULL,
  custom_id TEXT, created_ms INTEGER NOT NULL, ping_ms INTEGER);
CREATE UNIQUE INDEX IF NOT EXISTS containers_custom ON containers(project_id, custom_id) WHERE custom_id IS NOT NULL;
CREATE TABLE IF NOT EXISTS attrs(
  container_id TEXT NOT NULL, path TEXT NOT NULL, type TEXT NOT NULL, value TEXT, last_step REAL,
  PRIMARY KEY(container_id, path));
-- Series points are keyed by a small integer series id rather than (container uuid, path): the
-- narrow key keeps the B-tree compact and inserts cheap (millions of points per run).
CREATE TABLE IF NOT EXISTS series(
  id INTEGER PRIMARY KEY, container_id TEXT NOT NULL, path TEXT NOT NULL, UNIQUE(container_id, path));
CREATE TABLE IF NOT EXISTS series_points(
  series_id INTEGER NOT NULL, step REAL NOT NULL, ts INTEGER NOT NULL, num REAL, str TEXT,
  PRIMARY KEY(series_id, step)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS set_values(container_id TEXT NOT NULL, path TEXT NOT NULL, value TEXT NOT NULL);
CREATE UNIQUE INDEX IF NOT EXISTS set_values_u ON set_values(container_id, path, value);
CREATE TABLE IF NOT EXISTS blobs(
  container_id TEXT NOT NULL, path TEXT NOT NULL, sub_path TEXT NOT NULL, data BLOB NOT NULL, mtime_ms INTEGER NOT NULL,
  PRIMARY KEY(container_id, path, sub_path));
CREATE TABLE IF NOT EXISTS uploads(
  id TEXT PRIMARY KEY, container_id TEXT NOT NULL, path TEXT NOT NULL, kind TEXT NOT NULL, ext TEXT, sub_path TEXT,
  total INTEGER NOT NULL, created_ms INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS upload_parts(upload_id TEXT NOT NULL, idx INTEGER NOT NULL, start INTEGER NOT NULL, data BLOB NOT NULL,
  PRIMARY KEY(upload_id, idx));
`;

const cache = new WeakMap<Db, Map<string, Database.Statement>>();
/** Prepared statements are cached per connection: preparing dominates small queries otherwise. */
export function stmt(db: Db, sql: string): Database.Statement {
  let m = cache.get(db);
  if (!m) { m = new Map(); cache.set(db, m); }
  let st = m.get(sql);
  if (!st) { st = db.prepare(sql); m.set(sql, st); }
  return st;
}

export function openDb(storage: string): Db {
  const db = new Database(storage === ':memory:' ? ':memory:' : storage);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec(SCHEMA);
  return db;
}

export function getMeta(db: Db, k: string): string | undefined {
  const row = stmt(db, 'SELECT v FROM meta WHERE k = ?').get(k) as { v: string } | undefined;
  return row?.v;
}

export function setMeta(db: Db, k: string, v: string): void {
  stmt(db, 'INSERT INTO meta(k, v) VALUES (?, ?) ON CONFLICT(k) DO UPDATE SET v = excluded.v').run(k, v);
}

/** A value kept across restarts (e.g. the JWT signing secret); created on first use. */
export function metaOrCreate(db: Db, k: string, make: () => string): string {
  const existing = getMeta(db, k);
  if (existing !== undefined) return existing;
  const v = make();
  setMeta(db, k, v);
  return v;
}

export function randomSecret(): string {
  return randomBytes(32).toString('hex');
}

export function ensureWorkspace(db: Db, name: string): WorkspaceRow {
  const found = stmt(db, 'SELECT * FROM workspaces WHERE name = ?').get(name) as WorkspaceRow | undefined;
  if (found) return found;
  const row: WorkspaceRow = { id: randomUUID(), name, created_ms: Date.now() };
  stmt(db, 'INSERT INTO workspaces(id, name, created_ms) VALUES (@id, @name, @created_ms)').run(row);
  return row;
}

export function listWorkspaces(db: Db): WorkspaceRow[] {
  return stmt(db, 'SELECT * FROM workspaces ORDER BY created_ms, name').all() as WorkspaceRow[];
}

/** A workspace by name or by id (the API accepts both as "organizationIdentifier"). */
export function findWorkspace(db: Db, ident: string): WorkspaceRow | undefined {
  return stmt(db, 'SELECT * FROM workspaces WHERE name = ? OR id = ?').get(ident, ident) as WorkspaceRow | undefined;
}

export function listProjects(db: Db): Array<ProjectRow & { workspace: string }> {
  return stmt(db, 
    'SELECT p.*, w.name AS workspace FROM projects p JOIN workspaces w ON w.id = p.workspace_id ORDER BY p.created_ms, p.name',
  ).all() as Array<ProjectRow & { workspace: string }>;
}

/** A project by uuid or by `workspace/name` (case-insensitive name, like the API). */
export function findProject(db: Db, ident: string): (ProjectRow & { workspace: string }) | undefined {
  const byId = stmt(db, 
    'SELECT p.*, w.name AS workspace FROM projects p JOIN workspaces w ON w.id = p.workspace_id WHERE p.id = ?',
  ).get(ident) as (ProjectRow & { workspace: string }) | undefined;
  if (byId) return byId;
  const slash = ident.indexOf('/');
  if (slash <= 0) return undefined;
  const ws = ident.slice(0, slash);
  const name = ident.slice(slash + 1);
  return stmt(db, 
    'SELECT p.*, w.name AS workspace FROM projects p JOIN workspaces w ON w.id = p.workspace_id WHERE w.name = ? AND p.name = ?',
  ).get(ws, name) as (ProjectRow & { workspace: string }) | undefined;
}

export function findContainer(db: Db, id: string): ContainerRow | undefined {
  return stmt(db, 'SELECT * FROM containers WHERE id = ?').get(id) as ContainerRow | undefined;
}

/** A container by uuid or by `workspace/project/SHORT-ID`. */
export function resolveContainer(db: Db, ident: string): ContainerRow | undefined {
  const direct = findContainer(db, ident);
  if (direct) return direct;
  const parts = ident.split('/');
  if (parts.length !== 3) return undefined;
  const project = findProject(db, `${parts[0]}/${parts[1]}`);
  if (!project) return undefined;
  return stmt(db, 'SELECT * FROM containers WHERE project_id = ? AND short_id = ?').get(project.id, parts[2]) as
    | ContainerRow
    | undefined;
}

export function getAttr(db: Db, containerId: string, path: string): AttrRow | undefined {
  return stmt(db, 'SELECT * FROM attrs WHERE container_id = ? AND path = ?').get(containerId, path) as AttrRow | undefined;
}

export function listAttrs(db: Db, containerId: string): AttrRow[] {
  return stmt(db, 'SELECT * FROM attrs WHERE container_id = ? ORDER BY path').all(containerId) as AttrRow[];
}

export function countAttrs(db: Db, containerId: string): number {
  return (stmt(db, 'SELECT COUNT(*) AS n FROM attrs WHERE container_id = ?').get(containerId) as { n: number }).n;
}

export function putAttr(db: Db, containerId: string, path: string, type: string, value: unknown, lastStep: number | null = null): void {
  stmt(db, 
    `INSERT INTO attrs(container_id, path, type, value, last_step) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT(container_id, path) DO UPDATE SET type = excluded.type, value = excluded.value, last_step = excluded.last_step`,
  ).run(containerId, path, type, value === undefined ? null : JSON.stringify(value), lastStep);
}

/** Removes an attribute and everything stored under it (points, set values, blobs). */
export function deleteAttr(db: Db, containerId: string, path: string): void {
  clearSeries(db, containerId, path);
  stmt(db, 'DELETE FROM series WHERE container_id = ? AND path = ?').run(containerId, path);
  for (const t of ['attrs', 'set_values', 'blobs']) {
    stmt(db, `DELETE FROM ${t} WHERE container_id = ? AND path = ?`).run(containerId, path);
  }
}

const SID = '(SELECT id FROM series WHERE container_id = ? AND path = ?)';

/** The integer id of a series (container, path), created on first use. */
export function seriesId(db: Db, containerId: string, path: string): number {
  const found = stmt(db, 'SELECT id FROM series WHERE container_id = ? AND path = ?').get(containerId, path) as { id: number } | undefined;
  if (found) return found.id;
  return Number(stmt(db, 'INSERT INTO series(container_id, path) VALUES (?, ?)').run(containerId, path).lastInsertRowid);
}

/** Removes every point of a series (the series id stays: the attribute still exists). */
export function clearSeries(db: Db, containerId: string, path: string): void {
  stmt(db, `DELETE FROM series_points WHERE series_id = ${SID}`).run(containerId, path);
}

/**
 * Inserts points given as flat rows of (series_id, step, ts, num, str). Several rows per statement:
 * the per-call cost of a prepared statement dominates single-row inserts.
 */
export function insertPoints(db: Db, flat: unknown[]): void {
  const rows = flat.length / 5;
  let at = 0;
  for (; rows - at / 5 >= POINTS_PER_INSERT; at += POINTS_PER_INSERT * 5) {
    insertStmt(db, POINTS_PER_INSERT).run(flat.slice(at, at + POINTS_PER_INSERT * 5));
  }
  const rest = rows - at / 5;
  if (rest > 0) insertStmt(db, rest).run(at === 0 ? flat : flat.slice(at));
}

const POINTS_PER_INSERT = 100;
function insertStmt(db: Db, rows: number): Database.Statement {
  return stmt(db, `INSERT INTO series_points(series_id, step, ts, num, str) VALUES ${Array(rows).fill('(?, ?, ?, ?, ?)').join(', ')}`);
}

export function seriesPoints(db: Db, containerId: string, path: string): Array<{ step: number; ts: number; num: number | null; str: string | null }> {
  return stmt(db, `SELECT step, ts, num, str FROM series_points WHERE series_id = ${SID} ORDER BY step`).all(containerId, path) as Array<{
    step: number; ts: number; num: number | null; str: string | null;
  }>;
}

/** One page of a series, ascending by step, from `fromStep` on. */
export function seriesPage(db: Db, containerId: string, path: string, fromStep: number, limit: number, offset: number): Array<{ step: number; ts: number; num: number | null; str: string | null }> {
  return stmt(db, `SELECT step, ts, num, str FROM series_points WHERE series_id = ${SID} AND step >= ? ORDER BY step LIMIT ? OFFSET ?`)
    .all(containerId, path, fromStep, limit, offset) as Array<{ step: number; ts: number; num: number | null; str: string | null }>;
}

export function seriesStats(db: Db, containerId: string, path: string): { mn: number | null; mx: number | null; av: number | null; sq: number | null; n: number } {
  return stmt(db, `SELECT MIN(num) AS mn, MAX(num) AS mx, AVG(num) AS av, AVG(num * num) AS sq, COUNT(*) AS n FROM series_points WHERE series_id = ${SID}`)
    .get(containerId, path) as { mn: number | null; mx: number | null; av: number | null; sq: number | null; n: number };
}

export function lastPoint(db: Db, containerId: string, path: string): { step: number; num: number | null; str: string | null } | undefined {
  return stmt(db, `SELECT step, num, str FROM series_points WHERE series_id = ${SID} ORDER BY step DESC LIMIT 1`).get(containerId, path) as
    | { step: number; num: number | null; str: string | null }
    | undefined;
}

export function setValues(db: Db, containerId: string, path: string): string[] {
  return (stmt(db, 'SELECT value FROM set_values WHERE container_id = ? AND path = ? ORDER BY rowid').all(containerId, path) as Array<{ value: string }>).map(
    (r) => r.value,
  );
}

export function blobEntries(db: Db, containerId: string, path: string): Array<{ sub_path: string; data: Buffer; mtime_ms: number }> {
  return stmt(db, 'SELECT sub_path, data, mtime_ms FROM blobs WHERE container_id = ? AND path = ? ORDER BY sub_path').all(containerId, path) as Array<{
    sub_path: string; data: Buffer; mtime_ms: number;
  }>;
}

export function putBlob(db: Db, containerId: string, path: string, subPath: string, data: Buffer): void {
  stmt(db, 
    `INSERT INTO blobs(container_id, path, sub_path, data, mtime_ms) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT(container_id, path, sub_path) DO UPDATE SET data = excluded.data, mtime_ms = excluded.mtime_ms`,
  ).run(containerId, path, subPath, data, Date.now());
}

/** Removes a project with every container, field, point, file and pending upload in it. */
export function deleteProjectCascade(db: Db, projectId: string): void {
  db.transaction(() => {
    const ids = (stmt(db, 'SELECT id FROM containers WHERE project_id = ?').all(projectId) as Array<{ id: string }>).map((r) => r.id);
    for (const id of ids) {
      stmt(db, 'DELETE FROM series_points WHERE series_id IN (SELECT id FROM series WHERE container_id = ?)').run(id);
      for (const t of ['series', 'attrs', 'set_values', 'blobs']) stmt(db, `DELETE FROM ${t} WHERE container_id = ?`).run(id);
      stmt(db, 'DELETE FROM upload_parts WHERE upload_id IN (SELECT id FROM uploads WHERE container_id = ?)').run(id);
      stmt(db, 'DELETE FROM uploads WHERE container_id = ?').run(id);
    }
    stmt(db, 'DELETE FROM containers WHERE project_id = ?').run(projectId);
    stmt(db, 'DELETE FROM projects WHERE id = ?').run(projectId);
  })();
}
