/**
 * What the official SDK's public API (wandb 0.17.9) asks the server, replayed against the emulator.
 * Each query is the one the SDK sends (file named per test); each failed on the emulator before it
 * served that field.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toPlainJsonValue } from './ext-json.ts';
import { generateEntity } from './generator/generate.ts';
import { startWandbEmulator, type WandbEmulator } from './server/http.ts';
import { gql, KEY, RUNS_QUERY } from './test-helpers.ts';

const entity = generateEntity({ seed: 7, preset: 'all-shapes' });
const ENT = entity.name;
let emu: WandbEmulator;
beforeAll(async () => {
  emu = await startWandbEmulator({ apiKeys: [KEY], entity });
});
afterAll(async () => emu.close());

// wandb/apis/public/sweeps.py Sweep.QUERY, sent by Run.load for every run with a sweepName
const SWEEP_QUERY = `query Sweep($project: String, $entity: String, $name: String!) {
  project(name: $project, entityName: $entity) { sweep(sweepName: $name) { id name state runCountExpected bestLoss config } } }`;

// wandb/sdk/internal/internal_api.py server_artifact_introspection
const PROBE_ARTIFACT = `query ProbeServerArtifact { ArtifactInfoType: __type(name:"Artifact") { fields { name } } }`;

// wandb/apis/public/artifacts.py RunArtifacts + wandb/sdk/artifacts/artifact.py _get_gql_artifact_fragment
const ARTIFACT_FRAGMENT = `fragment ArtifactFragment on Artifact {
  id artifactSequence { project { entityName name } name } versionIndex artifactType { name } description metadata
  ttlDurationSeconds ttlIsInherited aliases { artifactCollection { project { entityName name } name } alias }
  state commitHash fileCount createdAt updatedAt }`;
const runArtifacts = (field: 'outputArtifacts' | 'inputArtifacts') => `query RunArtifacts($entity: String!, $project: String!, $runName: String!, $cursor: String, $perPage: Int,) {
  project(name: $project, entityName: $entity) { run(name: $runName) { ${field}(after: $cursor, first: $perPage) {
    totalCount edges { node { ...ArtifactFragment } cursor } pageInfo { endCursor hasNextPage } } } } }
  ${ARTIFACT_FRAGMENT}`;

// wandb/apis/public/history.py SampledHistoryScan.QUERY
const SAMPLED_PAGE = `query SampledHistoryPage($entity: String!, $project: String!, $run: String!, $spec: JSONString!) {
  project(name: $project, entityName: $entity) { run(name: $run) { sampledHistory(specs: [$spec]) } } }`;

describe('wandb 0.17.9 public API', () => {
  it('answers Project.sweep for every sweep run of a runs() listing', async () => {
    const project = entity.projects.find((p) => p.runs.some((r) => r.sweep))!;
    const res = await gql(emu, RUNS_QUERY, { project: project.name, entity: ENT, perPage: 100, filters: '{}' });
    const sweepNames = new Set<string>(res.body.data!.project.runs.edges.map((e: { node: { sweepName: string | null } }) => e.node.sweepName).filter(Boolean));
    expect(sweepNames.size).toBeGreaterThan(0);
    for (const name of sweepNames) {
      const runs = project.runs.filter((r) => r.sweep === name);
      const s = await gql(emu, SWEEP_QUERY, { project: project.name, entity: ENT, name });
      expect(s.body.errors).toBeUndefined();
      const sweep = s.body.data!.project.sweep;
      expect(sweep.name).toBe(name);
      expect(sweep.state).toBe(runs.some((r) => r.state === 'running') ? 'RUNNING' : 'FINISHED');
      // the swept parameters are the config keys whose values differ between the sweep's runs
      const config = JSON.parse(sweep.config);
      expect(config.parameters.lr.values).toEqual(runs.map((r) => r.config.lr));
      expect(config.parameters.model).toBeUndefined();
    }
    // project.sweeps(): GetSweeps (wandb/apis/public/projects.py) with SWEEP_FRAGMENT (sweeps.py)
    const all = await gql(emu, `query GetSweeps($project: String!, $entity: String!) { project(name: $project, entityName: $entity) {
      totalSweeps sweeps { edges { node { id name method state description displayName bestLoss config createdAt updatedAt runCount } cursor } pageInfo { endCursor hasNextPage } } } }`, { project: project.name, entity: ENT });
    expect(all.body.errors).toBeUndefined();
    expect(all.body.data!.project.totalSweeps).toBe(sweepNames.size);
    expect(all.body.data!.project.sweeps.edges.map((e: { node: { name: string; runCount: number } }) => [e.node.name, e.node.runCount]))
      .toEqual([...sweepNames].map((n) => [n, project.runs.filter((r) => r.sweep === n).length]));
    const none = await gql(emu, SWEEP_QUERY, { project: project.name, entity: ENT, name: 'nosuch' });
    expect(none.body).toEqual({ data: { project: { sweep: null } } });
  });

  it('answers the Artifact introspection probe and empty artifact connections', async () => {
    const probe = await gql(emu, PROBE_ARTIFACT);
    const fields = probe.body.data!.ArtifactInfoType.fields.map((f: { name: string }) => f.name);
    expect(fields).toEqual(expect.arrayContaining(['id', 'artifactSequence', 'versionIndex', 'ttlDurationSeconds', 'ttlIsInherited', 'aliases', 'state', 'commitHash', 'fileCount']));
    const project = entity.projects[0];
    // A run that neither logged nor used an artifact (the served artifacts: artifacts.test.ts).
    const run = project.runs.find((r) => !entity.artifacts?.some((a) => a.loggedBy === r.id || a.usedBy.includes(r.id)))!;
    for (const field of ['outputArtifacts', 'inputArtifacts'] as const) {
      const res = await gql(emu, runArtifacts(field), { entity: ENT, project: project.name, runName: run.id, cursor: null, perPage: 100 });
      expect(res.body).toEqual({ data: { project: { run: { [field]: { totalCount: 0, edges: [], pageInfo: { endCursor: null, hasNextPage: false } } } } } });
    }
  });

  it('gives scan_history(keys=[...]) each row once: sampledHistory maxStep is exclusive', async () => {
    for (const project of entity.projects) {
      for (const r of project.runs.filter((x) => x.lastStep > 300)) {
        const key = Object.keys([...r.history()].find((row) => Object.keys(row).some((k) => !k.startsWith('_'))) ?? {}).find((k) => !k.startsWith('_'));
        if (!key) continue;
        const keys = ['_step', key];
        // SampledHistoryScan: pages [offset, offset + page_size) up to lastHistoryStep + 1
        const got: unknown[] = [];
        for (let offset = 0; offset < r.lastStep + 1; offset += 100) {
          const spec = JSON.stringify({ keys, minStep: offset, maxStep: Math.min(offset + 100, r.lastStep + 1), samples: 100 });
          const res = await gql(emu, SAMPLED_PAGE, { entity: ENT, project: project.name, run: r.id, spec });
          got.push(...res.body.data!.project.run.sampledHistory[0]);
        }
        const want = [...r.history()].filter((row) => key in row).map((row) => ({ _step: row._step, [key]: row[key] }));
        expect(got).toEqual(want.map(toPlainJsonValue));
      }
    }
  });
});
