/**
 * W&B writes many times without a zone designator (GraphQL DateTimes, legacy metadata); the SDK and
 * the server write them in UTC (wandb-api.md §4.6). Output: ISO 8601 with `Z`, or undefined when the
 * text is not a date.
 */
export function isoUtc(v: string | null | undefined): string | undefined {
  if (!v) return undefined;
  const d = new Date(/(?:Z|[+-]\d\d:?\d\d)$/i.test(v) ? v : `${v}Z`);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}
