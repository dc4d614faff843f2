#!/usr/bin/env node
import { Command, Option } from 'commander';
import { setMaxListeners } from 'node:events';
import module from 'node:module';
import { resolve } from 'node:path';
import { AbortedError } from '../core/errors.ts';
import { silentLogger, type Logger } from '../core/logger.ts';
import type { EventSink } from '../pipeline/events.ts';
import type { MigrationReport } from '../pipeline/report.ts';
import type { MigrateOutcome, StreamedReport } from '../commands/migrate.ts';
import { streamPieces, writeJsonReport, writeTextReport } from './report-output.ts';
import { GuardedStdout } from './stdout-guard.ts';
import { EXIT, exitCodeFor } from './exit-codes.ts';
import { DEFAULT_LEDGER, migrateOptionsFromFlags, noteRepeats, type MigrateFlags } from './options.ts';
import { TOOL_VERSION } from '../version.ts';
import { EXCLUDE_OPTIONS, INCLUDE_OPTIONS } from '../mapping/options.ts';
import { registerVerify } from '../commands/verify-action.ts';
import { tuneHeap } from './heap.ts';

// What a command needs is loaded when it runs (dynamic imports below), not at start: the migration, the
// ledger (SQLite), the prompts, the HTML report and each source and target weigh megabytes of memory
// that `--version`, `status` or a migration that does not use them should not carry.

tuneHeap();
// Node >= 22.1 keeps the modules it compiled on disk (os.tmpdir()/node-compile-cache, or NODE_COMPILE_CACHE;
// NODE_DISABLE_COMPILE_CACHE=1 turns it off), so a later start skips compiling what the command imports
// from here on (the migration, sources, targets: most of its ~200 modules). Node 20 has no such cache.
(module as { enableCompileCache?: () => unknown }).enableCompileCache?.();

/** The only place that decides exit codes and talks to process.exit. */
async function main(argv: string[]): Promise<number> {
  const program = new Command()
    .name('wandb-to-neptune')
    .description('Move everything a team logged in Weights & Biases into Neptune: complete, lossless, resumable.')
    .version(TOOL_VERSION)
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });

  let exitCode: number = EXIT.ok;

  const migrate = program
    .command('migrate')
    .description('migrate W&B projects and runs into Neptune (resumable; run it again to continue or to sync changes)')
    .option('--source <api|path>', 'the W&B API ("api"), or a local wandb/ folder or run folder', 'api')
    .option('--entity <name>', 'W&B entity (default: the API key\'s default entity)')
    .option('--workspace <name>', 'Neptune workspace (default: from NEPTUNE_PROJECT)')
    .option('--projects <list>', 'W&B projects, comma-separated, or "all"')
    .option('--runs <ids>', 'only these W&B run ids, comma-separated')
    .option('--state <states>', 'only runs in these states (finished,crashed,failed,killed,running)')
    .option('--tags <tags>', 'only runs with any of these tags')
    .option('--since <date>', 'only runs created at or after this date')
    .option('--until <date>', 'only runs created before this date')
    .option('--concurrency <n>', 'runs migrated at once (default 4)')
    .option('--file-concurrency <n>', 'file downloads/uploads at once (default 4; groups of small files have 4× as many)')
    .addOption(new Option('--include <kinds...>', `also migrate: ${INCLUDE_OPTIONS.join(', ')} (comma-separated or repeated)`))
    .addOption(new Option('--exclude <kinds...>', `leave out what is carried by default: ${EXCLUDE_OPTIONS.join(', ')} (comma-separated or repeated)`))
    .option('--artifact-max-size <MiB>', 'with --include artifacts: leave out artifact files larger than this (reported as too-large)')
    .option('--project-map <pairs>', 'explicit project names: old=new,old2=new2')
    .option('--ledger <path>', 'ledger file (SQLite) that makes the migration resumable', DEFAULT_LEDGER)
    .option('--batch-points <n>', 'points per acknowledged batch (default 20000)')
    .option('--timeout <seconds>', 'seconds to wait for a server\'s answer before retrying (default 60)')
    .option('--retries <n>', 'retries of a failed request before it counts as failed (default 6)')
    .addOption(new Option('--protocol <a|b|auto>', 'Neptune protocol: a (2.x REST), b (3.x protobuf ingest), auto (ask the server)').default('auto'))
    .addOption(new Option('--nan <drop|send>', 'NaN/±Infinity points: drop and count them, or send them (Protocol B servers that accept them)').default('drop'))
    .option('--dry-run', 'read the source and plan; write nothing; print what would be written')
    .option('--json', 'machine-readable events (NDJSON) on stdout')
    .option('--strict', 'exit non-zero when anything was left out for a reason other than the defaults')
    .option('--html <file>', 'also write the report as one self-contained HTML page')
    .option('-y, --yes', 'never prompt (also the case without a TTY)');
  const repeats = noteRepeats(migrate);
  migrate.action(async (flags: MigrateFlags) => {
    exitCode = await migrateAction({ ...flags, repeated: repeats() });
  });

  registerVerify(program, (code) => (exitCode = code));

  program
    .command('status')
    .description('show the ledger: runs done, pending, failed, with the last error')
    .option('--ledger <path>', 'ledger file', DEFAULT_LEDGER)
    .option('--json', 'print JSON')
    .action(async (flags: { ledger: string; json?: boolean }) => {
      const { readStatus } = await import('../commands/status.ts');
      const status = readStatus(resolve(flags.ledger));
      if (flags.json) process.stdout.write(`${JSON.stringify(status, null, 2)}\n`);
      else {
        process.stdout.write(`done ${status.counts.done}, pending ${status.counts.pending}, failed ${status.counts.failed}\n`);
        for (const r of status.runs) {
          process.stdout.write(`${r.status.padEnd(8)} ${r.run}  attempts ${r.attempts}  updated ${r.updatedAt}${r.lastError ? `\n         last error: ${r.lastError}` : ''}\n`);
        }
      }
    });

  program
    .command('report')
    .description('print the migration report again, from the ledger')
    .option('--ledger <path>', 'ledger file', DEFAULT_LEDGER)
    .option('--json', 'print JSON')
    .option('--html <file>', 'write the report as one self-contained HTML page')
    .action(async (flags: { ledger: string; json?: boolean; html?: string }) => {
      const report = (await import('../commands/status.ts')).readReport(resolve(flags.ledger));
      if (flags.html) process.stderr.write(`HTML report: ${await writeHtml(flags.html, report)}\n`);
      else process.stdout.write(flags.json ? `${JSON.stringify(report, null, 2)}\n` : `${(await import('../pipeline/report.ts')).formatReport(report)}\n`);
    });

  try {
    await program.parseAsync(argv);
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'commander.helpDisplayed' || code === 'commander.version') return EXIT.ok;
    if (typeof code === 'string' && code.startsWith('commander.')) return EXIT.usage;
    const { code: exit, message } = exitCodeFor(error);
    process.stderr.write(`${message}\n`);
    return exit;
  }
  return exitCode;
}

