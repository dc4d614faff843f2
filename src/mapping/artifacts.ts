/**
 * mapping.md, artifacts rows: where a W&B artifact version lands in Neptune, decided without I/O.
 *
 * - logged artifact, Protocol A: file set `artifacts/<name>/<version>/files` holding the stored entries;
 *   Protocol B: one file field per entry, `artifacts/<name>/<version>/files/<path>` (a FileRef) — the
 *   same upload call, shaped by the target (capabilities.files).
 * - both: fields `artifacts/<name>/<version>/{type,digest,aliases,size,description,metadata}`.
 * - reference entries (`s3://`, `gs://`, `https://`): W&B holds no bytes for them. Tracking them as a
 *   Neptune artifact needs the server's artifacts API (`assignArtifact`, Protocol A only, and only where
 *   the client config says `artifacts.enabled`); neither protocol's target offers it here, so the
 *   version's manifest lands as a file (`artifacts/<name>/<version>/manifest/wandb_manifest.json`),
 *   and a report line says the server cannot track the references.
 * - used artifacts: string set `artifacts/used` of `name:version`.
 */
import type { ArtifactEntry, ArtifactManifest, ArtifactVersion } from '../core/artifacts.ts';
import type { FieldAssignment, Omission } from '../core/target.ts';
import type { TargetCapabilities } from './capabilities.ts';
import { distinctPaths, fileRelativePath } from './files.ts';
import { sanitizeSegment } from './paths.ts';
import { toAtom } from './values.ts';

export const USED_ARTIFACTS_PATH = 'artifacts/used';
/** The file name the manifest lands under (the name W&B gives it in an artifact's storage). */
export const MANIFEST_FILE_NAME = 'wandb_manifest.json';

/** `artifacts/<name>/<version>`: `/` in a name would open namespaces W&B does not have, so it is kept as `_`. */
export function artifactBase(a: Pick<ArtifactVersion, 'name' | 'version'>): string {
  const seg = (s: string) => sanitizeSegment(s.replace(/\//g, '_'));
  return `artifacts/${seg(a.name)}/${seg(a.version)}`;
}

/** The path the stored entries land under: a file set (A) or the namespace of one file field per entry (B). */
export function artifactFilesPath(a: Pick<ArtifactVersion, 'name' | 'version'>): string {
  return `${artifactBase(a)}/files`;
}

export function artifactManifestPath(a: Pick<ArtifactVersion, 'name' | 'version'>): string {
  return `${artifactBase(a)}/manifest`;
}

/** The version's fields. Its size is an int where the target's range holds it (toAtom's rule). */
export function mapArtifactFields(a: ArtifactVersion, caps: TargetCapabilities): FieldAssignment[] {
  const base = artifactBase(a);
  const out: FieldAssignment[] = [
    { path: `${base}/type`, value: { type: 'string', value: a.type } },
    { path: `${base}/digest`, value: { type: 'string', value: a.digest } },
    { path: `${base}/aliases`, value: { type: 'stringSet', values: [...a.aliases].sort() } },
    { path: `${base}/size`, value: toAtom(a.size, caps.intRange) },
  ];
  if (a.description) out.push({ path: `${base}/description`, value: { type: 'string', value: a.description } });
  if (a.metadata && a.metadata !== '{}' && a.metadata !== 'null') out.push({ path: `${base}/metadata`, value: { type: 'string', value: a.metadata } });
  return out;
}

/** `artifacts/used`: every version the run used, as `name:version`; nothing when it used none. */
export function mapUsedArtifacts(used: readonly ArtifactVersion[]): FieldAssignment[] {
  if (used.length === 0) return [];
  const values = [...new Set(used.map((a) => `${a.name}:${a.version}`))].sort();
  return [{ path: USED_ARTIFACTS_PATH, value: { type: 'stringSet', values } }];
}

export interface PlannedEntry {
  entry: ArtifactEntry;
  /** Path inside the files set (A) / under the files namespace (B). */
  relativePath: string;
}

export interface ArtifactPlan {
  /** Stored entries to copy, in manifest order. */
  files: PlannedEntry[];
  /** The manifest as a file, when reference entries cannot be tracked otherwise. */
  manifestFile?: { path: string; relativePath: string };
  omissions: Omission[];
}

/**
 * Which entries of a version are copied, and what is said about the others. `maxBytes` (the size
 * limit the user gave) leaves out the entries bigger than it.
 */
export function planArtifact(a: ArtifactVersion, manifest: ArtifactManifest, caps: TargetCapabilities, maxBytes?: number): ArtifactPlan {
  const base = artifactBase(a);
  const files: PlannedEntry[] = [];
  const omissions: Omission[] = [];
  const refs: ArtifactEntry[] = [];
  const renamed = new Map<string, string>();
  for (const entry of manifest.entries) {
    const subject = `${base}/files/${entry.path}`;
    if (entry.ref !== undefined) {
      refs.push(entry);
      continue;
    }
    const rel = fileRelativePath(entry.path);
    if ('invalid' in rel) {
      omissions.push({ reason: 'invalid-path', subject, count: 1, detail: rel.invalid });
      continue;
    }
    if (entry.size === 0) {
      omissions.push({ reason: 'empty-file', subject, count: 1, detail: 'zero-byte artifact file' });
      continue;
    }
    if (maxBytes !== undefined && entry.size > maxBytes) {
      omissions.push({ reason: 'too-large', subject, count: 1, detail: `artifact file of ${entry.size} bytes, over the --artifact-max-size of ${maxBytes} bytes` });
      continue;
    }
    files.push({ entry, relativePath: rel.path });
    if (rel.renamed) renamed.set(entry.path, rel.renamed);
  }
  // Entries that come to one path (`a\b` and `a/b`) both land, one moved aside (mapping/files.ts); every
  // entry that does not land at its own name is a rename the report lists.
  const moved = distinctPaths(files.map((f) => ({ name: f.entry.path, set: '', path: f.relativePath })));
  for (const f of files) {
    const m = moved.get(f.entry.path);
    if (m) f.relativePath = m.path;
    const why = [renamed.get(f.entry.path), m?.why].filter((x) => x !== undefined).join('; ');
    if (why) omissions.push({ reason: 'renamed', subject: `${base}/files/${f.entry.path}`, count: 1, detail: `→ ${base}/files/${f.relativePath}: ${why}` });
  }
  if (refs.length === 0) return { files, omissions };
  const where = caps.files === 'file-sets' ? 'file set' : 'file';
  omissions.push({
    reason: 'unsupported-value',
    subject: `${base}/references`,
    count: refs.length,
    detail: `reference entries (${[...new Set(refs.map((r) => schemeOf(r.ref!)))].sort().join(', ')}) cannot be tracked by this Neptune server (no artifacts API: assignArtifact): kept in the version's manifest, the ${where} ${artifactManifestPath(a)}`,
  });
  return { files, omissions, manifestFile: { path: artifactManifestPath(a), relativePath: MANIFEST_FILE_NAME } };
}

function schemeOf(ref: string): string {
  const m = /^([a-z][a-z0-9+.-]*):\/\//i.exec(ref);
  return m ? `${m[1].toLowerCase()}://` : ref;
}
