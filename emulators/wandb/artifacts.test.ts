/**
 * The artifacts the emulator serves, asked as the SDK asks (wandb @ b6e2950
 * tools/graphql_codegen/artifacts/{artifacts,artifact_files}.graphql): a run's logged and used versions
 * paged one by one, the manifest behind its signed URL, each stored file behind its own, and a signed
 * URL handed out expired refused by storage.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { artifactDigest, artifactSize, manifestJson } from './generator/artifacts.ts';
import { generateEntity } from './generator/generate.ts';
import { startWandbEmulator, type WandbEmulator } from './server/http.ts';
import { gql, KEY } from './test-helpers.ts';

const entity = generateEntity({ seed: 7, preset: 'all-shapes' });
const ENT = entity.name;
const arts = entity.artifacts!;
const PROJECT = arts[0].project;
let emu: WandbEmulator;
beforeAll(async () => {
  emu = await startWandbEmulator({ apiKeys: [KEY], entity });
});
afterAll(async () => emu.close());

const RUN_ARTIFACTS = (field: string) => `query RunArtifacts($entity: String!, $project: String!, $run: String!, $cursor: String, $perPage: Int, $includeAliases: Boolean = true) {
  project(entityName: $entity, name: $project) { run(name: $run) { artifacts: ${field}(after: $cursor, first: $perPage) {
    totalCount pageInfo { __typename endCursor hasNextPage }
    edges { node { __typename id versionIndex digest size fileCount description metadata state historyStep tags { id name }
      artifactType { name } artifactSequence { __typename name project { id internalId name entity { name } } }
      aliases @include(if: $includeAliases) { artifactCollection { __typename name } __typename id alias } } } } } } }`;
const MANIFEST = `query FetchArtifactManifest($id: ID!) { artifact(id: $id) { currentManifest { file { directUrl } } } }`;
const FILE_URLS = `query GetArtifactMembershipFileUrls($entity: String!, $project: String!, $collection: String!, $alias: String!, $names: [String!], $cursor: String, $perPage: Int) {
  project(name: $project, entityName: $entity) { artifactCollection(name: $collection) { artifactMembership(aliasName: $alias) {
    files(names: $names, after: $cursor, first: $perPage) { pageInfo { endCursor hasNextPage } edges { node { name directUrl md5 sizeBytes } } } } } } }`;

async function paged(field: string, run: string): Promise<Array<Record<string, any>>> {
  const out: Array<Record<string, any>> = [];
  let cursor: string | null = null;
  for (;;) {
    const res = await gql(emu, RUN_ARTIFACTS(field), { entity: ENT, project: PROJECT, run, cursor, perPage: 1 });
    expect(res.body.errors).toBeUndefined();
    const conn = res.body.data!.project.run.artifacts;
    out.push(...conn.edges.map((e: { node: Record<string, any> }) => e.node));
    if (!conn.pageInfo.hasNextPage) return out;
    cursor = conn.pageInfo.endCursor;
  }
}

describe('artifacts (the SDK\'s queries)', () => {
  it('logged versions page one at a time, with digest, size, aliases and type as generated', async () => {
    const logger = arts[0].loggedBy;
    const nodes = await paged('outputArtifacts', logger);
    const mine = arts.filter((a) => a.loggedBy === logger);
    expect(nodes.map((n) => [n.artifactSequence.name, n.versionIndex, n.artifactType.name, n.digest, n.size, n.state])).toEqual(
      mine.map((a) => [a.name, a.versionIndex, a.type, artifactDigest(a), artifactSize(a), 'COMMITTED']),
    );
    expect(nodes.map((n) => n.aliases.map((x: { alias: string }) => x.alias))).toEqual(mine.map((a) => [`v${a.versionIndex}`, ...a.aliases]));
    expect(nodes[0].artifactSequence.project.entity.name).toBe(ENT);
  });

  it('used versions are listed for each run that used them', async () => {
    const used = arts.find((a) => a.usedBy.length > 1)!;
    for (const run of used.usedBy) expect((await paged('inputArtifacts', run)).map((n) => n.digest)).toEqual([artifactDigest(used)]);
  });

  it('the manifest and every stored file come from signed storage URLs without credentials; an expired URL is refused', async () => {
    const a = arts[0];
    const [node] = (await paged('outputArtifacts', a.loggedBy)).filter((n) => n.artifactSequence.name === a.name);
    const m = await gql(emu, MANIFEST, { id: node.id });
    const url: string = m.body.data!.artifact.currentManifest.file.directUrl;
    expect(url.startsWith(emu.storageUrl)).toBe(true);
    expect(await (await fetch(url)).text()).toBe(manifestJson(a));
    const files = await gql(emu, FILE_URLS, { entity: ENT, project: PROJECT, collection: a.name, alias: `v${a.versionIndex}`, perPage: 100 });
    const listed = files.body.data!.project.artifactCollection.artifactMembership.files.edges.map((e: { node: Record<string, any> }) => e.node);
    // Reference entries hold no bytes in W&B storage: only stored files are listed.
    expect(listed.map((f: { name: string }) => f.name)).toEqual(a.entries.filter((e) => e.file).map((e) => e.path));
    for (const f of listed) {
      const bytes = Buffer.from(await (await fetch(f.directUrl)).arrayBuffer());
      expect(createHash('md5').update(bytes).digest('base64')).toBe(f.md5);
    }
    emu.setFaults({ staleFirstUrls: true });
    const stale = await gql(emu, FILE_URLS, { entity: ENT, project: PROJECT, collection: a.name, alias: 'latest', names: [listed[0].name], perPage: 1 });
    const staleUrl: string = stale.body.data!.project.artifactCollection.artifactMembership.files.edges[0].node.directUrl;
    expect((await fetch(staleUrl)).status).toBe(403);
    emu.setFaults(undefined);
  });
});
