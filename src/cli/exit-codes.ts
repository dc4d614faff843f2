import { ConfigError, MigrationError, isAbortError } from '../core/errors.ts';

/** Every exit code the CLI uses, in one place. */
export const EXIT = {
  ok: 0,
  internal: 1,
  usage: 2,
  runsFailed: 3,
  strictOmissions: 4,
  /** `verify`: some run is `mismatch` or `missing`. */
  verifyFailed: 5,
  interrupted: 130,
} as const;

/** Maps an error that escaped a command to an exit code and a one-line message for people. */
export function exitCodeFor(error: unknown): { code: number; message: string } {
  if (isAbortError(error)) return { code: EXIT.interrupted, message: 'interrupted' };
  // Ctrl-C at a question: the prompt library ends the prompt with its own error.
  if (error instanceof Error && (error.name === 'ExitPromptError' || error.name === 'AbortPromptError')) {
    return { code: EXIT.interrupted, message: 'cancelled' };
  }
  if (error instanceof ConfigError) return { code: EXIT.usage, message: error.problems.map((p) => `error: ${p}`).join('\n') };
  if (error instanceof MigrationError) {
    // Credentials, and a ledger that is locked, damaged, unwritable or on a full disk: the user's to fix.
    const code = error.code === 'AUTH' || error.code === 'LEDGER' ? EXIT.usage : EXIT.internal;
    return { code, message: `error (${error.code}): ${error.message}` };
  }
  return { code: EXIT.internal, message: `internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}` };
}

/** `verify`: 0 only when every verified run is `verified` or `verified-with-omissions`. */
export function verifyExitCode(totals: { mismatch: number; missing: number }): number {
  return totals.mismatch > 0 || totals.missing > 0 ? EXIT.verifyFailed : EXIT.ok;
}
