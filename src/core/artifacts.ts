/**
 * W&B artifacts as the pipeline sees them, whichever source read them (the API's `run.loggedArtifacts`
 * / `usedArtifacts`, or the artifact records of a run folder's `.wandb` log). Plain data, no I/O.
 */
import type { LocalFile, RunInfo } from './records.ts';

/** One artifact version: a collection name and a version (`model:v3`). */
export interface ArtifactVersion {
  /**
   * The version's identity across runs and passes (the ledger's key): `entity/project/name:version`
   * from the API; run folders, which do not know the version W&B gives, use the manifest digest.
   */
  key: string;
  /** Collection name (`artifactSequence.name`), e.g. `mnist-model`. */
  name: string;
  /** `v<versionIndex>` from the API. */
  version: string;
  type: string;
  /** The artifact digest (hex MD5 over the manifest's `path:digest` lines). */
  digest: string;
  aliases: string[];
  /** Bytes of the version's entries, as W&B counts them. */
  size: number;
  description?: string;
  /** The metadata as its JSON text. */
  metadata?: string;
  /** Where the source reads it from: the API's artifact id, or the run folder's record. */
  handle: unknown;
}

/** One entry of an artifact's manifest (wandb `ArtifactManifestEntry`). */
export interface ArtifactEntry {
  /** Path inside the artifact (`model/weights.bin`). */
  path: string;
  /** Base64 MD5 for files W&B stores; for reference entries the digest the reference handler chose (an ETag, …). */
  digest: string;
  size: number;
  /** Set for reference entries: `s3://…`, `gs://…`, `https://…`, `file://…`. W&B holds no bytes for them. */
  ref?: string;
}

export interface ArtifactManifest {
  entries: ArtifactEntry[];
  /** The manifest as W&B serves it (`wandb_manifest.json`), kept as a file when its references cannot be tracked. */
  json: string;
}

/** An entry the source cannot give (a run folder whose artifact file is no longer on disk). */
export class ArtifactEntryUnavailable extends Error {}

/** What a source offers of a run's artifacts. */
export interface ArtifactReader {
  /** Versions the run logged (`run.logged_artifacts()`), each once. */
  logged(run: RunInfo, signal?: AbortSignal): AsyncIterable<ArtifactVersion>;
  /** Versions the run used (`run.used_artifacts()`), each once. */
  used(run: RunInfo, signal?: AbortSignal): AsyncIterable<ArtifactVersion>;
  manifest(run: RunInfo, artifact: ArtifactVersion, signal?: AbortSignal): Promise<ArtifactManifest>;
  /**
   * Makes a stored entry's bytes available on disk, streamed and verified against its digest (W&B's
   * base64 MD5). Throws ArtifactEntryUnavailable when the source does not have it.
   */
  fetchEntry(run: RunInfo, artifact: ArtifactVersion, entry: ArtifactEntry, signal?: AbortSignal): Promise<LocalFile>;
}
