/**
 * The official W&B SDK against the emulator's artifacts, replayed without Python: the exact GraphQL
 * documents, variables and headers wandb 0.17.9 sent for `api.artifact("e/p/name:v0")`,
 * `artifact.manifest`, `logged_by()`, `files()`, `download()`, `api.artifact_types()`,
 * `api.artifact_collection()` and `collection.artifacts()` (recorded by hand against
 * `npm run emulator:wandb -- --preset all-shapes --seed 1`; each was refused as an unknown field
 * before the emulator served it), and the SDK's fallback download of one entry through
 * `/artifactsV2/<region>/<entity>/<birthArtifactID>/<md5 hex>`
 * (wandb/sdk/artifacts/storage_policies/wandb_storage_policy.py `_file_url`).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { artifactId, manifestJson, type GenArtifact } from '../../emulators/wandb/generator/artifacts.ts';
import { generateEntity } from '../../emulators/wandb/generator/generate.ts';
import { startWandbEmulator, type WandbEmulator } from '../../emulators/wandb/server/http.ts';
import { basic, KEY } from '../../emulators/wandb/test-helpers.ts';

interface Recorded { headers: Record<string, string>; query: string; variables: Record<string, unknown> }
const load = (file: string) => (JSON.parse(readFileSync(new URL(file, import.meta.url), 'utf8')) as { requests: Record<string, Recorded> }).requests;
const recorded = { requests: load('./wandb-0.17.9-artifact-requests.json') };
/** What wandb 0.26.1 sent differently (its generated queries); the rest of its artifact calls were answered as 0.17.9's. */
const recorded026 = load('./wandb-0.26.1-artifact-requests.json');

// The seed and preset the requests were recorded against: same names, same artifact ids.
const entity = generateEntity({ seed: 1, preset: 'all-shapes' });
const arts = entity.artifacts!;
const find = (name: string, v: number): GenArtifact => arts.find((a) => a.name === name && a.versionIndex === v)!;
let emu: WandbEmulator;
beforeAll(async () => {
  emu = await startWandbEmulator({ apiKeys: [KEY], entity });
});
afterAll(async () => emu.close());

// `any` at a parsing boundary: the answers are walked by the shape each query selects.
async function replay(op: string, variables?: Record<string, unknown>, from = recorded.requests): Promise<Record<string, any>> {
  const r = from[op];
  const res = await fetch(`${emu.url}/graphql`, {
    method: 'POST',
    headers: { ...r.headers, 'Content-Type': 'application/json', Authorization: basic(KEY) },
    body: JSON.stringify({ query: r.query, variables: variables ?? r.variables }),
  });
  expect(res.status).toBe(200);
  const body = (await res.json()) as { data?: Record<string, any>; errors?: unknown[] };
  expect(body.errors).toBeUndefined();
  return body.data!;
}

const md5b64 = (b: Buffer) => createHash('md5').update(b).digest('base64');
const bytes = async (url: string, init?: RequestInit) => Buffer.from(await (await fetch(url, init)).arrayBuffer());

