import type { RunKey } from '../core/records.ts';

/** Typed progress events: rendered as bars/lines for people, or as NDJSON with `--json`. */
export type MigrationEvent =
  | { type: 'migration.started'; ledger: string; logFile?: string; dryRun: boolean }
  | { type: 'project.planned'; wandbProject: string; neptuneProject: string }
  | { type: 'run.started'; run: RunKey; name?: string; resumed: boolean; /** History rows W&B says the run has. */ expectedRows?: number }
  | { type: 'run.progress'; run: RunKey; stream: 'fields' | 'history' | 'system' | 'console' | 'files'; points: number; files: number; bytes: number; /** History rows done in this pass. */ rows?: number }
  | { type: 'run.skipped'; run: RunKey; reason: string }
  | { type: 'run.done'; run: RunKey; points: number; files: number; bytes: number; omitted: number }
  | { type: 'run.failed'; run: RunKey; error: string }
  | { type: 'source.notice'; run?: RunKey; stream: string; kind: string; message: string }
  /** A request failed and will be sent again after `delayMs` (the display says so: nothing hangs silently). */
  | { type: 'http.retry'; service: string; what: string; attempt: number; attempts: number; delayMs: number; reason: string }
  /** A request has had no answer for `waitedMs`. */
  | { type: 'http.waiting'; service: string; what: string; waitedMs: number }
  /** The user asked to stop (Ctrl-C, SIGTERM): in-flight batches finish, nothing new starts. */
  | { type: 'stopping' }
  /** Something the user should know that is not tied to one run's data (the log file cannot be written…). */
  | { type: 'warning'; message: string }
  /** The migration stopped on an error (with `--json`, before the final `report` event). */
  | { type: 'error'; code: string; message: string; exitCode: number }
  | { type: 'migration.done'; migrated: number; skipped: number; failed: number; interrupted: boolean };

export type EventSink = (e: MigrationEvent) => void;
