import { Option, type Command } from 'commander';
import { setMaxListeners } from 'node:events';
import { AbortedError } from '../core/errors.ts';
import { silentLogger } from '../core/logger.ts';
import { exitCodeFor, verifyExitCode } from '../cli/exit-codes.ts';
import { DEFAULT_LEDGER, migrateOptionsFromFlags, noteRepeats, type MigrateFlags } from '../cli/options.ts';
import { EXCLUDE_OPTIONS, INCLUDE_OPTIONS } from '../mapping/options.ts';
import type { VerifyEvent } from '../verify/verify.ts';

interface VerifyFlags extends MigrateFlags {
  sample?: string;
  html?: string;
}

/** Registers `verify` with migrate's selection flags; `setExit` gets the exit code it ends with. */
export function registerVerify(program: Command, setExit: (code: number) => void): void {
  const verify = program
    .command('verify')
    .description('read every selected run back from Neptune and compare it with W&B: verified, verified-with-omissions, mismatch or missing')
    .option('--source <api|path>', 'the W&B API ("api"), or a local wandb/ folder or run folder', 'api')
    .option('--entity <name>', 'W&B entity (default: the API key\'s default entity)')
    .option('--workspace <name>', 'Neptune workspace (default: from NEPTUNE_PROJECT)')
    .option('--projects <list>', 'W&B projects, comma-separated, or "all"')
    .option('--runs <ids>', 'only these W&B run ids, comma-separated')
    .option('--state <states>', 'only runs in these states')
    .option('--tags <tags>', 'only runs with any of these tags')
    .option('--since <date>', 'only runs created at or after this date')
    .option('--until <date>', 'only runs created before this date')
    .option('--concurrency <n>', 'runs verified at once (default 4)')
    .addOption(new Option('--include <kinds...>', `what the migration was asked to include: ${INCLUDE_OPTIONS.join(', ')}`))
    .addOption(new Option('--exclude <kinds...>', `what the migration was asked to leave out: ${EXCLUDE_OPTIONS.join(', ')}`))
    .addOption(new Option('--protocol <a|b|auto>', 'the Neptune protocol the migration wrote with: a, b, or auto (ask the server, as migrate does)').default('auto'))
    .addOption(new Option('--nan <drop|send>', 'as given to migrate: whether NaN/±Infinity points were sent (Protocol B)').default('drop'))
    .option('--project-map <pairs>', 'explicit project names, as given to migrate: old=new,old2=new2')
    .option('--ledger <path>', `the migration's ledger: differences its report accounts for are "expected" (default: ${DEFAULT_LEDGER} when it exists; without one, runs are found by custom run id)`)
    .option('--sample <fraction>', 'verify only this fraction of the selected runs (e.g. 0.05), the same ones every time')
    .option('--html <file>', 'also write the result as one self-contained HTML page (with a chart of each run\'s main metric)')
    .option('--timeout <seconds>', 'seconds to wait for a server\'s answer before retrying (default 60)')
    .option('--retries <n>', 'retries of a failed request before it counts as failed (default 6)')
    .option('--json', 'machine-readable events (NDJSON) on stdout, ending with a report event')
    .option('-y, --yes', 'never prompt (verify never prompts; accepted for symmetry with migrate)');
  const repeats = noteRepeats(verify);
  verify.action(async (flags: VerifyFlags) => setExit(await verifyAction({ ...flags, repeated: repeats() })));
}

async function verifyAction(flags: VerifyFlags): Promise<number> {
  const env = process.env;
  const json = Boolean(flags.json);
  const controller = new AbortController();
  setMaxListeners(0, controller.signal);
  const onSignal = () => controller.abort(new AbortedError('interrupted by the user'));
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const out = (event: Record<string, unknown>) => process.stdout.write(`${JSON.stringify({ ...event, time: new Date().toISOString() })}\n`);
  const tty = Boolean(process.stderr.isTTY) && !json;
  let done = 0;
  let selected = 0;
  const emit = (e: VerifyEvent) => {
    if (json) return out(e);
    if (e.type === 'verify.started' && e.sample !== undefined) process.stderr.write(`sampling: verifying about ${e.sample * 100}% of the selected runs (--sample ${e.sample})\n`);
    if (e.type === 'verify.run' || e.type === 'verify.skipped') {
      selected++;
      if (e.type === 'verify.run') done++;
      if (tty) process.stderr.write(`\rverifying: ${done} runs checked, ${selected - done} left out by the sample`);
    }
  };
  try {
    // Loaded when verify runs, not when the CLI starts (see src/cli/index.ts).
    const [{ ledgerWorkspace, parseSample, runVerify, verifyLedgerPath }, { defaultWiring }, { formatVerifyReport }] = await Promise.all([
      import('./verify.ts'), import('./wiring.ts'), import('../verify/format.ts'),
    ]);
    const ledgerPath = verifyLedgerPath(flags.ledger, DEFAULT_LEDGER);
    // After `migrate --workspace w`, `verify` finds w in the ledger: the flag is needed only to choose.
    const workspace = flags.workspace ?? (env.NEPTUNE_PROJECT ? undefined : ledgerWorkspace(ledgerPath));
    const migrateOpts = migrateOptionsFromFlags({ ...flags, ...(workspace ? { workspace } : {}), dryRun: false }, env);
    const opts = { ...migrateOpts, ledgerPath, sample: parseSample(flags.sample), html: flags.html };
    const report = await runVerify(opts, defaultWiring(env), {
      env, log: silentLogger, emit, signal: controller.signal,
      http: {
        onRetry: (r) => (json ? out({ type: 'http.retry', ...r }) : process.stderr.write(`\nretrying ${r.what} (attempt ${r.attempt + 1} of ${r.attempts}): ${r.reason}\n`)),
      },
    });
    if (tty) process.stderr.write('\r\x1b[K');
    if (json) out({ type: 'report', report });
    else process.stderr.write(`${formatVerifyReport(report)}\n${report.html ? `HTML report: ${report.html}\n` : ''}`);
    return verifyExitCode(report.totals);
  } catch (error) {
    const { code, message } = exitCodeFor(error);
    if (json) out({ type: 'error', code: (error as { code?: unknown })?.code ?? 'INTERNAL', message, exitCode: code });
    process.stderr.write(`${tty ? '\n' : ''}${message}\n`);
    return code;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

