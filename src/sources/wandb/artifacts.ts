/**
 * A run's artifacts through the W&B API, with the GraphQL the SDK sends (wandb/wandb @ b6e2950):
 * - `RunOutputArtifacts` / `RunInputArtifacts` with `ArtifactFragment`, Relay-paged by `pageInfo.endCursor`
 *   (tools/graphql_codegen/artifacts/artifacts.graphql; `logged_artifacts(per_page=100)`); nodes whose
 *   `artifactSequence.project` is null are skipped (wandb/apis/public/artifacts.py `RunArtifacts._convert`);
 * - the manifest: `FetchArtifactManifest` gives `currentManifest.file.directUrl`, a signed storage URL,
 *   fetched without credentials (wandb/sdk/artifacts/artifact.py `_fetch_manifest`);
 * - each stored entry's `directUrl` from `GetArtifactMembershipFileUrls` (artifact.py `_fetch_file_urls`,
 *   alias `v<n>`), streamed to disk and checked against the entry's digest, W&B's base64 MD5
 *   (wandb_storage_policy.py `load_file` keys its cache by that digest); a URL storage refuses (expired)
 *   is asked again by name (`ArtifactMembershipFiles`, as wandb_storage_policy.py `fetch_fresh_url`).
 */
import { readFile, rm } from 'node:fs/promises';
import { ArtifactEntryUnavailable, type ArtifactEntry, type ArtifactManifest, type ArtifactReader, type ArtifactVersion } from '../../core/artifacts.ts';
import { HttpError, isFileGone, SourceDataError } from '../../core/errors.ts';
import type { LocalFile, RunInfo } from '../../core/records.ts';
import { runPath } from '../../core/records.ts';
import type { HttpClient } from '../../http/client.ts';
import { downloadToFile, safeTempName, SignedUrlRefusedError, type Route } from './download.ts';
import type { GraphqlTransport } from './graphql.ts';

const ARTIFACT_FRAGMENT = `
fragment ProjectInfoFragment on Project { id internalId name entity { name } }
fragment SourceCollectionInfoFragment on ArtifactSequence { __typename name project { ...ProjectInfoFragment } }
fragment TagFragment on Tag { __typename id name }
fragment ArtifactAliasFragment on ArtifactAlias { __typename id alias }
fragment PageInfoFragment on PageInfo { __typename endCursor hasNextPage }
fragment ArtifactFragment on Artifact {
  __typename id artifactSequence { ...SourceCollectionInfoFragment } versionIndex artifactType { name }
  description metadata ttlDurationSeconds ttlIsInherited tags { ...TagFragment } historyStep state size digest
  commitHash fileCount createdAt updatedAt
  aliases @include(if: $includeAliases) { artifactCollection { __typename name } ...ArtifactAliasFragment }
}`;

const runArtifactsQuery = (op: string, field: 'outputArtifacts' | 'inputArtifacts') => `
query ${op}($entity: String!, $project: String!, $run: String!, $cursor: String, $perPage: Int, $includeAliases: Boolean = true) {
  project(entityName: $entity, name: $project) {
    run(name: $run) {
      artifacts: ${field}(after: $cursor, first: $perPage) {
        totalCount pageInfo { ...PageInfoFragment } edges { node { ...ArtifactFragment } }
      }
    }
  }
}
${ARTIFACT_FRAGMENT}`;

export const RUN_OUTPUT_ARTIFACTS = runArtifactsQuery('RunOutputArtifacts', 'outputArtifacts');
export const RUN_INPUT_ARTIFACTS = runArtifactsQuery('RunInputArtifacts', 'inputArtifacts');

export const FETCH_ARTIFACT_MANIFEST = `
query FetchArtifactManifest($id: ID!) {
  artifact(id: $id) { currentManifest { file { directUrl } } }
}`;

export const GET_ARTIFACT_MEMBERSHIP_FILE_URLS = `
query GetArtifactMembershipFileUrls($entity: String!, $project: String!, $collection: String!, $alias: String!, $cursor: String, $perPage: Int) {
  project(name: $project, entityName: $entity) {
    artifactCollection(name: $collection) {
      artifactMembership(aliasName: $alias) {
        files(after: $cursor, first: $perPage) {
          pageInfo { __typename endCursor hasNextPage }
          edges { node { __typename name directUrl } }
        }
      }
    }
  }
}`;

