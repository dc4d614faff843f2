import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Logger } from '../core/logger.ts';

/** A timestamped log file beside the ledger, as the original exporter kept one. */
export function logFilePath(ledgerPath: string, now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '_');
  return join(dirname(ledgerPath), `wandb-to-neptune_${stamp}.log`);
}

export function fileLogger(path: string, echo?: Logger): Logger {
  mkdirSync(dirname(path), { recursive: true });
  const write = (level: string, message: string) => {
    appendFileSync(path, `${new Date().toISOString()} ${level.padEnd(5)} ${message}\n`);
  };
  return {
    debug: (m) => write('DEBUG', m),
    info: (m) => {
      write('INFO', m);
      echo?.info(m);
    },
    warn: (m) => {
      write('WARN', m);
      echo?.warn(m);
    },
    error: (m) => {
      write('ERROR', m);
      echo?.error(m);
    },
  };
}
