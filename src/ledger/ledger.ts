import { runPath } from '../core/records.ts';
import Database from 'better-sqlite3';
import type { RunKey } from '../core/records.ts';
import type { Omission, SeriesKind } from '../core/target.ts';
import { existsSync } from 'node:fs';
import { LedgerError, asLedgerError } from './errors.ts';
import { LEDGER_SCHEMA, LEDGER_SCHEMA_VERSION, LEDGER_UPGRADES } from './schema.ts';

export type RunStatus = 'pending' | 'in_progress' | 'done' | 'failed';
/** Streams whose progress is a number: last acknowledged step (history, system) or next line (console). */
export type CursorStream = 'history' | 'system' | 'console';
/** Scopes of counts and omissions. `fields` is replaced on every pass; the others only ever add. */
export type CountScope = 'fields' | 'history' | 'system' | 'console' | 'files';

export interface LedgerRun {
  key: RunKey;
  displayName?: string;
  targetProject?: string;
  targetRun?: string;
  status: RunStatus;
  fingerprint?: string;
  /** The mapping options the run's streams were last read with. */
  optionsKey?: string;
  attempts: number;
  lastError?: string;
  startedAt?: string;
  updatedAt: string;
  completedAt?: string;
}

export interface Progress {
  cursor?: { stream: CursorStream; position: number };
  counts?: Record<string, number>;
  omissions?: readonly Omission[];
  seriesPaths?: ReadonlyArray<{ key: string; path: string; kind: SeriesKind }>;
  /** Files now handled: uploaded (target = the file set) or left out (target = 'skipped'). */
  files?: ReadonlyArray<{ name: string; md5?: string; size: number; target: string }>;
  /**
   * Subjects tried again by this pass: what earlier passes said of them in this scope goes, and only
   * what this commit says stays (a file that failed again is one line, not two; one that landed, none).
   */
  replaces?: readonly string[];
}

/** The ledger's key of a run. */
export const runKeyString = runPath;

interface RunRow {
  entity: string; project: string; run_id: string; display_name: string | null; target_project: string | null;
  target_run: string | null; status: RunStatus; fingerprint: string | null; options_key: string | null; attempts: number; last_error: string | null;
  started_at: string | null; updated_at: string; completed_at: string | null;
}

/** Notice streams a pass that reads a run reads whole again (see `startRun`). */
const REREAD_STREAMS = ['run', 'config', 'summary', 'log'];

/**
 * The migration's memory, in SQLite. Every change that follows a write to Neptune is committed only
 * after Neptune acknowledged it, in one transaction with the counts it stands for, so after any crash
 * the ledger is never ahead of the target: resume re-reads from the cursor and the writer drops what
 * the target already holds.
 */
/** Page cache of the ledger's SQLite connection, in KiB (SQLite's own default). */
export const LEDGER_CACHE_KIB = 2000;
/**
 * Runs read at once when the ledger is read in order (the report). Few enough that a page dies young: the
 * report's passes over the runs are one synchronous loop, and a page's rows live while its runs are
 * reported (three queries each). At 256 rows a page outlived V8's scavenges and was promoted to the old
 * generation as garbage, ~100 KB a page, three passes over 10,000 runs: on Node 24 the old generation
 * grew by 6-18 MB at the end of the migration, up to the next full collection (ledgers of 2,000 and
 * 10,000 runs read alone; 32 rows: +0-3 MB). A keyset query per 32 runs costs nothing next to the three a run.
 */
const RUNS_PAGE = 32;

export class Ledger {
  private readonly db: Database.Database;
  /** Prepared once: commits run several times per batch on the migration's hot path. */
  private readonly statements = new Map<string, Database.Statement>();

  /** `path`, or the bytes of a ledger to work on in memory (a dry run's copy). */
  constructor(readonly path: string, image?: Buffer) {
    let db: Database.Database | undefined;
    try {
      db = image ? new Database(image) : new Database(path);
      this.db = db;
      if (!image) this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = NORMAL');
      this.db.pragma('busy_timeout = 5000');
      // better-sqlite3 builds SQLite with a 16 MB page cache (deps/defines.gypi SQLITE_DEFAULT_CACHE_SIZE
      // =-16000), which fills as the ledger grows (~5 KB a small run): the migration's RSS grew with the
      // run count until 16 MB. SQLite's own default (2 MB) holds the pages a run's commits touch; the
      // rest are in the OS's file cache.
      this.db.pragma(`cache_size = -${LEDGER_CACHE_KIB}`);
      this.db.exec(LEDGER_SCHEMA);
      this.upgrade();
    } catch (e) {
      db?.close();
      throw asLedgerError(e, path);
    }
  }

