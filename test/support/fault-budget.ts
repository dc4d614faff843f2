import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * How many retries a test must give the CLI so that injected faults alone make it fail less than
 * `risk` of the time. With a fault rate `rate` per attempt, one request fails when all of its
 * `retries + 1` attempts hit a fault: rate^(retries+1); a run of `requests` requests fails with at most
 * requests × rate^(retries+1). The product's default (6 retries) is sized for real networks: at the
 * 20–30% rates the fault tests inject, 7 attempts fail once in 10^4–10^5 requests, which made those
 * tests fail now and then by chance alone, not because anything was wrong.
 */
export function retriesFor(fault: { rate: number; requests: number; risk?: number }): number {
  const risk = fault.risk ?? 1e-6;
  if (!(fault.rate > 0 && fault.rate < 1)) throw new Error(`a fault rate is in (0, 1), not ${fault.rate}`);
  const attempts = Math.ceil(Math.log(risk / fault.requests) / Math.log(fault.rate));
  return Math.max(0, attempts - 1);
}

/**
 * The retry lines of the CLI's log files in `dir` (written beside the ledger): what each failed attempt
 * met, so that a failing fault test says which requests were retried and why.
 */
export function retryLines(dir: string, limit = 60): string {
  const lines = readdirSync(dir)
    .filter((f) => /^wandb-to-neptune_.*\.log$/.test(f))
    .flatMap((f) => readFileSync(join(dir, f), 'utf8').split('\n'))
    .filter((l) => /; retry \d+ in \d+ ms$/.test(l));
  return lines.slice(-limit).join('\n');
}