describe('wandb 0.17.9 artifact requests, replayed', () => {
  it('ArtifactByName: a version by alias or v<n>, with its type, aliases and metadata', async () => {
    const td = find('training-data', 0);
    const node = (await replay('ArtifactByName')).project.artifact;
    expect(node.id).toBe(artifactId(td));
    expect([node.artifactSequence.name, node.versionIndex, node.artifactType.name, node.description, node.state]).toEqual([td.name, 0, 'dataset', td.description, 'COMMITTED']);
    expect(JSON.parse(node.metadata)).toEqual(td.metadata);
    expect(node.aliases.map((x: { alias: string }) => x.alias)).toEqual(['v0', 'latest']);
    expect(node.artifactSequence.project).toEqual({ entityName: entity.name, name: td.project });
    const vars = recorded.requests.ArtifactByName.variables;
    for (const [alias, v] of [['latest', 1], ['best', 1], ['v0', 0]] as const) {
      const a = (await replay('ArtifactByName', { ...vars, name: `model:${alias}` })).project.artifact;
      expect([a.artifactSequence.name, a.versionIndex]).toEqual(['model', v]);
    }
    expect((await replay('ArtifactByName', { ...vars, name: 'model:v9' })).project.artifact).toBeNull();
    expect((await replay('ArtifactByName', { ...vars, name: 'model' })).project.artifact).toBeNull();
  });

  it('ArtifactManifest: the manifest behind its URL, each stored entry naming the version that stored it', async () => {
    const td = find('training-data', 0);
    const url = (await replay('ArtifactManifest')).project.artifact.currentManifest.file.directUrl;
    const text = (await bytes(url)).toString('utf8');
    expect(text).toBe(manifestJson(td));
    const contents = JSON.parse(text).contents as Record<string, { birthArtifactID?: string; ref?: string }>;
    for (const e of td.entries) expect(contents[e.path].birthArtifactID).toBe(e.file ? artifactId(td) : undefined);
  });

  it('ArtifactCreatedBy: the run that logged the version', async () => {
    const td = find('training-data', 0);
    expect((await replay('ArtifactCreatedBy')).artifact.createdBy).toEqual({ name: td.loggedBy, project: { name: td.project, entityName: entity.name } });
  });

  it('ArtifactFiles and ArtifactFileURLs: the stored entries, their MD5 and their bytes', async () => {
    const td = find('training-data', 0);
    const storedEntries = td.entries.filter((e) => e.file);
    const files = (await replay('ArtifactFiles')).project.artifactType.artifact.files.edges.map((e: { node: any }) => e.node);
    expect(files.map((f: any) => [f.name, f.sizeBytes, f.md5, f.digest])).toEqual(storedEntries.map((e) => [e.path, e.file!.sizeBytes, e.file!.md5, e.file!.md5]));
    const urls = (await replay('ArtifactFileURLs')).artifact.files.edges.map((e: { node: any }) => e.node);
    expect(urls.map((u: any) => u.name)).toEqual(storedEntries.map((e) => e.path));
    for (const u of urls) {
      const e = storedEntries.find((x) => x.path === u.name)!;
      expect(md5b64(await bytes(u.directUrl))).toBe(e.file!.md5);
    }
    const wrongType = { ...recorded.requests.ArtifactFiles.variables, artifactTypeName: 'model' };
    expect((await replay('ArtifactFiles', wrongType)).project.artifactType.artifact).toBeNull();
  });

  it('ProjectArtifacts, ArtifactCollection, Artifacts: types, a collection\'s aliases and its versions', async () => {
    const types = (await replay('ProjectArtifacts')).project.artifactTypes.edges.map((e: { node: { name: string } }) => e.node.name);
    expect(types).toEqual(['dataset', 'model']);
    const type = (await replay('ArtifactCollection')).project.artifactType;
    expect(type.artifactCollection.name).toBe('model');
    expect(type.artifactCollection.aliases.edges.map((e: { node: { alias: string } }) => e.node.alias)).toEqual(['v0', 'v1', 'latest', 'best']);
    expect(type.artifactSequence.__typename).toBe('ArtifactSequence');
    const versions = (await replay('Artifacts')).project.artifactType.artifactCollection.artifacts;
    expect(versions.totalCount).toBe(2);
    expect(versions.edges.map((e: { version: string; node: { versionIndex: number } }) => [e.version, e.node.versionIndex])).toEqual([['v0', 0], ['v1', 1]]);
  });

  it('/artifactsV2/…/<birthArtifactID>/<md5 hex>: Basic auth, then the entry\'s bytes through a signed URL', async () => {
    const m = find('model', 1);
    const e = m.entries.find((x) => x.path === 'config/params.yaml')!;
    const hex = Buffer.from(e.file!.md5, 'base64').toString('hex');
    const path = `${emu.url}/artifactsV2/default/${entity.name}/${encodeURIComponent(artifactId(m))}/${hex}`;
    const first = await fetch(path, { headers: { Authorization: basic(KEY) }, redirect: 'manual' });
    expect(first.status).toBe(302);
    expect(first.headers.get('location')!.startsWith(emu.storageUrl)).toBe(true);
    expect((await bytes(first.headers.get('location')!)).toString('utf8')).toBe('lr: 0.001\n');
    expect((await fetch(path)).status).toBe(401);
    expect((await fetch(path.replace(hex, '0'.repeat(32)), { headers: { Authorization: basic(KEY) } })).status).toBe(404);
    expect((await fetch(path.replace(encodeURIComponent(artifactId(m)), encodeURIComponent(artifactId(find('model', 0)))), { headers: { Authorization: basic(KEY) } })).status).toBe(404);
  });

  it('wandb 0.26.1: ArtifactByName with enableTracking, and a collection with its type and update time', async () => {
    const a = (await replay('ArtifactByName', undefined, recorded026)).project.artifact;
    expect(a.id).toBe(artifactId(find('training-data', 0)));
    const c = (await replay('ProjectArtifactCollection', undefined, recorded026)).project.artifactType.artifactCollection;
    expect([c.__typename, c.name, c.type.name, c.project.name, c.project.entity.name]).toEqual(['ArtifactSequence', 'model', 'model', find('model', 1).project, entity.name]);
    expect(c.updatedAt).toBe(find('model', 1).createdAt);
    expect(c.tags.edges).toEqual([]);
  });
});
