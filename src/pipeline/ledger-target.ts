import { ConfigError } from '../core/errors.ts';
import { runPath, type RunKey } from '../core/records.ts';
import type { Ledger } from '../ledger/ledger.ts';

/**
 * A ledger records what one Neptune server holds: which runs are done there, up to which point, with
 * which files. Used with another server (a new token) or another workspace, it would skip every
 * unchanged run as "already migrated" and report success while the new target holds nothing. Both
 * are refused (exit 2) with the way out, before anything is sent; the run's state stays as it was.
 */

const SERVER_KEY = 'neptune_server';

/** The server a ledger follows, recorded once a pass reached it (its credentials and workspace accepted). */
export function ledgerServer(ledger: Ledger): string | undefined {
  return ledger.meta(SERVER_KEY);
}

/**
 * Recorded when the server accepted the credentials and the workspace, not at the start: a first pass
 * with a mistaken token must not tie the ledger to a server that holds nothing.
 */
export function noteLedgerServer(ledger: Ledger, server: string | undefined): void {
  if (server !== undefined && ledgerServer(ledger) === undefined) ledger.setMeta(SERVER_KEY, server);
}

/** Refuses a pass against a server other than the one the ledger follows (a dry run has no server: nothing to refuse). */
export function checkLedgerServer(ledger: Ledger, server: string | undefined): void {
  const recorded = ledgerServer(ledger);
  if (server === undefined || recorded === undefined || recorded === server) return;
  throw new ConfigError([
    `the ledger ${ledger.path} records runs migrated to the Neptune server at ${recorded}; this migration writes to ${server}`,
    `a ledger follows one server: pass another --ledger to migrate into ${server}, or the token of ${recorded} to go on there`,
  ]);
}

/**
 * The run's Neptune project as the ledger has it, against where this pass puts it (another
 * --workspace or --project-map): a ConfigError saying both and the way out, or undefined when they
 * agree or the run never started.
 */
export function runTargetMoved(ledger: Ledger, key: RunKey, planned: string): ConfigError | undefined {
  const recorded = ledger.getRun(key)?.targetProject;
  if (recorded === undefined || recorded === planned) return undefined;
  const [workspace] = recorded.split('/');
  return new ConfigError([
    `run ${runPath(key)} was migrated to the Neptune project ${recorded} (ledger ${ledger.path}); this migration would write it to ${planned}`,
    `a ledger follows its runs into one place: pass another --ledger to migrate into ${planned}, or --workspace ${workspace} (and the same --project-map) to go on with ${recorded}`,
  ]);
}