  /**
   * A private in-memory copy of the ledger at `path` (empty when there is none): a dry run plans
   * against what a real run would skip, and changes nothing on disk.
   */
  static copyInMemory(path: string): Ledger {
    if (!existsSync(path)) return new Ledger(':memory:');
    let image: Buffer;
    try {
      const source = new Database(path, { readonly: true, fileMustExist: true });
      try {
        // Read first: a file that is not SQLite says so here (serialize would only run out of memory).
        source.prepare('SELECT count(*) FROM sqlite_master').get();
        image = source.serialize();
      } finally {
        source.close();
      }
    } catch (e) {
      throw asLedgerError(e, path);
    }
    // Bytes 18–19 mark WAL mode, which an in-memory database cannot open: mark it a rollback-journal file.
    if (image.length >= 20) image[18] = image[19] = 1;
    return new Ledger(path, image);
  }

  private upgrade(): void {
    const path = this.path;
    const version = this.meta('schema_version');
    if (version === undefined) this.setMeta('schema_version', String(LEDGER_SCHEMA_VERSION));
    else if (Number(version) > LEDGER_SCHEMA_VERSION)
      throw new LedgerError(`ledger ${path} was written by a newer version (schema ${version}); use that version or another --ledger`);
    else if (Number(version) < LEDGER_SCHEMA_VERSION) {
      this.db.transaction(() => {
        for (let v = Number(version) + 1; v <= LEDGER_SCHEMA_VERSION; v++) if (LEDGER_UPGRADES[v]) this.db.exec(LEDGER_UPGRADES[v]);
        this.setMeta('schema_version', String(LEDGER_SCHEMA_VERSION));
      })();
    }
  }

  close(): void {
    this.db.close();
  }

  /** The SQLite handle, for a table kept by its own module (ledger/artifacts.ts) with `CREATE TABLE IF NOT EXISTS` as here. */
  get database(): Database.Database {
    return this.db;
  }

  private stmt(sql: string): Database.Statement {
    let st = this.statements.get(sql);
    if (!st) this.statements.set(sql, (st = this.db.prepare(sql)));
    return st;
  }