async function migrateAction(rawFlags: MigrateFlags): Promise<number> {
  const env = process.env;
  const json = Boolean(rawFlags.json);
  const controller = new AbortController();
  // A first Ctrl-C stops reading and starting; what was sent is still acknowledged into the ledger
  // (writes: aborted by nothing but a fatal error; a second Ctrl-C quits at once).
  const writes = new AbortController();
  // One signal reaches every request in flight (runs × streams × files); each adds a listener.
  setMaxListeners(0, controller.signal);
  setMaxListeners(0, writes.signal);
  let interrupts = 0;
  // Until the display exists (prompts), said directly; then through the display, so its redrawn
  // lines stay whole.
  let sayStopping = (): void => void process.stderr.write('\nstopping (Ctrl-C again to quit at once)\n');
  const onSigint = () => {
    interrupts++;
    if (interrupts === 1) {
      sayStopping();
      controller.abort(new AbortedError('interrupted by the user'));
    } else process.exit(EXIT.interrupted);
  };
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigint);
  const tty = Boolean(process.stderr.isTTY && process.stdin.isTTY);
  const [{ defaultWiring }, { emptyReport, reportOfFailure, runMigrate }, { formatReport }] = await Promise.all([
    import('../commands/wiring.ts'), import('../commands/migrate.ts'), import('../pipeline/report.ts'),
  ]);
  const wiring = defaultWiring(env);
  // A reader of stdout that goes away (`--json | head`) stops the migration as Ctrl-C does, and says so.
  const stdout = new GuardedStdout(process.stdout, () => {
    process.stderr.write('\nstopping: standard output was closed (its reader ended); run the same command again to continue\n');
    controller.abort(new AbortedError('standard output was closed'));
  });
  stdoutGuarded = true;
  const jsonLine = (event: Record<string, unknown>) => stdout.write(`${JSON.stringify({ ...event, time: new Date().toISOString() })}\n`);
  try {
    let flags = rawFlags;
    if (tty && !flags.yes && !json) {
      const source = flags.source ?? 'api';
      const { promptMissing } = await import('./prompts.ts');
      flags = await promptMissing(
        flags,
        {
          sourceFor: (entity) => wiring.makeSource({ source: source === 'api' ? source : resolve(source), entity, log: silentLogger, onNotice() {} }),
          async workspaces(signal) {
            const target = await wiring.makeTarget({ dryRun: false, log: silentLogger });
            try {
              return await target.workspaces?.(signal);
            } finally {
              await target.close();
            }
          },
          write: (text) => process.stderr.write(text),
        },
        env,
        controller.signal,
      );
    }
    const opts = migrateOptionsFromFlags(flags, env);
    const ledgerPath = resolve(opts.ledgerPath);
    // A dry run writes nothing: no log file either.
    const [{ fileLogger, logFilePath }, { createRenderer }, { formatRequests }] = await Promise.all([
      import('./log-file.ts'), import('./progress.ts'), import('./requests-line.ts'),
    ]);
    const logFile = opts.dryRun ? undefined : logFilePath(ledgerPath);
    let emit: EventSink = () => {};
    const warnTerminal = (message: string) => emit({ type: 'warning', message });
    // The log file gets everything; the terminal gets warnings, through the display so they never
    // break its redrawn lines (errors reach it as run events).
    const fileLog = logFile ? fileLogger(logFile, warnTerminal) : silentLogger;
    const log: Logger = { ...fileLog, warn: (m) => {
      fileLog.warn(m);
      warnTerminal(m);
    } };
    emit = createRenderer({ json, tty, log: fileLog, out: stdout });
    sayStopping = () => emit({ type: 'stopping' });
    // The report is written as the ledger is read, run by run (10,000 runs are never held at once);
    // the page of --html is the one place it is gathered whole.
    // The report waits for a slow reader of stdout (streamPieces); an event said meanwhile (a retry of a
    // request still under way) would land inside the report's line: it goes to the log file only.
    let reporting = false;
    const writeReport = async (report: StreamedReport, requests: MigrateOutcome['requests']) => {
      reporting = true;
      if (json) await writeJsonReport(streamPieces(stdout), report, requests, new Date().toISOString());
      else {
        process.stderr.write('\n');
        await writeTextReport([streamPieces(process.stderr)], report, { dryRun: opts.dryRun });
      }
      reporting = false;
      log.info('report:');
      await writeTextReport([(t) => log.info(t.replace(/\n$/, ''))], report, { dryRun: opts.dryRun });
      if (flags.html) html = { ...report, runs: [...report.runs()] };
    };
    let html: MigrationReport | undefined;
    const emitOutsideReport: EventSink = (e) => {
      if (reporting) fileLog.info(`during the report: ${JSON.stringify(e)}`);
      else emit(e);
    };
    const outcome = await runMigrate(opts, wiring, { log, emit: emitOutsideReport, signal: controller.signal, writeSignal: writes.signal, logFile, writeReport });
    const { report, result } = outcome;
    if (!json) {
      process.stderr.write(`\n${formatRequests(outcome.requests, opts.dryRun)}\n`);
      if (opts.dryRun) process.stderr.write(`dry run: nothing was written (not to Neptune, not to the ledger, no log file); the plan used ledger ${ledgerPath}\n`);
      else process.stderr.write(`log file: ${logFile}\nledger: ${ledgerPath}\n`);
    }
    if (html) process.stderr.write(`HTML report: ${await writeHtml(flags.html!, html)}\n`);
    if (result.interrupted) return EXIT.interrupted;
    if (result.failed > 0 || report.totals.failed > 0 || report.totals.pending > 0) return EXIT.runsFailed;
    if (opts.strict && report.nonDefaultOmissions > 0) return EXIT.strictOmissions;
    return EXIT.ok;
  } catch (error) {
    const { code, message } = exitCodeFor(error);
    const report = reportOfFailure(error);
    if (json) {
      // A machine reading the events learns why it stopped, then gets the report it always gets.
      jsonLine({ type: 'error', code: (error as { code?: unknown })?.code ?? 'INTERNAL', message, exitCode: code });
      jsonLine({ type: 'report', report: report ?? emptyReport(), requests: {} });
    } else if (report && report.totals.runs > 0) process.stderr.write(`\n${formatReport(report)}\n\n`);
    process.stderr.write(`${message}\n`);
    return code;
  } finally {
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigint);
  }
}

/** The report as one HTML page (its renderer is loaded only when asked for). */
async function writeHtml(file: string, report: MigrationReport): Promise<string> {
  return (await import('../report-html/write.ts')).writeHtmlReport(file, { title: 'migration', migration: report });
}

// `wandb-to-neptune status | head` closes the pipe early: that is not an error. `migrate` stops as
// an interrupt does instead (GuardedStdout).
let stdoutGuarded = false;
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code !== 'EPIPE') throw e;
  if (!stdoutGuarded) process.exit(EXIT.ok);
});

main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    const { code, message } = exitCodeFor(error);
    process.stderr.write(`${message}\n`);
    process.exitCode = code;
  },
);
