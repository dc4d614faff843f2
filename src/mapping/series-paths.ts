import type { SeriesKind } from '../core/target.ts';
import { RESERVED_ROOTS, sanitizeSegment } from './paths.ts';

export interface SeriesPath {
  key: string;
  path: string;
  kind: SeriesKind;
}

export interface Rename {
  key: string;
  path: string;
  why: string;
}

/**
 * Assigns each history key a Neptune series path, once, and remembers it. A key that would sit on a
 * namespace the tool writes itself (`config/x`) or collide with another key's namespace (`loss` and
 * `loss/val`: a field cannot also be a namespace) is renamed by suffixing `_` to the clashing segment.
 * The later key is the one renamed; assignments are persisted in the ledger and handed back on resume,
 * so a resumed or incremental migration maps every key exactly as the first pass did.
 * Segments Neptune cannot hold (empty, space-padded) are made valid first (paths.ts), and that is a
 * rename too: every key whose path is not its own text is listed in `renames`.
 * The same rule places config and summary keys (run-fields.ts), one planner per root.
 */
export class SeriesPathPlanner {
  private readonly byKey = new Map<string, SeriesPath>();
  private readonly leaves = new Set<string>();
  private readonly namespaces = new Set<string>();
  readonly added: SeriesPath[] = [];
  readonly renames: Rename[] = [];

  constructor(existing: readonly SeriesPath[] = [], private readonly root: string[] = []) {
    for (const p of existing) this.remember(p);
  }

  get(key: string): SeriesPath | undefined {
    return this.byKey.get(key);
  }

  /** The path for `key`, assigning one (with `kind`) the first time the key is seen. */
  assign(key: string, kind: SeriesKind): SeriesPath {
    // Called for every history value: a known key must not cost a split.
    return this.byKey.get(key) ?? this.assignSegments(key, key.split('/'), kind);
  }

  /** As `assign`, for a key already split into raw segments (nested config/summary dicts). */
  assignSegments(key: string, raw: readonly string[], kind: SeriesKind): SeriesPath {
    const known = this.byKey.get(key);
    if (known) return known;
    const wanted = [...this.root, ...raw.map(sanitizeSegment)];
    const segments = [...wanted];
    const reasons: string[] = [];
    const invalid = raw.filter((r) => sanitizeSegment(r) !== r);
    if (invalid.length) reasons.push(`${invalid.map((r) => (r === '' ? 'an empty segment' : `"${r}"`)).join(', ')} ${invalid.length > 1 ? 'are' : 'is'} not a valid path segment (empty → "_", spaces trimmed)`);
    if (this.root.length === 0 && RESERVED_ROOTS.has(segments[0])) {
      segments[0] = `${segments[0]}_`;
      reasons.push(`"${wanted[0]}" is a namespace the migration writes itself`);
    }
    for (;;) {
      const clash = this.firstClash(segments);
      if (clash === undefined) break;
      segments[clash.index] = `${segments[clash.index]}_`;
      reasons.push(clash.why);
    }
    const assigned: SeriesPath = { key, path: segments.join('/'), kind };
    this.remember(assigned);
    this.added.push(assigned);
    if (reasons.length) this.renames.push({ key, path: assigned.path, why: reasons.join('; ') });
    return assigned;
  }

  private firstClash(segments: string[]): { index: number; why: string } | undefined {
    // A prefix of this path is already a field: rename the segment that would turn it into a namespace.
    for (let i = 1; i < segments.length; i++) {
      const prefix = segments.slice(0, i).join('/');
      if (this.leaves.has(prefix)) return { index: i - 1, why: `"${prefix}" is already a series` };
    }
    const path = segments.join('/');
    if (this.namespaces.has(path)) return { index: segments.length - 1, why: `"${path}" is already a namespace` };
    if (this.leaves.has(path)) return { index: segments.length - 1, why: `"${path}" is already taken by another key` };
    return undefined;
  }

  private remember(p: SeriesPath): void {
    this.byKey.set(p.key, p);
    this.leaves.add(p.path);
    const segs = p.path.split('/');
    for (let i = 1; i < segs.length; i++) this.namespaces.add(segs.slice(0, i).join('/'));
  }
}
