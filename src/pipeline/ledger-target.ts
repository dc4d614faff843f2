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

const PROTOCOL_KEY = 'neptune_protocol';
type Protocol = 'a' | 'b';

/** The protocol the ledger's runs were written with, recorded once a pass had a project over it. */
export function ledgerProtocol(ledger: Ledger): Protocol | undefined {
  const p = ledger.meta(PROTOCOL_KEY);
  return p === 'a' || p === 'b' ? p : undefined;
}

/** Recorded from the target's kind (`neptune-a`, `neptune-b`; an auto target's once it chose). */
export function noteLedgerProtocol(ledger: Ledger, targetKind: string): void {
  const p = targetKind === 'neptune-a' ? 'a' : targetKind === 'neptune-b' ? 'b' : undefined;
  if (p !== undefined && ledgerProtocol(ledger) === undefined) ledger.setMeta(PROTOCOL_KEY, p);
}

/**
 * The protocol a pass with this ledger speaks. What lands differs by protocol (B keeps steps to a
 * millionth, int64, files as FileRefs; A file sets, steps as doubles), and a 3.x server can serve both:
 * `auto` would pick B there and read an A migration as mismatched everywhere (verify), or append B's
 * shapes to A's runs (migrate). So `auto` takes the ledger's protocol, and another one asked for is
 * exit 2 naming both.
 */
export function protocolForLedger(ledger: Ledger, asked: Protocol | 'auto' | undefined): Protocol | 'auto' | undefined {
  const recorded = ledgerProtocol(ledger);
  if (recorded === undefined || asked === recorded) return asked;
  if (asked === undefined || asked === 'auto') return recorded;
  throw new ConfigError([
    `the ledger ${ledger.path} records runs written with Neptune Protocol ${recorded.toUpperCase()}; this pass asks for Protocol ${asked.toUpperCase()} (--protocol ${asked})`,
    `a ledger follows one protocol: leave --protocol out (or pass --protocol ${recorded}) to go on, or pass another --ledger`,
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
