/**
 * Attribute paths. Neptune paths are `/`-joined segments; a segment may not be empty. W&B keys may hold
 * `/` (namespaces, kept), empty segments (`a//b`, `/a`) and very long names: both are made valid
 * deterministically, so the same key always lands on the same path.
 */
export const MAX_PATH_LENGTH = 1024;

export function sanitizeSegment(segment: string): string {
  const trimmed = segment.trim();
  return trimmed === '' ? '_' : trimmed;
}

export function joinPath(...segments: string[]): string {
  return segments.map(sanitizeSegment).join('/');
}

/** A W&B key (where `/` makes namespaces) as path segments. */
export function keySegments(key: string): string[] {
  return key.split('/').map(sanitizeSegment);
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
]);
