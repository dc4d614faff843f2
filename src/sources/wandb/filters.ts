import type { RunFilter } from '../../core/source.ts';

/**
 * A RunFilter as the SDK's Mongo-style `filters` (sent JSON-encoded as a string). Each field narrows, so
 * the parts are joined with `$and`; a single part is sent bare and an empty filter is `{}`.
 */
export function runFilterToMongo(filter: RunFilter): Record<string, unknown> {
  const parts: Record<string, unknown>[] = [];
  if (filter.runIds?.length) parts.push({ name: { $in: [...filter.runIds] } });
  if (filter.states?.length) parts.push({ state: { $in: [...filter.states] } });
  if (filter.createdAfter) parts.push({ createdAt: { $gte: filter.createdAfter } });
  if (filter.createdBefore) parts.push({ createdAt: { $lt: filter.createdBefore } });
  if (filter.tags?.length) parts.push({ tags: { $in: [...filter.tags] } });
  if (parts.length === 0) return {};
  if (parts.length === 1) return parts[0];
  return { $and: parts };
}