export const ARTIFACT_MEMBERSHIP_FILES = `
query ArtifactMembershipFiles($entity: String!, $project: String!, $collection: String!, $alias: String!, $fileNames: [String!], $cursor: String, $perPage: Int = 50) {
  project(name: $project, entityName: $entity) {
    artifactCollection(name: $collection) {
      artifactMembership(aliasName: $alias) {
        files(names: $fileNames, after: $cursor, first: $perPage) {
          pageInfo { __typename endCursor hasNextPage }
          edges { node { __typename name directUrl } }
        }
      }
    }
  }
}`;

interface ArtifactNode {
  id: string;
  artifactSequence: { name: string; project: { name: string; entity: { name: string } } | null } | null;
  versionIndex: number | null;
  artifactType: { name: string };
  description?: string | null;
  metadata?: string | null;
  size: number | string;
  digest: string;
  aliases?: Array<{ alias: string }>;
}
interface RunArtifactsData {
  project: { run: { artifacts: { pageInfo: { endCursor?: string | null; hasNextPage: boolean }; edges: Array<{ node: ArtifactNode | null }> } | null } | null } | null;
}
interface FileUrlsData {
  project: {
    artifactCollection: {
      artifactMembership: {
        files: { pageInfo: { endCursor?: string | null; hasNextPage: boolean }; edges: Array<{ node: { name: string; directUrl: string } | null }> } | null;
      } | null;
    } | null;
  } | null;
}

/** Where the API version of an artifact is: its id and the names its file queries take. */
interface ApiHandle {
  id: string;
  entity: string;
  project: string;
}

/** Refused signed URLs asked again before the entry counts as failed. */
const URL_REFRESHES = 2;
/** Files per `GetArtifactMembershipFileUrls` page (the SDK's default batch is larger; pages stay small here). */
const FILE_URLS_PAGE = 1000;

export interface WandbArtifactDeps {
  gql: GraphqlTransport;
  /** The client for signed storage URLs: never the W&B key. */
  storage: HttpClient;
  route: (url: string) => Route;
  tmp: () => Promise<string>;
}

export function wandbArtifacts(deps: WandbArtifactDeps): ArtifactReader {
  const { gql } = deps;
  const urls = new WeakMap<ArtifactVersion, Promise<Map<string, string>>>();
  // Signed URLs carry no credentials, even when storage shares the API host.
  const signed = (url: string) => (u: string): Route => (u === url ? { http: deps.storage, headers: {} } : deps.route(u));

  async function* versions(run: RunInfo, role: 'logged' | 'used', signal?: AbortSignal): AsyncGenerator<ArtifactVersion> {
    const { entity, project, runId } = run.key;
    const query = role === 'logged' ? RUN_OUTPUT_ARTIFACTS : RUN_INPUT_ARTIFACTS;
    const seen = new Set<string>();
    let cursor: string | null = null;
    for (;;) {
      const vars = { entity, project, run: runId, cursor, perPage: 100 };
      const data: RunArtifactsData = await gql.graphql<RunArtifactsData>(query, vars, `${role} artifacts of ${runPath(run.key)}`, signal);
      const conn = data.project?.run?.artifacts;
      if (!conn) return;
      for (const edge of conn.edges) {
        const v = edge.node && toVersion(edge.node);
        if (v && !seen.has(v.key)) {
          seen.add(v.key);
          yield v;
        }
      }
      const next = conn.pageInfo.endCursor ?? null;
      if (!conn.pageInfo.hasNextPage || !next || next === cursor) return;
      cursor = next;
    }
  }

  function fileUrls(a: ArtifactVersion, signal?: AbortSignal): Promise<Map<string, string>> {
    let p = urls.get(a);
    if (!p) {
      p = (async () => {
        const out = new Map<string, string>();
        let cursor: string | null = null;
        for (;;) {
          const page = await membershipFiles(a, GET_ARTIFACT_MEMBERSHIP_FILE_URLS, { cursor, perPage: FILE_URLS_PAGE }, signal);
          for (const e of page.edges) if (e.node) out.set(e.node.name, e.node.directUrl);
          const next = page.pageInfo.endCursor ?? null;
          if (!page.pageInfo.hasNextPage || !next || next === cursor) return out;
          cursor = next;
        }
      })();
      p.catch(() => urls.delete(a));
      urls.set(a, p);
    }
    return p;
  }

  async function membershipFiles(a: ArtifactVersion, query: string, extra: Record<string, unknown>, signal?: AbortSignal) {
    const h = a.handle as ApiHandle;
    const vars = { entity: h.entity, project: h.project, collection: a.name, alias: a.version, ...extra };
    const data = await gql.graphql<FileUrlsData>(query, vars, `files of artifact ${a.key}`, signal);
    const files = data.project?.artifactCollection?.artifactMembership?.files;
    if (!files) throw new SourceDataError(`artifact ${a.key}: W&B no longer lists its files`);
    return files;
  }

  return {
    logged: (run, signal) => versions(run, 'logged', signal),
    used: (run, signal) => versions(run, 'used', signal),

    async manifest(_run: RunInfo, a: ArtifactVersion, signal?: AbortSignal): Promise<ArtifactManifest> {
      const what = `manifest of artifact ${a.key}`;
      for (let refresh = 0; ; refresh++) {
        const data = await gql.graphql<{ artifact: { currentManifest: { file: { directUrl: string } } | null } | null }>(
          FETCH_ARTIFACT_MANIFEST, { id: (a.handle as ApiHandle).id }, what, signal);
        const url = data.artifact?.currentManifest?.file.directUrl;
        if (!url) throw new ArtifactEntryUnavailable(`W&B gives no manifest for the version`);
        try {
          const got = await downloadToFile({ url, route: signed(url), dir: await deps.tmp(), fileName: safeTempName('wandb_manifest.json'), what, signal });
          try {
            const json = await readFile(got.path, 'utf8');
            return { json, entries: parseManifest(json, what) };
          } finally {
            await rm(got.path, { force: true });
          }
        } catch (error) {
          // A manifest storage no longer has is a report line; other failures fail the run, which is tried again.
          if (error instanceof HttpError && isFileGone(error)) throw new ArtifactEntryUnavailable(`its manifest is gone from W&B storage (HTTP ${error.status})`);
          if (!(error instanceof SignedUrlRefusedError) || refresh >= URL_REFRESHES) throw error;
        }
      }
    },

    async fetchEntry(_run: RunInfo, a: ArtifactVersion, entry: ArtifactEntry, signal?: AbortSignal): Promise<LocalFile> {
      const what = `file ${entry.path} of artifact ${a.key}`;
      let url = (await fileUrls(a, signal)).get(entry.path);
      for (let refresh = 0; ; refresh++) {
        // Not among the version's files W&B lists: gone, as a run file W&B no longer lists is.
        if (!url) throw new ArtifactEntryUnavailable(`${what}: W&B lists no URL for it`);
        try {
          const got = await downloadToFile({
            url, route: signed(url), dir: await deps.tmp(), fileName: safeTempName(entry.path), expectedSize: entry.size, md5: entry.digest, what, signal,
          });
          return { path: got.path, sizeBytes: got.sizeBytes, release: () => rm(got.path, { force: true }) };
        } catch (error) {
          if (!(error instanceof SignedUrlRefusedError) || refresh >= URL_REFRESHES) throw error;
          const page = await membershipFiles(a, ARTIFACT_MEMBERSHIP_FILES, { fileNames: [entry.path], perPage: 1 }, signal);
          url = page.edges.find((e) => e.node?.name === entry.path)?.node?.directUrl;
        }
      }
    },
  };
}

