import { TargetError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import type { Omission } from '../../core/target.ts';
import { addOmission } from '../../mapping/values.ts';
import { meaningOf, rpcName, RPC_OK } from './codes.ts';
import type { IngestClient } from './ingest.ts';
import type { RequestStatus } from './messages.ts';

/**
 * Turns processed statuses into the report's lines: per-field codes become omissions by reason, named
 * by path where the server's `checkDetails` says which; run- and project-level codes fail the run;
 * idempotency warnings (a re-sent run or point) change nothing.
 */
export async function refusalsOf(
  statuses: ReadonlyMap<string, RequestStatus>,
  ctx: { ingest: IngestClient; project: string; runId: string; log: Logger },
  signal?: AbortSignal,
): Promise<Omission[]> {
  const fieldCounts = new Map<number, number>();
  const withFieldCodes: string[] = [];
  for (const [id, s] of statuses) {
    let fieldCode = false;
    for (const c of s.codes) {
      if (c.code === RPC_OK && c.detail === 0) continue;
      if (c.detail === 0) {
        // A status without an ingest code (e.g. NOT_FOUND: the server does not know the request) is not
        // "processed": nothing may be recorded as written.
        throw new TargetError(`Neptune answered status ${rpcName(c.code)} for an ingest request of run ${ctx.runId} in ${ctx.project}${s.sharedErrorMessage ? `: ${s.sharedErrorMessage}` : ''}; run the migration again to resume`);
      }
      const m = meaningOf(c.detail);
      if (m.kind === 'fatal') {
        const why = s.sharedErrorMessage ? `: ${s.sharedErrorMessage}` : '';
        throw new TargetError(`Neptune refused run ${ctx.runId} in ${ctx.project}: ${m.name}${why}`);
      }
      if (m.kind === 'field') {
        fieldCode = true;
        fieldCounts.set(c.detail, (fieldCounts.get(c.detail) ?? 0) + Math.max(1, c.count));
      }
    }
    if (fieldCode) withFieldCodes.push(id);
  }
  const out: Omission[] = [];
  if (!withFieldCodes.length) return out;
  const details = await ctx.ingest.details(ctx.project, withFieldCodes, signal);
  const named = new Map<number, number>();
  for (const d of details ?? []) {
    const m = meaningOf(d.code);
    if (m.kind !== 'field') continue;
    named.set(d.code, (named.get(d.code) ?? 0) + 1);
    addOmission(out, { reason: m.reason, subject: d.path || '(path not given)', count: 1, detail: `${m.name}${d.message ? `: ${d.message}` : ''}` });
  }
  for (const [code, count] of fieldCounts) {
    const rest = count - (named.get(code) ?? 0);
    const m = meaningOf(code);
    if (rest > 0 && m.kind === 'field') addOmission(out, { reason: m.reason, subject: '(path not given by the server)', count: rest, detail: m.name });
  }
  if (!details) ctx.log.debug(`Neptune: no ingest details endpoint; ${withFieldCodes.length} request(s) had refused values`);
  return out;
}
