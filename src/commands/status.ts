import { runPath } from '../core/records.ts';
import { existsSync } from 'node:fs';
import { ConfigError } from '../core/errors.ts';
import { Ledger } from '../ledger/ledger.ts';
import { buildReport, type MigrationReport } from '../pipeline/report.ts';

function openExisting(path: string): Ledger {
  if (!existsSync(path)) throw new ConfigError([`no ledger at ${path} (run \`wandb-to-neptune migrate\` first, or pass --ledger PATH)`]);
  return new Ledger(path);
}

export interface StatusLine {
  run: string;
  status: string;
  attempts: number;
  updatedAt: string;
  target?: string;
  lastError?: string;
}

/** `wandb-to-neptune status`: what the ledger holds — runs done, pending, failed, with the last error. */
export function readStatus(ledgerPath: string): { runs: StatusLine[]; counts: Record<string, number> } {
  const ledger = openExisting(ledgerPath);
  try {
    const runs = ledger.listRuns().map((r) => ({
      run: runPath(r.key),
      status: r.status === 'in_progress' ? 'pending' : r.status,
      attempts: r.attempts,
      updatedAt: r.updatedAt,
      target: r.targetProject,
      lastError: r.lastError,
    }));
    const counts: Record<string, number> = { done: 0, pending: 0, failed: 0 };
    for (const r of runs) counts[r.status] = (counts[r.status] ?? 0) + 1;
    return { runs, counts };
  } finally {
    ledger.close();
  }
}

/** `wandb-to-neptune report`: the migration report again, from the ledger alone. */
export function readReport(ledgerPath: string): MigrationReport {
  const ledger = openExisting(ledgerPath);
  try {
    return buildReport(ledger);
  } finally {
    ledger.close();
  }
}
