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

  const key = runPath;

  const draw = (force = false) => {
    if (!opts.tty || opts.json) return;
    const now = Date.now();
    if (!force && now - lastDraw < 100) return;
    lastDraw = now;
    const lines = [`runs: ${done} migrated, ${skipped} skipped, ${failed} failed, ${active.size} active`];
    for (const [k, a] of [...active.entries()].slice(0, 8)) {
      lines.push(`  ${k.padEnd(40).slice(0, 40)} ${bar(a)} ${a.points.toLocaleString('en-US')} points, ${a.files} files, ${(a.bytes / 1024 / 1024).toFixed(1)} MiB`);
    }
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
        active.delete(key(e.run));
        opts.log.info(`${key(e.run)}: migrated, ${e.points} points, ${e.files} files, ${e.bytes} bytes, ${e.omitted} items not written`);
        line(`${key(e.run)}: migrated (${e.points.toLocaleString('en-US')} points, ${e.files} files${e.omitted ? `, ${e.omitted} not written — see report` : ''})`);
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
      case 'migration.done':
        opts.log.info(`migration ${e.interrupted ? 'interrupted' : 'finished'}: ${e.migrated} migrated, ${e.skipped} skipped, ${e.failed} failed`);
        active.clear();
        draw(true);
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