  meta(key: string): string | undefined {
    const row = this.stmt('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined;
    return row?.value;
  }

  setMeta(key: string, value: string): void {
    this.stmt('INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value').run(key, value);
  }

  getRun(key: RunKey): LedgerRun | undefined {
    const row = this.stmt('SELECT * FROM runs WHERE run_key = ?').get(runKeyString(key)) as RunRow | undefined;
    return row && toLedgerRun(row);
  }

  /** The Neptune workspaces the ledger's runs went to (at most `limit` of them). */
  targetWorkspaces(limit: number): string[] {
    const rows = this.stmt(
      `SELECT DISTINCT substr(target_project, 1, instr(target_project, '/') - 1) AS ws FROM runs WHERE target_project IS NOT NULL LIMIT ${Math.max(1, Math.floor(limit))}`,
    ).all() as Array<{ ws: string }>;
    return rows.map((r) => r.ws);
  }

  listRuns(): LedgerRun[] {
    return [...this.eachRun()];
  }

  /**
   * Every run, in (entity, project, run id) order, read RUNS_PAGE rows at a time: the report of a ledger
   * of 10,000 runs is written as it is read (a whole-table read held 2 KB a run at once).
   */
  *eachRun(): Generator<LedgerRun> {
    for (const r of this.runPages('SELECT * FROM runs')) yield toLedgerRun(r);
  }

  /** The runs this pass selected (`notePending`), in the same order, with whether it skipped them as unchanged. */
  *eachPassRun(): Generator<{ run: LedgerRun; skipped: boolean }> {
    const pages = this.runPages('SELECT runs.*, pass_runs.skipped AS pass_skipped FROM runs JOIN pass_runs ON pass_runs.run_key = runs.run_key');
    for (const r of pages as Generator<RunRow & { pass_skipped: number }>) yield { run: toLedgerRun(r), skipped: r.pass_skipped === 1 };
  }

  /** Rows of `select` in run order, a page at a time, each page after the last row of the one before (keyset paging on runs_in_order). */
  private *runPages(select: string): Generator<RunRow> {
    const order = `ORDER BY runs.entity, runs.project, runs.run_id LIMIT ${RUNS_PAGE}`;
    let page = this.stmt(`${select} ${order}`).all() as RunRow[];
    while (page.length > 0) {
      yield* page;
      if (page.length < RUNS_PAGE) return;
      const last = page[page.length - 1];
      page = this.stmt(`${select} WHERE (runs.entity, runs.project, runs.run_id) > (?, ?, ?) ${order}`).all(last.entity, last.project, last.run_id) as RunRow[];
    }
  }

  /** A migrate pass begins: the runs it selects are noted anew (`eachPassRun`). */
  beginPass(): void {
    this.db.transaction(() => {
      this.stmt('DELETE FROM pass_runs').run();
      this.stmt('DELETE FROM pass_display_names').run();
      this.stmt('UPDATE notices SET earlier = 1 WHERE earlier = 0').run();
    })();
  }

  /** The display name of one run of W&B project `projectKey` (entity/project), noted for this pass (`displayNameRuns`); a run noted already stays as it was. */
  noteDisplayName(projectKey: string, runId: string, name: string): void {
    this.stmt('INSERT OR IGNORE INTO pass_display_names(project_key, run_id, name) VALUES (?, ?, ?)').run(projectKey, runId, name);
  }

  /** Whether this pass noted the run's display name (`noteDisplayName`). */
  displayNameNoted(projectKey: string, runId: string): boolean {
    return this.stmt('SELECT 1 FROM pass_display_names WHERE project_key = ? AND run_id = ?').get(projectKey, runId) !== undefined;
  }

  /** How many runs of the project bear `name`, as noted this pass. */
  displayNameRuns(projectKey: string, name: string): number {
    return (this.stmt('SELECT count(*) AS n FROM pass_display_names WHERE project_key = ? AND name = ?').get(projectKey, name) as { n: number }).n;
  }

  /** Whether the current pass has selected the run (`notePending`): a listing that repeats a run asks this. */
  inPass(key: RunKey): boolean {
    return this.stmt('SELECT 1 FROM pass_runs WHERE run_key = ?').get(runKeyString(key)) !== undefined;
  }

  /** The pass found the run done and unchanged, and skipped it. */
  noteSkipped(key: RunKey): void {
    this.stmt('UPDATE pass_runs SET skipped = 1 WHERE run_key = ?').run(runKeyString(key));
  }

  /**
   * A run the migration selected, before any work on it: counted as pending until started, so an
   * interrupted pass reports every run it selected (noted as this pass's, `eachPassRun`). A run the
   * ledger knows keeps its state.
   */
  notePending(key: RunKey, displayName?: string): void {
    const k = runKeyString(key);
    this.db.transaction(() => {
      this.stmt(
        `INSERT INTO runs(run_key, entity, project, run_id, display_name, status, attempts, updated_at)
         VALUES (?, ?, ?, ?, ?, 'pending', 0, ?) ON CONFLICT(run_key) DO NOTHING`,
      ).run(k, key.entity, key.project, key.runId, displayName ?? null, new Date().toISOString());
      this.stmt('INSERT OR IGNORE INTO pass_runs(run_key) VALUES (?)').run(k);
    })();
  }

  /** Marks a run as being migrated (new, resumed or brought up to date). */
  startRun(key: RunKey, info: { displayName?: string; targetProject: string; optionsKey?: string }): void {
    const now = new Date().toISOString();
    this.stmt(
        `INSERT INTO runs(run_key, entity, project, run_id, display_name, target_project, options_key, status, attempts, started_at, updated_at)
         VALUES (@k, @entity, @project, @runId, @name, @tp, @ok, 'in_progress', 1, @now, @now)
         ON CONFLICT(run_key) DO UPDATE SET status = 'in_progress', attempts = attempts + 1, display_name = @name,
           target_project = @tp, options_key = @ok, started_at = @now, updated_at = @now, last_error = NULL`,
      )
      .run({ k: runKeyString(key), entity: key.entity, project: key.project, runId: key.runId, name: info.displayName ?? null, tp: info.targetProject, ok: info.optionsKey ?? null, now });
    // What an earlier pass noticed of what this pass reads whole again (the run's metadata, config,
    // summary, a run folder's log) is said again if it still holds: the earlier note goes, so a log read
    // cut and then read complete no longer reports the cut. Notices of streams read on from a cursor
    // (history rows, system samples) stay: this pass does not read those parts again.
    this.stmt(`DELETE FROM notices WHERE run_key = ? AND earlier = 1 AND stream IN (${REREAD_STREAMS.map(() => '?').join(', ')})`).run(runKeyString(key), ...REREAD_STREAMS);
  }

  /**
   * The run is read again from the start with other mapping options (`--include`): the stream cursors
   * go, and so do the stream omissions (the re-read counts them again). Written counts stay: the
   * target already holds those points, and the re-read does not send them twice.
   */
  restartStreams(key: RunKey): void {
    const k = runKeyString(key);
    this.db.transaction(() => {
      this.stmt('DELETE FROM cursors WHERE run_key = ?').run(k);
      this.stmt(`DELETE FROM omissions WHERE run_key = ? AND scope IN ('history', 'system', 'console')`).run(k);
    })();
  }

  setTargetRun(key: RunKey, targetRun: string): void {
    this.stmt('UPDATE runs SET target_run = ?, updated_at = ? WHERE run_key = ?').run(targetRun, new Date().toISOString(), runKeyString(key));
  }

  finishRun(key: RunKey, fingerprint: string): void {
    const now = new Date().toISOString();
    this.stmt(`UPDATE runs SET status = 'done', fingerprint = ?, completed_at = ?, updated_at = ?, last_error = NULL WHERE run_key = ?`)
      .run(fingerprint, now, now, runKeyString(key));
  }

  /** Records a failure, also for a run that failed before it was started (e.g. its project could not be made). */
  failRun(key: RunKey, error: string, displayName?: string): void {
    const now = new Date().toISOString();
    this.stmt(
        `INSERT INTO runs(run_key, entity, project, run_id, display_name, status, attempts, last_error, updated_at)
         VALUES (@k, @entity, @project, @runId, @name, 'failed', 1, @error, @now)
         ON CONFLICT(run_key) DO UPDATE SET status = 'failed', last_error = @error, updated_at = @now`,
      )
      .run({ k: runKeyString(key), entity: key.entity, project: key.project, runId: key.runId, name: displayName ?? null, error: error.slice(0, 2000), now });
  }

  /** An interrupted pass: the run goes back to pending, its cursors kept. */
  interruptRun(key: RunKey): void {
    this.stmt(`UPDATE runs SET status = 'pending', updated_at = ? WHERE run_key = ? AND status = 'in_progress'`).run(new Date().toISOString(), runKeyString(key));
  }

  cursor(key: RunKey, stream: CursorStream): number | undefined {
    const row = this.stmt('SELECT position FROM cursors WHERE run_key = ? AND stream = ?').get(runKeyString(key), stream) as { position: number } | undefined;
    return row?.position;
  }

  seriesPaths(key: RunKey): Array<{ key: string; path: string; kind: SeriesKind }> {
    return this.stmt('SELECT key, path, kind FROM series_paths WHERE run_key = ? ORDER BY rowid').all(runKeyString(key)) as Array<{ key: string; path: string; kind: SeriesKind }>;
  }

  /** Files already handled: uploaded (target = the file set) or left out (target = 'skipped'). */
  uploadedFiles(key: RunKey): Map<string, { md5?: string; size: number; target: string }> {
    const rows = this.stmt('SELECT name, md5, size, target FROM files WHERE run_key = ?').all(runKeyString(key)) as Array<{ name: string; md5: string | null; size: number; target: string }>;
    return new Map(rows.map((r) => [r.name, { md5: r.md5 ?? undefined, size: r.size, target: r.target }]));
  }

  /** Records acknowledged progress of one stream: cursor, counts, omissions, new series paths — atomically. */
  commit(key: RunKey, scope: CountScope, p: Progress): void {
    const k = runKeyString(key);
    const tx = this.db.transaction(() => {
      if (p.cursor)
        this.stmt('INSERT INTO cursors(run_key, stream, position) VALUES (?, ?, ?) ON CONFLICT(run_key, stream) DO UPDATE SET position = excluded.position')
          .run(k, p.cursor.stream, p.cursor.position);
      const addCount = this.stmt(
        'INSERT INTO counts(run_key, scope, name, value) VALUES (?, ?, ?, ?) ON CONFLICT(run_key, scope, name) DO UPDATE SET value = value + excluded.value',
      );
      for (const [name, value] of Object.entries(p.counts ?? {})) if (value) addCount.run(k, scope, name, value);
      const addPath = this.stmt('INSERT OR IGNORE INTO series_paths(run_key, key, path, kind) VALUES (?, ?, ?, ?)');
      for (const sp of p.seriesPaths ?? []) addPath.run(k, sp.key, sp.path, sp.kind);
      for (const f of p.files ?? []) {
        // A file that lands now clears what an earlier pass said about it (left out, download failed).
        if (f.target !== 'skipped') this.stmt(`DELETE FROM omissions WHERE run_key = ? AND scope = 'files' AND subject = ?`).run(k, f.name);
        this.stmt(
          'INSERT INTO files(run_key, name, md5, size, target) VALUES (?, ?, ?, ?, ?) ON CONFLICT(run_key, name) DO UPDATE SET md5 = excluded.md5, size = excluded.size, target = excluded.target',
        ).run(k, f.name, f.md5 ?? null, f.size, f.target);
      }
      // After the files: what this commit says about a file that lands now (its rename) is kept.
      const addOmission = this.stmt(
        `INSERT INTO omissions(run_key, scope, reason, subject, count, detail) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT(run_key, scope, reason, subject) DO UPDATE SET count = count + excluded.count`,
      );
      for (const subject of p.replaces ?? []) this.stmt('DELETE FROM omissions WHERE run_key = ? AND scope = ? AND subject = ?').run(k, scope, subject);
      for (const o of p.omissions ?? []) addOmission.run(k, scope, o.reason, o.subject, o.count, o.detail ?? null);
      this.stmt('UPDATE runs SET updated_at = ? WHERE run_key = ?').run(new Date().toISOString(), k);
    });
    tx();
  }

  /** Replaces what a scope says (used for `fields`, re-derived in full on every pass). */
  replaceScope(key: RunKey, scope: CountScope, counts: Record<string, number>, omissions: readonly Omission[]): void {
    const k = runKeyString(key);
    this.db.transaction(() => {
      this.stmt('DELETE FROM counts WHERE run_key = ? AND scope = ?').run(k, scope);
      this.stmt('DELETE FROM omissions WHERE run_key = ? AND scope = ?').run(k, scope);
    })();
    this.commit(key, scope, { counts, omissions });
  }

  addNotice(key: RunKey, n: { stream: string; kind: string; message: string; count?: number }): void {
    this.stmt('INSERT OR REPLACE INTO notices(run_key, stream, kind, message, count, earlier) VALUES (?, ?, ?, ?, ?, 0)')
      .run(runKeyString(key), n.stream, n.kind, n.message.slice(0, 1000), n.count ?? null);
  }

  counts(key: RunKey): Record<string, number> {
    const rows = this.stmt('SELECT name, SUM(value) AS value FROM counts WHERE run_key = ? GROUP BY name').all(runKeyString(key)) as Array<{ name: string; value: number }>;
    return Object.fromEntries(rows.map((r) => [r.name, r.value]));
  }

  omissions(key: RunKey): Array<Omission & { scope: string }> {
    return (this.stmt('SELECT scope, reason, subject, count, detail FROM omissions WHERE run_key = ? ORDER BY scope, reason, subject')
      .all(runKeyString(key)) as Array<{ scope: string; reason: Omission['reason']; subject: string; count: number; detail: string | null }>)
      .map((r) => ({ scope: r.scope, reason: r.reason, subject: r.subject, count: r.count, detail: r.detail ?? undefined }));
  }

  notices(key: RunKey): Array<{ stream: string; kind: string; message: string; count?: number }> {
    return (this.stmt('SELECT stream, kind, message, count FROM notices WHERE run_key = ?').all(runKeyString(key)) as Array<{ stream: string; kind: string; message: string; count: number | null }>)
      .map((r) => ({ ...r, count: r.count ?? undefined }));
  }
}

function toLedgerRun(r: RunRow): LedgerRun {
  return {
    key: { entity: r.entity, project: r.project, runId: r.run_id },
    displayName: r.display_name ?? undefined,
    targetProject: r.target_project ?? undefined,
    targetRun: r.target_run ?? undefined,
    status: r.status,
    fingerprint: r.fingerprint ?? undefined,
    optionsKey: r.options_key ?? undefined,
    attempts: r.attempts,
    lastError: r.last_error ?? undefined,
    startedAt: r.started_at ?? undefined,
    updatedAt: r.updated_at,
    completedAt: r.completed_at ?? undefined,
  };
}
