/**
 * `create_project` of the official 3.x client (neptune-client-scale 0.29.0
 * `src/neptune_scale/net/projects.py` `create_project`), replayed as it sends it: the workspace by name
 * (`organizationIdentifier`), no `organizationId`. Tried by hand on 2026-11-30: the emulator refused it
 * with 400 "NewProjectDTO.organizationId is required", so `neptune_scale.projects.create_project` raised
 * `NeptuneBadRequestError` and every later `Run()` in that project died with `NeptuneProjectNotFound`.
 */
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

/** The body neptune-scale builds (key order, nulls and all). */
const scaleBody = (workspace: string, name: string) =>
  ({ name, description: null, projectKey: null, organizationIdentifier: workspace, visibility: 'priv' });

describe('createProject as neptune-scale sends it (3.x NewProjectDTO: organizationIdentifier, no organizationId)', () => {
  it('creates the project in the named workspace and answers the ProjectWithRoleDTO', async () => {
    const r = await s.api('/api/backend/v1/projects', {}, { body: scaleBody('team', 'scale-made') });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ name: 'scale-made', organizationName: 'team', visibility: 'priv', userRoleInProject: 'manager' });
    const got = await s.api('/api/backend/v1/projects/get', { projectIdentifier: 'team/scale-made' });
    expect(got.status).toBe(200);
    expect(got.json.id).toBe(r.json.id);
    expect(emu.inspect.projects().filter((p) => p.name === 'scale-made').map((p) => p.workspace)).toEqual(['team']);
  });

  it('an existing project is 409, which the client takes as "already exists" (projects.py: code == 409)', async () => {
    const first = await s.api('/api/backend/v1/projects', {}, { body: scaleBody('demo', 'twice') });
    expect(first.status).toBe(200);
    const again = await s.api('/api/backend/v1/projects', {}, { body: scaleBody('demo', 'twice') });
    expect(again.status).toBe(409);
    expect(emu.inspect.projects().filter((p) => p.name === 'twice')).toHaveLength(1);
  });

  it('an unknown workspace is 404 with the plain text the client matches (ORGANIZATION_NOT_FOUND_RE, re.match)', async () => {
    const r = await s.api('/api/backend/v1/projects', {}, { body: scaleBody('nowhere', 'lost') });
    expect(r.status).toBe(404);
    expect(r.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(r.bytes.toString('utf8')).toMatch(/^Organization .* not found/);
    expect(emu.inspect.projects().map((p) => p.name)).not.toContain('lost');
  });

  it('the 2.x form (organizationId, a uuid) keeps its 2.x answers: an existing project is a 400 validation error', async () => {
    const demo = (await s.api('/api/backend/v1/myOrganizations')).json.find((o: { name: string }) => o.name === 'demo').id as string;
    const a = await s.api('/api/backend/v1/projects', {}, { body: { name: 'old-form', organizationId: demo } });
    expect(a.status).toBe(200);
    const dup = await s.api('/api/backend/v1/projects', {}, { body: { name: 'old-form', organizationId: demo, organizationIdentifier: 'demo' } });
    expect(dup.status).toBe(400);
    expect(dup.json.validationErrors[0].path).toBe('name');
    const neither = await s.api('/api/backend/v1/projects', {}, { body: { name: 'no-ws' } });
    expect(neither.status).toBe(400);
    expect(neither.json.validationErrors[0].path).toBe('organizationId');
  });
});
