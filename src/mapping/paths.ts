/**
 * Attribute paths. Neptune paths are `/`-joined segments; a segment may not be empty. W&B keys may hold
 * `/` (namespaces, kept) and empty segments (`a//b`, `/a`, made `_` deterministically, so the same key
 * always lands on the same path). A path over Neptune's length limit is refused by the writer and
 * reported, not shortened.
 */
export function sanitizeSegment(segment: string): string {
  const trimmed = segment.trim();
  return trimmed === '' ? '_' : trimmed;
}

export function joinPath(...segments: string[]): string {
  return segments.map(sanitizeSegment).join('/');
}

/** Namespaces the tool writes itself; W&B keys that start with one are moved aside. */
export const RESERVED_ROOTS: ReadonlySet<string> = new Set([
  'sys',
  'monitoring',
  'source_code',
  'files',
  'checkpoints',
  'wandb',
  'config',
  'summary',
  'media',
]);
