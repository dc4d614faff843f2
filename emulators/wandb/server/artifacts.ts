/**
 * Artifacts as the W&B API serves them to the SDK (wandb/wandb @ b6e2950):
 * - `Run.outputArtifacts` / `Run.inputArtifacts`, Relay-paged (tools/graphql_codegen/artifacts/
 *   artifacts.graphql `RunOutputArtifacts`, `RunInputArtifacts` with `ArtifactFragment`);
 * - `artifact(id) { currentManifest { file { directUrl } } }` (same file, `FetchArtifactManifest`):
 *   the manifest JSON is fetched from that signed URL (wandb/sdk/artifacts/artifact.py `_fetch_manifest`);
 * - `project.artifactCollection(name).artifactMembership(aliasName).files(names, after, first)`
 *   (tools/graphql_codegen/artifacts/artifact_files.graphql `GetArtifactMembershipFileUrls`,
 *   `ArtifactMembershipFiles`): each stored entry's `directUrl`, a signed storage URL, as run files have
 *   (artifact.py `_download` sets `entry._download_url = node.direct_url`; a refused URL is listed again
 *   by name: wandb_storage_policy.py `fetch_fresh_url`). Reference entries hold no bytes in W&B
 *   storage: they are in the manifest only.
 */
import type { GenArtifact, GenArtifactEntry } from '../generator/artifacts.ts';
import { artifactDigest, artifactId, artifactSize, entryDigest, entrySize, manifestJson } from '../generator/artifacts.ts';
import { paginate, type PageArgs } from './connection.ts';
import type { Core } from './core.ts';
import { chunkSource, type BodySource } from './storage.ts';

const enc = encodeURIComponent;
const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

function storagePath(a: GenArtifact, rest: string): string {
  return `/_storage/artifacts/${enc(a.project)}/${enc(a.name)}/v${a.versionIndex}/${rest}`;
}


const stored = (a: GenArtifact): GenArtifactEntry[] => a.entries.filter((e) => e.file);

/** The versions a run logged (`output`) or used (`input`), in creation order. */
export function runArtifacts(core: Core, project: string, runId: string, role: 'output' | 'input'): GenArtifact[] {
  return (core.entity.artifacts ?? []).filter((a) => a.project === project && (role === 'output' ? a.loggedBy === runId : a.usedBy.includes(runId)));
}

export function artifactConnection(core: Core, list: GenArtifact[], args: PageArgs, projectNode: (name: string) => unknown): unknown {
  return paginate('artifact', list, args, 50, (a) => new ArtifactNode(core, a, projectNode));
}

export function artifactById(core: Core, id: string, projectNode: (name: string) => unknown): ArtifactNode | null {
  const a = (core.entity.artifacts ?? []).find((x) => artifactId(x) === id);
  return a ? new ArtifactNode(core, a, projectNode) : null;
}

const versionsOf = (core: Core, project: string, name: string): GenArtifact[] =>
  (core.entity.artifacts ?? []).filter((a) => a.project === project && a.name === name);

/** The version of a collection an alias names: `v<index>` or one of its aliases (`latest`, `best`). */
function byAlias(versions: GenArtifact[], alias: string): GenArtifact | undefined {
  return versions.find((v) => `v${v.versionIndex}` === alias || v.aliases.includes(alias));
}

/**
 * `project.artifact(name: "<collection>:<alias>")`: how the SDK opens an artifact by name —
 * `api.artifact("e/p/name:v0")` (wandb 0.17.9 wandb/sdk/artifacts/artifact.py `_from_name`, query
 * `ArtifactByName`; wandb 0.26.1 the same through `wandb/sdk/artifacts/_generated/artifact_by_name.py`)
 * and `artifact.manifest` (0.17.9 artifact.py `manifest`, query `ArtifactManifest`). The name always
 * carries an alias or version there (the public API adds `:latest` when none is given: 0.17.9
 * wandb/apis/public/api.py `_artifact`); without one nothing is found (null, as for any unknown name).
 */
export function artifactByName(core: Core, project: string, name: string, projectNode: (name: string) => unknown): ArtifactNode | null {
  const colon = name.lastIndexOf(':');
  if (colon <= 0) return null;
  const a = byAlias(versionsOf(core, project, name.slice(0, colon)), name.slice(colon + 1));
  return a ? new ArtifactNode(core, a, projectNode) : null;
}