function toVersion(n: ArtifactNode): ArtifactVersion | undefined {
  const seq = n.artifactSequence;
  if (!seq?.project || n.versionIndex == null) return undefined;
  const entity = seq.project.entity.name;
  const project = seq.project.name;
  const version = `v${n.versionIndex}`;
  return {
    key: `${entity}/${project}/${seq.name}:${version}`,
    name: seq.name,
    version,
    type: n.artifactType.name,
    digest: n.digest,
    // `v<n>` is the version itself, not an alias a user gave: the SDK keeps the two apart too
    // (artifact.py `_assign_attrs`: `filterfalse(alias_is_version_index, aliases)`).
    aliases: [...new Set((n.aliases ?? []).map((x) => x.alias).filter((x) => x !== version))],
    size: Number(n.size),
    description: n.description ?? undefined,
    metadata: n.metadata ?? undefined,
    handle: { id: n.id, entity, project } satisfies ApiHandle,
  };
}

/** `wandb_manifest.json` (artifact_manifest_v1.py `to_manifest_json`): `contents` maps each path to its entry. */
export function parseManifest(json: string, what: string): ArtifactEntry[] {
  let m: { version?: unknown; contents?: Record<string, { digest?: unknown; size?: unknown; ref?: unknown }> };
  try {
    m = JSON.parse(json) as typeof m;
  } catch (error) {
    throw new SourceDataError(`${what} is not JSON: ${(error as Error).message}`);
  }
  if (m.version !== 1 || !m.contents || typeof m.contents !== 'object') throw new SourceDataError(`${what}: not a version-1 manifest`);
  return Object.entries(m.contents).map(([path, e]) => ({
    path,
    digest: String(e.digest ?? ''),
    size: Number(e.size ?? 0),
    ...(typeof e.ref === 'string' && e.ref ? { ref: e.ref } : {}),
  }));
}
