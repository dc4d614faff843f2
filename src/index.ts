/** Library entry: the migration and its pieces, for use without the CLI. */
export { runMigrate, type MigrateOptions, type MigrateOutcome, type Wiring } from './commands/migrate.ts';
export { defaultWiring } from './commands/wiring.ts';
export { readReport, readStatus } from './commands/status.ts';
export { migrate, type MigrateSelection, type MigrateResult } from './pipeline/migrate.ts';
export { buildReport, formatReport, type MigrationReport, type RunReport } from './pipeline/report.ts';
export type { MigrationEvent, EventSink } from './pipeline/events.ts';
export { Ledger } from './ledger/ledger.ts';
export { createWandbSource } from './sources/wandb/index.ts';
export { createLocalSource } from './sources/local/index.ts';
export { createNeptuneClient } from './sinks/neptune/index.ts';
export { NeptuneTarget } from './sinks/neptune/target.ts';
export { DryRunTarget } from './sinks/dry-run/dry-run-target.ts';
export type * from './core/records.ts';
export type * from './core/target.ts';
export type * from './core/sink.ts';
export type * from './core/source.ts';
export * from './core/errors.ts';
