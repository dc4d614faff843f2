/**
 * Protocol B's own tables, beside Protocol A's (emulators/neptune/store.ts). Runs, attributes, series
 * points and string sets live in A's tables so that one store serves both protocols (a 3.x server
 * still answers A's read endpoints: neptune-query@00fcb6b `.../swagger/retrieval.json` keeps
 * `GET /api/leaderboard/v1/attributes`, `.../attributes/series/float`, `.../series/string`).
 * What only B has lives here: CreateRun parameters, request queue and statuses, storage objects.
 */
import type { Db } from '../neptune/store.ts';
import { stmt } from '../neptune/store.ts';
import { openChunks } from './chunks.ts';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS b_runs(
  container_id TEXT PRIMARY KEY, project_id TEXT NOT NULL, run_id TEXT NOT NULL, family TEXT NOT NULL,
  fork_project TEXT, fork_run_id TEXT, fork_step REAL, experiment_id TEXT, creation_ms INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS b_requests(
  seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, project TEXT NOT NULL, username TEXT NOT NULL,
  received_ms INTEGER NOT NULL, body BLOB, status TEXT);
CREATE TABLE IF NOT EXISTS b_request_details(request_id TEXT NOT NULL, path TEXT NOT NULL, code INTEGER NOT NULL, message TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS b_request_details_id ON b_request_details(request_id);
CREATE TABLE IF NOT EXISTS b_objects(
  project TEXT NOT NULL, path TEXT NOT NULL, data BLOB NOT NULL, mime TEXT NOT NULL, etag TEXT NOT NULL, mtime_ms INTEGER NOT NULL,
  PRIMARY KEY(project, path));
CREATE TABLE IF NOT EXISTS b_uploads(
  id TEXT PRIMARY KEY, kind TEXT NOT NULL, project TEXT NOT NULL, path TEXT NOT NULL, mime TEXT NOT NULL,
  part_size INTEGER NOT NULL, total INTEGER, received INTEGER NOT NULL DEFAULT 0, created_ms INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS b_upload_parts(upload_id TEXT NOT NULL, part INTEGER NOT NULL, data BLOB NOT NULL, etag TEXT NOT NULL,
  PRIMARY KEY(upload_id, part));
CREATE TABLE IF NOT EXISTS b_previews(series_id INTEGER PRIMARY KEY, step REAL NOT NULL, ts INTEGER NOT NULL, num REAL, ratio REAL NOT NULL);
`;

export function openBTables(db: Db): void {
  db.exec(SCHEMA);
  openChunks(db);
}

export interface BRunRow {
  container_id: string; project_id: string; run_id: string; family: string; fork_project: string | null;
  fork_run_id: string | null; fork_step: number | null; experiment_id: string | null; creation_ms: number;
}

export function bRun(db: Db, containerId: string): BRunRow | undefined {
  return stmt(db, 'SELECT * FROM b_runs WHERE container_id = ?').get(containerId) as BRunRow | undefined;
}

export function putBRun(db: Db, r: BRunRow): void {
  stmt(db, `INSERT INTO b_runs(container_id, project_id, run_id, family, fork_project, fork_run_id, fork_step, experiment_id, creation_ms)
    VALUES (@container_id, @project_id, @run_id, @family, @fork_project, @fork_run_id, @fork_step, @experiment_id, @creation_ms)`).run(r);
}

/** A run by project uuid and B run id (= A's customId, `sys/custom_run_id`, §3.3). */
export function runByRunId(db: Db, projectId: string, runId: string): { id: string } | undefined {
  return stmt(db, "SELECT id FROM containers WHERE project_id = ? AND custom_id = ? AND type = 'run'").get(projectId, runId) as { id: string } | undefined;
}

export interface StoredPoint { step: number; ts: number; num: number | null; str: string | null }

export function lastPointWithTs(db: Db, seriesId: number): StoredPoint | undefined {
  return stmt(db, 'SELECT step, ts, num, str FROM series_points WHERE series_id = ? ORDER BY step DESC LIMIT 1').get(seriesId) as StoredPoint | undefined;
}

/** A series' id when it has a row (neptune/store.ts `seriesId` makes one when not). */
export function existingSeriesId(db: Db, containerId: string, path: string): number | undefined {
  return (stmt(db, 'SELECT id FROM series WHERE container_id = ? AND path = ?').get(containerId, path) as { id: number } | undefined)?.id;
}

export function pointAt(db: Db, seriesId: number, step: number): StoredPoint | undefined {
  return stmt(db, 'SELECT step, ts, num, str FROM series_points WHERE series_id = ? AND step = ?').get(seriesId, step) as StoredPoint | undefined;
}

/** Writes an attribute whose value is already JSON text (int64 digits must not pass through a JS number). */
export function putAttrJson(db: Db, containerId: string, path: string, type: string, json: string | null, lastStep: number | null = null): void {
  stmt(db, `INSERT INTO attrs(container_id, path, type, value, last_step) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT(container_id, path) DO UPDATE SET type = excluded.type, value = excluded.value, last_step = excluded.last_step`)
    .run(containerId, path, type, json, lastStep);
}

export function objectRow(db: Db, project: string, path: string): { data: Buffer; mime: string; etag: string } | undefined {
  return stmt(db, 'SELECT data, mime, etag FROM b_objects WHERE project = ? AND path = ?').get(project, path) as
    | { data: Buffer; mime: string; etag: string } | undefined;
}

export function putObject(db: Db, project: string, path: string, data: Buffer, mime: string, etag: string): void {
  stmt(db, `INSERT INTO b_objects(project, path, data, mime, etag, mtime_ms) VALUES (?, ?, ?, ?, ?, ?)
    ON CONFLICT(project, path) DO UPDATE SET data = excluded.data, mime = excluded.mime, etag = excluded.etag, mtime_ms = excluded.mtime_ms`)
    .run(project, path, data, mime, etag, Date.now());
}
