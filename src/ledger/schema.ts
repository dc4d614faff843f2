/** The ledger's schema. Versioned: the file records the version it was made with. */
export const LEDGER_SCHEMA_VERSION = 3;

export const LEDGER_SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
  run_key TEXT PRIMARY KEY,            -- entity/project/runId: the W&B identity, same from API or disk
  entity TEXT NOT NULL,
  project TEXT NOT NULL,
  run_id TEXT NOT NULL,
  display_name TEXT,
  target_project TEXT,                 -- workspace/project in Neptune
  target_run TEXT,                     -- Neptune run id (sys/id or container id)
  status TEXT NOT NULL,                -- pending | in_progress | done | failed
  fingerprint TEXT,                    -- the source state the last completed pass migrated
  options_key TEXT,                    -- the mapping options (--include) the run's streams were read with
  attempts INTEGER NOT NULL DEFAULT 0,
  last_error TEXT,
  started_at TEXT,
  updated_at TEXT NOT NULL,
  completed_at TEXT
);
-- The report reads runs in this order, a page at a time (ledger.ts eachRun): never the whole table at once.
CREATE INDEX IF NOT EXISTS runs_in_order ON runs(entity, project, run_id);
-- The runs the current (or last) migrate pass selected, and which of them it skipped as unchanged: the
-- pass's report is read from here, so a pass of 10,000 runs holds no list of them in memory.
CREATE TABLE IF NOT EXISTS pass_runs (run_key TEXT PRIMARY KEY, skipped INTEGER NOT NULL DEFAULT 0);
-- The display name of every run of a W&B project (entity/project), listed whole when this pass first needs
-- it (Protocol B: a name two runs share is no experiment name). Kept here, not in memory: a project of
-- 100,000 runs would hold every name (and the listing every run id, to drop the runs W&B pages repeat).
-- Emptied when a pass begins.
CREATE TABLE IF NOT EXISTS pass_display_names (
  project_key TEXT NOT NULL, run_id TEXT NOT NULL, name TEXT NOT NULL,
  PRIMARY KEY (project_key, run_id)
);
CREATE INDEX IF NOT EXISTS pass_display_names_by_name ON pass_display_names(project_key, name);
CREATE TABLE IF NOT EXISTS cursors (
  run_key TEXT NOT NULL, stream TEXT NOT NULL, position REAL NOT NULL,
  PRIMARY KEY (run_key, stream)
);
CREATE TABLE IF NOT EXISTS series_paths (
  run_key TEXT NOT NULL, key TEXT NOT NULL, path TEXT NOT NULL, kind TEXT NOT NULL,
  PRIMARY KEY (run_key, key)
);
CREATE TABLE IF NOT EXISTS files (
  run_key TEXT NOT NULL, name TEXT NOT NULL, md5 TEXT, size INTEGER NOT NULL, target TEXT NOT NULL,
  PRIMARY KEY (run_key, name)
);
CREATE TABLE IF NOT EXISTS counts (
  run_key TEXT NOT NULL, scope TEXT NOT NULL, name TEXT NOT NULL, value REAL NOT NULL,
  PRIMARY KEY (run_key, scope, name)
);
CREATE TABLE IF NOT EXISTS omissions (
  run_key TEXT NOT NULL, scope TEXT NOT NULL, reason TEXT NOT NULL, subject TEXT NOT NULL,
  count INTEGER NOT NULL, detail TEXT,
  PRIMARY KEY (run_key, scope, reason, subject)
);
CREATE TABLE IF NOT EXISTS notices (
  run_key TEXT NOT NULL, stream TEXT NOT NULL, kind TEXT NOT NULL, message TEXT NOT NULL, count INTEGER,
  earlier INTEGER NOT NULL DEFAULT 0,  -- noted by an earlier pass (beginPass); a read of the run anew drops those it re-derives
  PRIMARY KEY (run_key, stream, kind, message)
);
`;

/** Upgrades a ledger made by an older version in place (columns are only ever added). */
export const LEDGER_UPGRADES: Record<number, string> = {
  2: 'ALTER TABLE runs ADD COLUMN options_key TEXT;',
  3: 'ALTER TABLE notices ADD COLUMN earlier INTEGER NOT NULL DEFAULT 0;',
};
