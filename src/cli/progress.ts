import { runPath } from '../core/records.ts';
import type { MigrationEvent } from '../pipeline/events.ts';
import type { Logger } from '../core/logger.ts';

/**
 * Renders migration events: redrawn progress bars on a TTY (overall runs, then one line per active
 * run), plain lines otherwise, NDJSON on stdout with `--json`. Always to the log file too.
 */
export function createRenderer(opts: { json: boolean; tty: boolean; log: Logger; out?: NodeJS.WritableStream; err?: NodeJS.WriteStream | NodeJS.WritableStream }) {
  const out = opts.out ?? process.stdout;
  const err = opts.err ?? process.stderr;
  const active = new Map<string, { name: string; points: number; files: number; bytes: number; rows: number; expectedRows?: number }>();
  let done = 0;
  let failed = 0;
  let skipped = 0;
  let drawn = 0;
  let lastDraw = 0;
  let dryRun = false;
  /** What the network is doing when it is not answering (retrying, waiting), until work moves again. */
  let network: string | undefined;

  const key = runPath;

  const draw = (force = false) => {
    if (!opts.tty || opts.json) return;
    const now = Date.now();
    if (!force && now - lastDraw < 100) return;
    lastDraw = now;
    const lines = [`runs: ${done} ${dryRun ? 'would migrate' : 'migrated'}, ${skipped} skipped, ${failed} failed, ${active.size} active`];
    for (const [k, a] of [...active.entries()].slice(0, 8)) {
      lines.push(`  ${k.padEnd(40).slice(0, 40)} ${bar(a)} ${a.points.toLocaleString('en-US')} points, ${a.files} files, ${(a.bytes / 1024 / 1024).toFixed(1)} MiB`);
    }
    if (network) lines.push(`  ${network}`);
    (err as NodeJS.WriteStream).write(`${drawn ? `\x1b[${drawn}A` : ''}${lines.map((l) => `\x1b[2K${l}`).join('\n')}\n`);
    drawn = lines.length;
  };

  const line = (text: string) => {
    if (opts.json) return;
    if (opts.tty && drawn) {
      (err as NodeJS.WriteStream).write(`\x1b[${drawn}A\x1b[0J`);
      drawn = 0;
    }
    err.write(`${text}\n`);
    draw(true);
  };

  return (e: MigrationEvent) => {
    if (opts.json) out.write(`${JSON.stringify({ ...e, time: new Date().toISOString() })}\n`);
    switch (e.type) {
      case 'migration.started':
        dryRun = e.dryRun;
        opts.log.info(`migration started; ledger ${e.ledger}${e.logFile ? `, log ${e.logFile}` : ''}${e.dryRun ? ' (dry run)' : ''}`);
        line(`ledger: ${e.ledger}${e.logFile ? `\nlog file: ${e.logFile}` : ''}${e.dryRun ? '\ndry run: nothing will be written' : ''}`);
        break;
      case 'project.planned':
        opts.log.info(`W&B project ${e.wandbProject} → Neptune project ${e.neptuneProject}`);
        line(`project ${e.wandbProject} → ${e.neptuneProject}`);
        break;
      case 'run.started':
        active.set(key(e.run), { name: e.name ?? '', points: 0, files: 0, bytes: 0, rows: 0, expectedRows: e.expectedRows });
        opts.log.info(`${key(e.run)}: ${e.resumed ? 'resuming' : 'starting'}`);
        if (!opts.tty) line(`${key(e.run)}: ${e.resumed ? 'resuming' : 'starting'}`);
        draw();
        break;
      case 'run.progress': {
        network = undefined;
        const a = active.get(key(e.run));
        if (a) {
          if (e.stream === 'files') {
            a.files = e.files;
            a.bytes = e.bytes;
          } else if (e.points) a.points = Math.max(a.points, e.points);
          if (e.rows !== undefined) a.rows = Math.max(a.rows, e.rows);
        }
        draw();
        break;
      }
      case 'run.skipped':
        skipped++;
        opts.log.info(`${key(e.run)}: skipped (${e.reason})`);
        if (!opts.tty) line(`${key(e.run)}: skipped (${e.reason})`);
        draw();
        break;
      case 'run.done':
        done++;
        network = undefined;
        active.delete(key(e.run));
        opts.log.info(`${key(e.run)}: ${dryRun ? 'would migrate' : 'migrated'}, ${e.points} points, ${e.files} files, ${e.bytes} bytes, ${e.omitted} items not written`);
        line(`${key(e.run)}: ${dryRun ? 'would migrate' : 'migrated'} (${e.points.toLocaleString('en-US')} points, ${e.files} files${e.omitted ? `, ${e.omitted} not written — see report` : ''})`);
        break;
      case 'run.failed':
        failed++;
        active.delete(key(e.run));
        opts.log.error(`${key(e.run)}: failed: ${e.error}`);
        line(`${key(e.run)}: FAILED: ${e.error}`);
        break;
      case 'source.notice':
        opts.log.warn(`${e.run ? `${key(e.run)}: ` : ''}${e.stream} ${e.kind}: ${e.message}`);
        line(`${e.run ? `${key(e.run)}: ` : ''}note (${e.stream}, ${e.kind}): ${e.message}`);
        break;
      case 'http.retry': {
        const text = `${e.what}: ${e.reason}; retry ${e.attempt} of ${e.attempts - 1} in ${(e.delayMs / 1000).toFixed(1)} s`;
        opts.log.warn(text);
        network = `retrying: ${text}`;
        if (opts.tty) draw(true);
        else line(`retrying: ${text}`);
        break;
      }
      case 'http.waiting': {
        const text = `${e.what}: no answer for ${Math.round(e.waitedMs / 1000)} s`;
        opts.log.info(`waiting: ${text}`);
        network = `waiting: ${text}`;
        if (opts.tty) draw(true);
        else line(`waiting: ${text}`);
        break;
      }
      case 'stopping':
        opts.log.info('stopping: interrupted by the user');
        line('stopping: finishing in-flight batches (Ctrl-C again to quit at once)');
        break;
      case 'warning':
        // Already in the log file (it came from there); the terminal gets it between the bars.
        line(`warning: ${e.message}`);
        break;
      case 'migration.done':
        network = undefined;
        opts.log.info(`migration ${e.interrupted ? 'interrupted' : 'finished'}: ${e.migrated} ${dryRun ? 'would migrate' : 'migrated'}, ${e.skipped} skipped, ${e.failed} failed`);
        active.clear();
        // The bars go: the report that follows says the same once ("Runs: …"), not twice.
        if (opts.tty && drawn) (err as NodeJS.WriteStream).write(`\x1b[${drawn}A\x1b[0J`);
        drawn = 0;
        break;
    }
  };
}

/** History rows done of those W&B announced; without a count, one block per decade of points. */
function bar(a: { points: number; rows: number; expectedRows?: number }): string {
  const width = 20;
  const n = a.expectedRows
    ? Math.round(Math.min(1, a.rows / a.expectedRows) * width)
    : Math.min(width, Math.max(0, Math.floor(Math.log10(a.points + 1) * 2)));
  return `[${'#'.repeat(n)}${' '.repeat(width - n)}]`;
}
