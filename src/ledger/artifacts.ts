/**
 * The ledger's memory of artifact versions: which run copied a version, and which of its files the
 * target acknowledged. A version is copied once, by the run that logged it; a kill mid-version resumes
 * with the files not yet acknowledged. Its tables are created as the ledger creates its own
 * (`CREATE TABLE IF NOT EXISTS`, schema.ts), in the same SQLite file, so one commit covers both.
 */
import type Database from 'better-sqlite3';
import type { RunKey } from '../core/records.ts';
import type { FieldAssignment, Omission } from '../core/target.ts';
import { runKeyString, type Ledger, type Progress } from './ledger.ts';

export const ARTIFACT_LEDGER_SCHEMA = `
CREATE TABLE IF NOT EXISTS artifact_versions (
  artifact TEXT PRIMARY KEY,           -- entity/project/name:version (ArtifactVersion.key)
  digest TEXT NOT NULL,                -- the version's digest when its copy began
  run_key TEXT NOT NULL,               -- the run whose Neptune run holds the copy
  status TEXT NOT NULL,                -- copying | done
  updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS artifact_files (
  artifact TEXT NOT NULL, path TEXT NOT NULL, digest TEXT NOT NULL, size INTEGER NOT NULL,
  PRIMARY KEY (artifact, path)
);
-- Files (and manifests) the source said are gone: settled with their report line, never asked for again.
CREATE TABLE IF NOT EXISTS artifact_gone (
  artifact TEXT NOT NULL, path TEXT NOT NULL, digest TEXT NOT NULL,
  PRIMARY KEY (artifact, path)
);
CREATE TABLE IF NOT EXISTS artifact_fields (
  run_key TEXT NOT NULL, path TEXT NOT NULL, value TEXT NOT NULL,   -- the value the target acknowledged, as JSON
  PRIMARY KEY (run_key, path)
);
`;

export interface ArtifactVersionRow {
  digest: string;
  runKey: string;
  status: 'copying' | 'done';
}

export class ArtifactLedger {
  private readonly db: Database.Database;

  constructor(private readonly ledger: Ledger) {
    this.db = ledger.database;
    this.db.exec(ARTIFACT_LEDGER_SCHEMA);
  }

  version(artifact: string): ArtifactVersionRow | undefined {
    const row = this.db.prepare('SELECT digest, run_key, status FROM artifact_versions WHERE artifact = ?').get(artifact) as
      | { digest: string; run_key: string; status: 'copying' | 'done' }
      | undefined;
    return row && { digest: row.digest, runKey: row.run_key, status: row.status };
  }

  /** The run that holds a version's copy, as the ledger knows it (verify reads it: the copy is checked where it is). */
  holder(artifact: string): (ArtifactVersionRow & { run: RunKey; targetProject?: string; targetRun?: string }) | undefined {
    const row = this.db
      .prepare(
        `SELECT v.digest, v.run_key, v.status, r.entity, r.project, r.run_id, r.target_project, r.target_run
         FROM artifact_versions v JOIN runs r ON r.run_key = v.run_key WHERE v.artifact = ?`,
      )
      .get(artifact) as
      | { digest: string; run_key: string; status: 'copying' | 'done'; entity: string; project: string; run_id: string; target_project: string | null; target_run: string | null }
      | undefined;
    if (!row) return undefined;
    return {
      digest: row.digest, runKey: row.run_key, status: row.status, run: { entity: row.entity, project: row.project, runId: row.run_id },
      ...(row.target_project !== null ? { targetProject: row.target_project } : {}), ...(row.target_run !== null ? { targetRun: row.target_run } : {}),
    };
  }

  /**
   * Starts (or resumes) the copy of a version into `run`. A version whose digest changed since (W&B
   * versions are immutable, so only a different source could do it) starts afresh.
   */
  begin(artifact: string, digest: string, run: RunKey): void {
    const k = runKeyString(run);
    const now = new Date().toISOString();
    this.db.transaction(() => {
      const before = this.version(artifact);
      if (before && before.digest !== digest) {
        this.db.prepare('DELETE FROM artifact_files WHERE artifact = ?').run(artifact);
        this.db.prepare('DELETE FROM artifact_gone WHERE artifact = ?').run(artifact);
      }
      this.db
        .prepare(
          `INSERT INTO artifact_versions(artifact, digest, run_key, status, updated_at) VALUES (?, ?, ?, 'copying', ?)
           ON CONFLICT(artifact) DO UPDATE SET digest = excluded.digest, run_key = excluded.run_key,
             status = CASE WHEN artifact_versions.digest = excluded.digest THEN artifact_versions.status ELSE 'copying' END, updated_at = excluded.updated_at`,
        )
        .run(artifact, digest, k, now);
    })();
  }

