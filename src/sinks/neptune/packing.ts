import type { FileSetEntry, Omission } from '../../core/target.ts';
import type { NeptuneLimits } from './limits.ts';

/** Relative path inside a file set: forward slashes, no leading "/", no "." or ".." segments. */
export function normaliseSetPath(relativePath: string): string | undefined {
  const parts = relativePath.replace(/\\/g, '/').split('/').filter((p) => p !== '' && p !== '.');
  if (parts.length === 0 || parts.includes('..')) return undefined;
  return parts.join('/');
}

/**
 * Splits entries into upload packages of at most `fileSetPackageBytes` total and `fileSetPackageFiles`
 * files, in order; a file larger than the byte cap travels alone. Duplicate or unsafe names are omitted.
 */
export function packFileSet(
  entries: readonly FileSetEntry[],
  attribute: string,
  limits: NeptuneLimits,
): { packages: FileSetEntry[][]; omissions: Omission[] } {
  const packages: FileSetEntry[][] = [];
  const omissions: Omission[] = [];
  const seen = new Set<string>();
  let current: FileSetEntry[] = [];
  let bytes = 0;
  for (const e of entries) {
    const rel = normaliseSetPath(e.relativePath);
    if (!rel) {
      omissions.push({ reason: 'invalid-path', subject: `${attribute}/${e.relativePath}`, count: 1, detail: 'unsafe file-set path' });
      continue;
    }
    if (seen.has(rel)) {
      omissions.push({ reason: 'invalid-path', subject: `${attribute}/${rel}`, count: 1, detail: 'duplicate file-set path' });
      continue;
    }
    seen.add(rel);
    const entry = { ...e, relativePath: rel };
    if (current.length > 0 && (current.length >= limits.fileSetPackageFiles || bytes + e.sizeBytes > limits.fileSetPackageBytes)) {
      packages.push(current);
      current = [];
      bytes = 0;
    }
    current.push(entry);
    bytes += e.sizeBytes;
  }
  if (current.length > 0) packages.push(current);
  return { packages, omissions };
}
