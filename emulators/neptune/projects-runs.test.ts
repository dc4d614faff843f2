import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNeptuneEmulator } from './index.ts';
import type { NeptuneEmulator } from './types.ts';
import { session } from './test-client.ts';

let emu: NeptuneEmulator;
let s: Awaited<ReturnType<typeof session>>;
beforeAll(async () => {
  emu = await startNeptuneEmulator({ workspaces: ['demo', 'team'] });
  s = await session(emu);
});
afterAll(async () => { await emu.close(); });

describe('projects', () => {
  it('creates with organizationId (uuid), gets, lists', async () => {
    const a = await s.createProject('sandbox');
    expect(a.projectKey).toBe('SAN');
    const orgs = await s.api('/api/backend/v1/myOrganizations');
    const team = orgs.json.find((o: { name: string }) => o.name === 'team');
    const b = await s.api('/api/backend/v1/projects', {}, { body: { name: 'other', organizationId: team.id, projectKey: 'OTH', description: 'Exported from W&B' } });
    expect(b.status).toBe(200);
    expect(b.json).toMatchObject({ name: 'other', organizationName: 'team', projectKey: 'OTH', version: 2, visibility: 'priv' });

    const got = await s.api('/api/backend/v1/projects/get', { projectIdentifier: 'demo/sandbox' });
    expect(got.status).toBe(200);
    // projects/get answers exactly these six (recorded 2023 traffic, issue 8).
    expect(got.json).toEqual({ id: a.id, organizationId: orgs.json.find((o: { name: string }) => o.name === 'demo').id, organizationName: 'demo', projectKey: 'SAN', name: 'sandbox', version: 2 });
    expect((await s.api('/api/backend/v1/projects/get', { projectIdentifier: 'demo/missing' })).status).toBe(404);

    const list = await s.api('/api/backend/v1/projects', { organizationIdentifier: 'team', limit: 5 });
    expect(list.json.entries.map((p: { name: string }) => p.name)).toEqual(['other']);
    expect(emu.inspect.projects().find((p) => p.name === 'other')).toMatchObject({ workspace: 'team', key: 'OTH', description: 'Exported from W&B' });
  });

  it('duplicate name → 400 with ERR_NOT_UNIQUE validation error; invalid name/key have their errorType', async () => {
    await s.createProject('dup-me');
    const demo = (await s.api('/api/backend/v1/myOrganizations')).json.find((o: { name: string }) => o.name === 'demo').id as string;
    const dup = await s.api('/api/backend/v1/projects', {}, { body: { name: 'dup-me', organizationId: demo } });
    expect(dup.status).toBe(400);
    expect(dup.json.validationErrors[0].errors[0].errorCode.name).toBe('ERR_NOT_UNIQUE');
    const bad = await s.api('/api/backend/v1/projects', {}, { body: { name: 'a/b', organizationId: demo } });
    expect(bad.status).toBe(400);
    expect(bad.json.errorType).toBe('PROJECT_NAME_INVALID');
    const badKey = await s.api('/api/backend/v1/projects', {}, { body: { name: 'keyed', organizationId: demo, projectKey: 'lower' } });
    expect(badKey.json.errorType).toBe('PROJECT_KEY_INVALID');
    const noWs = await s.api('/api/backend/v1/projects', {}, { body: { name: 'xyz', organizationId: '00000000-0000-4000-8000-000000000000' } });
    expect(noWs.status).toBe(404);
  });
});

describe('createExperiment', () => {
  it('is idempotent by customId and numbers short ids per project', async () => {
    const p = await s.createProject('runs-here');
    const r1 = await s.createRun(p.id, 'wandb-abc');
    const again = await s.createRun(p.id, 'wandb-abc');
    const r2 = await s.createRun(p.id, 'wandb-def');
    const r3 = await s.createRun(p.id);
    expect(again.id).toBe(r1.id);
    expect([r1.shortId, r2.shortId, r3.shortId]).toEqual(['RUN-1', 'RUN-2', 'RUN-3']);
    expect(r1.customId).toBe('wandb-abc');
    expect(emu.inspect.runs('demo/runs-here').map((r) => r.shortId)).toEqual(['RUN-1', 'RUN-2', 'RUN-3']);

    const attrs = emu.inspect.attributes(r1.id);
    expect(attrs['sys/id']).toEqual({ type: 'string', value: 'RUN-1' });
    expect(attrs['sys/custom_run_id']).toEqual({ type: 'string', value: 'wandb-abc' });
    expect(attrs['sys/name']).toEqual({ type: 'string', value: 'Untitled' });
    // `running` right after createExperiment (recorded 2023 traffic, issue 8).
    expect(attrs['sys/state']).toEqual({ type: 'experimentState', value: 'running' });
    expect(attrs['sys/creation_time'].type).toBe('datetime');

    const ping = await s.api('/api/leaderboard/v1/attributes/ping', { experimentId: r1.id }, { method: 'POST' });
    expect(ping.status).toBe(200);
    expect(emu.inspect.attributes(r1.id)['sys/state'].value).toBe('running');

    const byQn = await s.api('/api/leaderboard/v1/experiments', { experimentId: 'demo/runs-here/RUN-2' });
    expect(byQn.json).toMatchObject({ id: r2.id, shortId: 'RUN-2', type: 'run', projectName: 'runs-here', organizationName: 'demo' });
  });

  it('unknown project → 404', async () => {
    const r = await s.api('/api/leaderboard/v1/experiments', {}, { body: { projectIdentifier: '00000000-0000-0000-0000-000000000000', type: 'run' } });
    expect(r.status).toBe(404);
  });

  it('project-level fields land on the project container (project id as experimentId)', async () => {
    const p = await s.createProject('proj-fields');
    const r = await s.ops(p.id, [{ path: 'wandb_url', assignString: { value: 'https://wandb.ai/acme/x' } }]);
    expect(r.status).toBe(200);
    expect(r.json).toEqual([]);
    expect(emu.inspect.attributes(p.id)['wandb_url']).toEqual({ type: 'string', value: 'https://wandb.ai/acme/x' });
    const asExp = await s.api('/api/leaderboard/v1/experiments', {}, { body: { projectIdentifier: p.id, type: 'project' } });
    expect(asExp.json).toMatchObject({ id: p.id, type: 'project' });
  });
});