  /** Entry path → digest of the files the target acknowledged. */
  copiedFiles(artifact: string): Map<string, string> {
    const rows = this.db.prepare('SELECT path, digest FROM artifact_files WHERE artifact = ?').all(artifact) as Array<{ path: string; digest: string }>;
    return new Map(rows.map((r) => [r.path, r.digest]));
  }

  /** Entry path → digest of the files the source said are gone (`recordGone`). */
  goneFiles(artifact: string): Map<string, string> {
    const rows = this.db.prepare('SELECT path, digest FROM artifact_gone WHERE artifact = ?').all(artifact) as Array<{ path: string; digest: string }>;
    return new Map(rows.map((r) => [r.path, r.digest]));
  }

  /**
   * A file the source says is gone (HTTP 404/410, no longer on disk): its report line, and the file
   * settled, in one transaction. A version is immutable and its blob addressed by its digest, so a
   * later pass would meet the same answer: it is not asked for again, and the version can be done.
   */
  recordGone(artifact: string, run: RunKey, entry: { path: string; digest: string }, line: Omission): void {
    this.db.transaction(() => {
      this.db
        .prepare('INSERT INTO artifact_gone(artifact, path, digest) VALUES (?, ?, ?) ON CONFLICT(artifact, path) DO UPDATE SET digest = excluded.digest')
        .run(artifact, entry.path, entry.digest);
      this.recordFiles(artifact, run, [], { omissions: [line] });
    })();
  }

  /**
   * Files the target acknowledged, with the run's counts and report lines, in one transaction. A report
   * line replaces what an earlier pass said of the same subject (a file that failed again is one line,
   * not two), and `landed` (report subjects of files that land now) clears what was said of them.
   * (The ledger's `omissions` table, scope `files`: ledger.ts.)
   */
  recordFiles(artifact: string, run: RunKey, files: ReadonlyArray<{ path: string; digest: string; size: number }>, progress: Progress, landed: readonly string[] = []): void {
    const k = runKeyString(run);
    this.db.transaction(() => {
      const forget = this.db.prepare(`DELETE FROM omissions WHERE run_key = ? AND scope = 'files' AND subject = ?`);
      for (const subject of [...landed, ...(progress.omissions ?? []).map((o) => o.subject)]) forget.run(k, subject);
      const put = this.db.prepare(
        'INSERT INTO artifact_files(artifact, path, digest, size) VALUES (?, ?, ?, ?) ON CONFLICT(artifact, path) DO UPDATE SET digest = excluded.digest, size = excluded.size',
      );
      for (const f of files) put.run(artifact, f.path, f.digest, f.size);
      this.ledger.commit(run, 'files', progress);
    })();
  }

  finish(artifact: string): void {
    this.db.prepare(`UPDATE artifact_versions SET status = 'done', updated_at = ? WHERE artifact = ?`).run(new Date().toISOString(), artifact);
  }

  /** The artifact fields of a run whose value the target does not hold yet (per this ledger). */
  changedFields(run: RunKey, fields: readonly FieldAssignment[]): FieldAssignment[] {
    const rows = this.db.prepare('SELECT path, value FROM artifact_fields WHERE run_key = ?').all(runKeyString(run)) as Array<{ path: string; value: string }>;
    const held = new Map(rows.map((r) => [r.path, r.value]));
    return fields.filter((f) => held.get(f.path) !== JSON.stringify(f.value));
  }

  /**
   * Fields the target acknowledged, with the run's progress, in one transaction; the run's `fields`
   * count grows by the fields it did not hold before (a changed value is not a new field).
   */
  recordFields(run: RunKey, fields: readonly FieldAssignment[], progress: Progress): void {
    const k = runKeyString(run);
    this.db.transaction(() => {
      const has = this.db.prepare('SELECT 1 FROM artifact_fields WHERE run_key = ? AND path = ?');
      const put = this.db.prepare('INSERT INTO artifact_fields(run_key, path, value) VALUES (?, ?, ?) ON CONFLICT(run_key, path) DO UPDATE SET value = excluded.value');
      let added = 0;
      for (const f of fields) {
        if (!has.get(k, f.path)) added++;
        put.run(k, f.path, JSON.stringify(f.value));
      }
      this.ledger.commit(run, 'files', { ...progress, counts: { ...progress.counts, fields: added } });
    })();
  }
}
