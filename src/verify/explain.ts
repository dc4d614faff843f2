import type { Omission, OmissionReason } from '../core/target.ts';
import { DEFAULT_REASONS } from '../pipeline/report.ts';
import type { Difference } from './types.ts';

/** A documented default of mapping.md (the report's rule): not a loss the user must look at. */
export function isDefaultReason(reason: OmissionReason): boolean {
  return DEFAULT_REASONS.has(reason);
}

/**
 * Finds the line of the migration's report (the ledger's omissions) that accounts for a difference:
 * an omission with a reason whose subject is the difference's path, W&B key or file name. A rename is
 * not a loss: a difference at a renamed key stays unexplained.
 */
export class Explainer {
  private readonly bySubject = new Map<string, Omission>();

  constructor(omissions: readonly Omission[]) {
    for (const o of omissions) {
      if (o.reason === 'renamed') continue;
      if (!this.bySubject.has(o.subject)) this.bySubject.set(o.subject, o);
    }
  }

  explain(d: Difference): { reason: string; detail?: string } | undefined {
    for (const name of [d.subject, ...(d.names ?? [])]) {
      const o = this.bySubject.get(name);
      if (o) return { reason: o.reason, ...(o.detail ? { detail: o.detail } : {}) };
    }
    return undefined;
  }
}
