import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Logger } from '../core/logger.ts';

/** A timestamped log file beside the ledger, as the original exporter kept one. */
export function logFilePath(ledgerPath: string, now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '_');
  return join(dirname(ledgerPath), `wandb-to-neptune_${stamp}.log`);
}

/**
 * Appends to the log file, made on the first line. A log that cannot be written (folder not
 * writable, disk full) is said once through `onProblem` and the migration goes on: the ledger, not
 * the log, is what must be written, and it reports its own problems.
 */
export function fileLogger(path: string, onProblem?: (message: string) => void): Logger {
  let broken = false;
  let made = false;
  const write = (level: string, message: string) => {
    if (broken) return;
    try {
      if (!made) mkdirSync(dirname(path), { recursive: true });
      made = true;
      appendFileSync(path, `${new Date().toISOString()} ${level.padEnd(5)} ${message}\n`);
    } catch (e) {
      broken = true;
      onProblem?.(`cannot write the log file ${path}: ${(e as Error).message}`);
    }
  };
  return {
    debug: (m) => write('DEBUG', m),
    info: (m) => write('INFO', m),
    warn: (m) => write('WARN', m),
    error: (m) => write('ERROR', m),
  };
}