/** `project.artifactCollection(name)`: null when the project has no such collection. */
export function artifactCollection(core: Core, project: string, name: string, projectNode: (name: string) => unknown): unknown {
  const versions = versionsOf(core, project, name);
  if (versions.length === 0) return null;
  return {
    __typename: 'ArtifactSequence', id: b64(`ArtifactSequence:${project}/${name}`), name, description: null, createdAt: versions[0].createdAt,
    updatedAt: versions[versions.length - 1].createdAt,
    defaultArtifactType: () => artifactType(core, project, versions[0].type, projectNode),
    project: () => projectNode(project),
    // `api.artifact_collection(type, name)` (wandb 0.17.9 wandb/apis/public/artifacts.py
    // ArtifactCollection.load: `tags { edges { node } }`, `aliases(after, first)`): every alias of
    // every version, `v<n>` included, as `Artifact.aliases` lists them (the SDK filters those out).
    tags: { pageInfo: { endCursor: null, hasNextPage: false }, edges: [] },
    // `collection.artifacts()` (0.17.9 wandb/apis/public/artifacts.py `Artifacts`, filters
    // `{"state": "COMMITTED"}`): every version here is committed; edges carry `version` (`v<n>`).
    artifacts: (args: PageArgs & { filters?: string | null }) => {
      const state = args.filters ? (JSON.parse(args.filters) as { state?: unknown }).state : undefined;
      const list = state === undefined || state === 'COMMITTED' ? versions : [];
      const page = paginate('artifact', list, args, 50, (v) => new ArtifactNode(core, v, projectNode)) as { edges: { node: ArtifactNode }[] };
      for (const e of page.edges) Object.assign(e, { version: `v${e.node.versionIndex}` });
      return page;
    },
    aliases: (args: PageArgs) => paginate('alias', versions.flatMap((v) => new ArtifactNode(core, v, projectNode).aliases), args, 1000, (x) => x),
    artifactMembership: (args: { aliasName: string }) => {
      const a = byAlias(versions, args.aliasName);
      return a ? membership(core, a, projectNode) : null;
    },
  };
}

/**
 * `project.artifactType(name)` / `project.artifactTypes`: the types the project's versions have, named
 * by the versions (wandb 0.17.9 wandb/apis/public/artifacts.py `ProjectArtifactTypes`,
 * `ArtifactCollection.load`; artifact.py `files()` asks `artifactType(name).artifact(name)`, query
 * `ArtifactFiles`). Null for a type no version of the project has.
 */
export function artifactType(core: Core, project: string, type: string, projectNode: (name: string) => unknown): unknown {
  const versions = (core.entity.artifacts ?? []).filter((a) => a.project === project && a.type === type);
  if (versions.length === 0) return null;
  const inType = (name: string) => (versions.some((v) => v.name === name) ? artifactCollection(core, project, name, projectNode) : null);
  return {
    id: b64(`ArtifactType:${type}`), name: type, description: null, createdAt: versions[0].createdAt, project: () => projectNode(project),
    artifact: (args: { name: string }) => {
      const a = artifactByName(core, project, args.name, projectNode);
      return a && a.typeName === type ? a : null;
    },
    artifactCollection: (args: { name: string }) => inType(args.name),
    artifactSequence: (args: { name: string }) => inType(args.name),
  };
}

export function artifactTypes(core: Core, project: string, args: PageArgs, projectNode: (name: string) => unknown): unknown {
  const types = [...new Set((core.entity.artifacts ?? []).filter((a) => a.project === project).map((a) => a.type))];
  return paginate('artifactType', types, args, 50, (t) => artifactType(core, project, t, projectNode));
}

function membership(core: Core, a: GenArtifact, projectNode: (name: string) => unknown): unknown {
  const node = new ArtifactNode(core, a, projectNode);
  return {
    id: b64(`ArtifactCollectionMembership:${a.project}/${a.name}:v${a.versionIndex}`), versionIndex: a.versionIndex, createdAt: a.createdAt,
    commitHash: node.commitHash, aliases: node.aliases, artifactCollection: node.artifactSequence, artifact: node,
    files: (args: FileArgs) => storedFiles(core, a, args),
  };
}

type FileArgs = PageArgs & { names?: string[] | null };

/** The stored entries of a version as a `FileConnection` (reference entries have no file in W&B). */
function storedFiles(core: Core, a: GenArtifact, args: FileArgs): unknown {
  let list = stored(a);
  if (args.names?.length) list = list.filter((e) => args.names!.includes(e.path));
  const stale = core.staleUrls(`artifactFiles:${a.project}/${a.name}:v${a.versionIndex}`);
  return paginate('file', list, args, 50, (e) => fileNode(core, a, e, stale));
}

function fileNode(core: Core, a: GenArtifact, e: GenArtifactEntry, stale: boolean): unknown {
  const path = storagePath(a, `files/${e.path.split('/').map(enc).join('/')}`);
  return {
    id: b64(`File:${artifactId(a)}:${e.path}`), name: e.path, displayName: e.path, url: null,
    directUrl: core.storageUrl() + core.signer.sign(path, stale), sizeBytes: entrySize(e), storagePath: path.slice(1),
    mimetype: e.file?.mimetype ?? null, updatedAt: a.createdAt, digest: entryDigest(e), md5: entryDigest(e),
  };
}

