/**
 * Decoders of the artifact records of a `.wandb` log (wandb/proto/wandb_internal.proto, wandb @ b6e2950):
 * `ArtifactRecord` (Record field 8): run_id=1, project=2, entity=3, type=4, name=5, digest=6,
 * description=7, metadata=8 (JSON text), aliases=11, manifest=12 → `ArtifactManifest` version=1,
 * storage_policy=2, contents=4 (`ArtifactManifestEntry` path=1, digest=2, ref=3, size=4, local_path=6),
 * manifest_file_path=5 (a gzipped JSON-lines file of entries, written instead of `contents` for large
 * manifests: wandb/sdk/interface/interface.py `_write_artifact_manifest_file`);
 * `UseArtifactRecord` (Record field 25): id=1, type=2, name=3.
 */
import type { BinaryReader } from '@bufbuild/protobuf/wire';
import { WireType } from '@bufbuild/protobuf/wire';
import { fields } from './proto.ts';

export interface ArtifactEntryMsg {
  path: string;
  digest: string;
  ref: string;
  size: number;
  localPath: string;
}

export interface ArtifactMsg {
  runId: string;
  project: string;
  entity: string;
  type: string;
  name: string;
  digest: string;
  description: string;
  metadata: string;
  aliases: string[];
  manifestVersion: number;
  storagePolicy: string;
  entries: ArtifactEntryMsg[];
  manifestFilePath: string;
}

export interface UseArtifactMsg {
  id: string;
  type: string;
  name: string;
}

const LEN = WireType.LengthDelimited;
const VAR = WireType.Varint;

export function decodeArtifact(r: BinaryReader): ArtifactMsg {
  const a: ArtifactMsg = {
    runId: '', project: '', entity: '', type: '', name: '', digest: '', description: '', metadata: '', aliases: [],
    manifestVersion: 0, storagePolicy: '', entries: [], manifestFilePath: '',
  };
  const strings: Record<number, 'runId' | 'project' | 'entity' | 'type' | 'name' | 'digest' | 'description' | 'metadata'> = {
    1: 'runId', 2: 'project', 3: 'entity', 4: 'type', 5: 'name', 6: 'digest', 7: 'description', 8: 'metadata',
  };
  fields(r, (no, wt) => {
    if (wt === LEN && strings[no]) a[strings[no]] = r.string();
    else if (no === 11 && wt === LEN) a.aliases.push(r.string());
    else if (no === 12 && wt === LEN) decodeManifest(r, a);
    else return false;
    return true;
  });
  return a;
}

function decodeManifest(r: BinaryReader, a: ArtifactMsg): void {
  fields(r, (no, wt) => {
    if (no === 1 && wt === VAR) a.manifestVersion = r.int32();
    else if (no === 2 && wt === LEN) a.storagePolicy = r.string();
    else if (no === 4 && wt === LEN) a.entries.push(decodeEntry(r));
    else if (no === 5 && wt === LEN) a.manifestFilePath = r.string();
    else return false;
    return true;
  });
}

function decodeEntry(r: BinaryReader): ArtifactEntryMsg {
  const e: ArtifactEntryMsg = { path: '', digest: '', ref: '', size: 0, localPath: '' };
  fields(r, (no, wt) => {
    if (no === 1 && wt === LEN) e.path = r.string();
    else if (no === 2 && wt === LEN) e.digest = r.string();
    else if (no === 3 && wt === LEN) e.ref = r.string();
    else if (no === 4 && wt === VAR) e.size = Number(r.int64());
    else if (no === 6 && wt === LEN) e.localPath = r.string();
    else return false;
    return true;
  });
  return e;
}

export function decodeUseArtifact(r: BinaryReader): UseArtifactMsg {
  const u: UseArtifactMsg = { id: '', type: '', name: '' };
  fields(r, (no, wt) => {
    if (wt !== LEN || no < 1 || no > 3) return false;
    const v = r.string();
    if (no === 1) u.id = v;
    else if (no === 2) u.type = v;
    else u.name = v;
    return true;
  });
  return u;
}
