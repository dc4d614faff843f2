/**
 * Artifacts the emulator serves: versions with aliases, metadata, stored files and reference entries,
 * logged by one run and used by others. The digest rules are the SDK's:
 * - a stored entry's digest is the base64 MD5 of its bytes (wandb/sdk/lib/hashutil.py `md5_file_b64`);
 * - the artifact digest is the hex MD5 of `wandb-artifact-manifest-v1\n` then `path:digest\n` per entry
 *   in path order (wandb/sdk/artifacts/artifact_manifests/artifact_manifest_v1.py `digest`);
 * - the manifest JSON is `{version, storagePolicy, storagePolicyConfig, contents: {path: {digest, size, ref?}}}`
 *   (artifact_manifest_v1.py `to_manifest_json`).
 */
import { createHash } from 'node:crypto';
import { bufferFile, streamFile } from './files.ts';
import type { GenEntity, GenFile } from './types.ts';

export interface GenArtifactEntry {
  path: string;
  /** The bytes W&B stores for the entry; absent for a reference entry. */
  file?: GenFile;
  /** A reference entry (`s3://…`, `gs://…`, `https://…`): W&B keeps only the URI, digest and size. */
  ref?: string;
  /** For a reference entry: the digest its handler recorded (an ETag). */
  refDigest?: string;
  refSize?: number;
}

export interface GenArtifact {
  project: string;
  /** Collection name (`artifactSequence.name`). */
  name: string;
  type: string;
  versionIndex: number;
  description?: string;
  metadata?: Record<string, unknown>;
  /** Aliases besides `v<versionIndex>` (`latest`, `best`). */
  aliases: string[];
  createdAt: string;
  entries: GenArtifactEntry[];
  /** Run id of the run that logged the version. */
  loggedBy: string;
  /** Run ids of the runs that used it. */
  usedBy: string[];
}

export function entryDigest(e: GenArtifactEntry): string {
  return e.file ? e.file.md5 : (e.refDigest ?? '');
}

export function entrySize(e: GenArtifactEntry): number {
  return e.file ? e.file.sizeBytes : (e.refSize ?? 0);
}

export function artifactDigest(a: GenArtifact): string {
  const h = createHash('md5').update('wandb-artifact-manifest-v1\n');
  for (const e of [...a.entries].sort((x, y) => (x.path < y.path ? -1 : x.path > y.path ? 1 : 0))) h.update(`${e.path}:${entryDigest(e)}\n`);
  return h.digest('hex');
}

export function artifactSize(a: GenArtifact): number {
  return a.entries.reduce((n, e) => n + entrySize(e), 0);
}

/** The version's GraphQL id (`Artifact.id`), also the `birthArtifactID` of the entries it stored. */
export function artifactId(a: GenArtifact): string {
  return Buffer.from(`Artifact:${a.project}/${a.name}:v${a.versionIndex}`, 'utf8').toString('base64');
}

/**
 * A stored entry names the version that stored its bytes (`birthArtifactID`, written by
 * artifact_manifest_v1.py `to_manifest_json` when set): without a download URL the SDK fetches it at
 * `<base>/artifactsV2/<region>/<entity>/<birthArtifactID>/<md5 hex>` (wandb 0.17.9
 * wandb/sdk/artifacts/storage_policies/wandb_storage_policy.py `_file_url`, `load_file`). Every
 * generated version stores its own bytes, so the birth id is its own id.
 */
export function manifestJson(a: GenArtifact): string {
  const contents: Record<string, unknown> = {};
  for (const e of a.entries) {
    contents[e.path] = { digest: entryDigest(e), ...(e.file ? { birthArtifactID: artifactId(a) } : {}), size: entrySize(e), ...(e.ref ? { ref: e.ref } : {}) };
  }
  return JSON.stringify({ version: 1, storagePolicy: 'wandb-storage-policy-v1', storagePolicyConfig: { storageLayout: 'V2', storageRegion: 'default' }, contents });
}

/** Bytes in 64 KiB chunks, derived from `seed`: a file big enough to stream, never held whole. */
export function patternFile(path: string, bytes: number, seed: number): GenFile {
  return streamFile(path, function* () {
    const block = Buffer.alloc(65536);
    for (let i = 0; i < block.length; i++) block[i] = (i * 31 + seed * 7) & 0xff;
    for (let sent = 0; sent < bytes; sent += block.length) yield block.subarray(0, Math.min(block.length, bytes - sent));
  });
}

/**
 * all-shapes: a run logs `dataset:v0` (stored files and one reference entry of each scheme) and two
 * versions of `model` (v1 `latest`/`best`); `dataset:v0` is used by several other runs of its project.
 * The logging run is the media run when the entity has one (it carries every kind of thing a run can
 * hold), else the fully exported run.
 */
export function withArtifacts(entity: GenEntity): GenEntity {
  const owners = ['media-everything', 'finished-full-export'];
  const project = owners.map((n) => entity.projects.find((p) => p.runs.some((r) => r.displayName === n))).find((p) => p !== undefined);
  if (!project) return entity;
  const logger = owners.map((n) => project.runs.find((r) => r.displayName === n)).find((r) => r !== undefined)!;
  const users = project.runs.filter((r) => r !== logger).slice(0, 3).map((r) => r.id);
  const at = logger.createdAt;
  const artifacts: GenArtifact[] = [
    {
      project: project.name, name: 'training-data', type: 'dataset', versionIndex: 0, description: 'train/val split, images by reference',
      metadata: { rows: 3, source: 'synthetic', split: { train: 0.8, val: 0.2 } }, aliases: ['latest'], createdAt: at,
      entries: [
        { path: 'train.csv', file: bufferFile('train.csv', 'id,label\n1,cat\n2,dog\n') },
        { path: 'val/val.csv', file: bufferFile('val/val.csv', 'id,label\n3,bird\n') },
        { path: 'images/s3.png', ref: 's3://example-bucket/images/0001.png', refDigest: '"9b2cf535f27731c974343645a3985328"', refSize: 1024 },
        { path: 'images/gs.png', ref: 'gs://example-bucket/images/0002.png', refDigest: 'XUFAKrxLKna5cZ2REBfFkg==', refSize: 2048 },
        { path: 'labels.json', ref: 'https://example.invalid/labels.json', refDigest: 'https://example.invalid/labels.json', refSize: 0 },
      ],
      loggedBy: logger.id, usedBy: users,
    },
    {
      project: project.name, name: 'model', type: 'model', versionIndex: 0, metadata: { epoch: 1 }, aliases: [], createdAt: at,
      entries: [{ path: 'model.bin', file: patternFile('model.bin', 70_000, 1) }],
      loggedBy: logger.id, usedBy: [],
    },
    {
      project: project.name, name: 'model', type: 'model', versionIndex: 1, description: 'best checkpoint', metadata: { epoch: 2, 'val/acc': 0.91 },
      aliases: ['latest', 'best'], createdAt: at,
      entries: [{ path: 'model.bin', file: patternFile('model.bin', 150_000, 2) }, { path: 'config/params.yaml', file: bufferFile('config/params.yaml', 'lr: 0.001\n') }],
      loggedBy: logger.id, usedBy: [],
    },
  ];
  return { ...entity, artifacts: [...(entity.artifacts ?? []), ...artifacts] };
}