export class ArtifactNode {
  constructor(private readonly core: Core, private readonly a: GenArtifact, private readonly projectNode: (name: string) => unknown) {}
  get id(): string { return artifactId(this.a); }
  get digest(): string { return artifactDigest(this.a); }
  get description(): string | null { return this.a.description ?? null; }
  get commitHash(): string { return this.digest.slice(0, 20); }
  get versionIndex(): number { return this.a.versionIndex; }
  get metadata(): string { return JSON.stringify(this.a.metadata ?? {}); }
  get state(): string { return 'COMMITTED'; }
  get size(): number { return artifactSize(this.a); }
  get fileCount(): number { return this.a.entries.length; }
  get artifactType(): unknown { return { id: b64(`ArtifactType:${this.a.type}`), name: this.a.type }; }
  get typeName(): string { return this.a.type; }
  /**
   * `artifact(id).files(after, first)`: how wandb 0.17.9 `Artifact.download()` lists the entries'
   * signed URLs (wandb/sdk/artifacts/artifact.py `_fetch_file_urls`, query `ArtifactFileURLs`), and
   * `artifact.files()` (`ArtifactFiles`, through `artifactType(name).artifact(name)`).
   */
  files(args: FileArgs): unknown { return storedFiles(this.core, this.a, args); }
  /** `artifact.logged_by()`: the logging run (0.17.9 artifact.py `logged_by`, query `ArtifactCreatedBy`; `Initiator = Run | User`). */
  createdBy(): unknown {
    const run = (this.projectNode(this.a.project) as { run(args: { name: string }): object | null } | null)?.run({ name: this.a.loggedBy });
    return run ? Object.assign(Object.create(run) as object, { __typename: 'Run' }) : null;
  }
  get createdAt(): string { return this.a.createdAt; }
  get updatedAt(): string { return this.a.createdAt; }
  get ttlDurationSeconds(): number { return -1; }
  get ttlIsInherited(): boolean { return true; }
  get historyStep(): number | null { return null; }
  get tags(): unknown[] { return []; }
  get artifactSequence(): unknown {
    const { project, name, createdAt } = this.a;
    return { __typename: 'ArtifactSequence', id: b64(`ArtifactSequence:${project}/${name}`), name, description: null, createdAt, project: () => this.projectNode(project) };
  }
  /** `v<index>` is an alias like the others (the SDK's `aliases` include it). */
  get aliases(): unknown[] {
    return [`v${this.a.versionIndex}`, ...this.a.aliases].map((alias) => ({
      id: b64(`ArtifactAlias:${this.id}:${alias}`), alias, artifactCollection: this.artifactSequence, artifactCollectionName: this.a.name,
    }));
  }
  get currentManifest(): unknown {
    const path = storagePath(this.a, 'manifest');
    const stale = this.core.staleUrls(`artifactManifest:${this.id}`);
    const json = manifestJson(this.a);
    return {
      id: b64(`ArtifactManifest:${this.id}`), type: 'FULL', createdAt: this.a.createdAt, digest: this.digest,
      file: {
        id: b64(`File:${this.id}:wandb_manifest.json`), name: 'wandb_manifest.json', displayName: 'wandb_manifest.json', url: null,
        directUrl: this.core.storageUrl() + this.core.signer.sign(path, stale), sizeBytes: Buffer.byteLength(json), storagePath: path.slice(1),
        mimetype: 'application/json', updatedAt: this.a.createdAt, digest: null, md5: null,
      },
    };
  }
}

/** The body behind an artifact storage path (`<project>/<name>/v<n>/manifest` or `…/files/<path>`); undefined = 404. */
export function artifactBody(core: Core, parts: string[]): BodySource | undefined {
  const [project, name, version, kind, ...rest] = parts.map(decodeURIComponent);
  const a = (core.entity.artifacts ?? []).find((x) => x.project === project && x.name === name && `v${x.versionIndex}` === version);
  if (!a) return undefined;
  if (kind === 'manifest' && rest.length === 0) {
    const json = Buffer.from(manifestJson(a));
    return chunkSource(json.length, 'application/json', () => json);
  }
  const e = kind === 'files' ? stored(a).find((x) => x.path === rest.join('/')) : undefined;
  return e?.file && chunkSource(e.file.sizeBytes, e.file.mimetype ?? 'application/octet-stream', e.file.content);
}

/**
 * `/artifactsV2/<region>/<entity>/<birthArtifactID>/<md5 hex>` (see `manifestJson`): the storage path
 * of the stored entry with that MD5 in the version that stored it; undefined = 404. The API answers it
 * as `/files/…`: Basic auth, then a redirect to a signed storage URL.
 */
export function artifactV2Path(core: Core, entity: string, birthId: string, md5Hex: string): string | undefined {
  if (entity !== core.entity.name) return undefined;
  const a = (core.entity.artifacts ?? []).find((x) => artifactId(x) === birthId);
  const e = a && stored(a).find((x) => Buffer.from(entryDigest(x), 'base64').toString('hex') === md5Hex);
  return a && e ? storagePath(a, `files/${e.path.split('/').map(enc).join('/')}`) : undefined;
}
