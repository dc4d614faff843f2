/**
 * Every parameter the 2023 served specs mark required is enforced before the handler runs (400), as
 * the real Spring server does; a conversion failure is a 400 too.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNeptuneEmulator } from './index.ts';
import type { NeptuneEmulator } from './types.ts';
import { call, session } from './test-client.ts';

let emu: NeptuneEmulator;
let s: Awaited<ReturnType<typeof session>>;
let runId: string;
beforeAll(async () => {
  emu = await startNeptuneEmulator({ limits: { maxSinglePartSize: 8, minChunkSize: 4 } });
  s = await session(emu);
  const p = await s.createProject('strict');
  runId = (await s.createRun(p.id, 'strict-1')).id;
});
afterAll(async () => { await emu.close(); });

const LB = '/api/leaderboard/v1/attributes/storage/fileset/upload';

describe('required parameters (2023 leaderboard.json fileSetFileMultipartUpload*)', () => {
  it('part and finish without subPath are 400 and store nothing; with it the entry lands', async () => {
    const who = { experimentIdentifier: runId, attribute: 'ckpt' };
    const start = await s.api(`${LB}/start`, { ...who, subPath: 'model.bin', totalLength: 10 }, { method: 'POST' });
    expect(start.status).toBe(200);
    const uploadId = start.json.uploadId as string;
    const data = Buffer.from('0123456789');

    const noSub = await s.api(`${LB}/part`, { ...who, uploadId, uploadPartIdx: 0 }, { raw: data.subarray(0, 5), headers: { 'x-range': 'bytes=0-4/10' } });
    expect(noSub.status).toBe(400);
    expect(noSub.json.message).toBe("Required request parameter 'subPath' for method parameter type String is not present");

    for (const [i, a, b] of [[0, 0, 5], [1, 5, 10]] as const) {
      const r = await s.api(`${LB}/part`, { ...who, subPath: 'model.bin', uploadId, uploadPartIdx: i }, { raw: data.subarray(a, b), headers: { 'x-range': `bytes=${a}-${b - 1}/10` } });
      expect(r.status).toBe(200);
    }
    const finishNoSub = await s.api(`${LB}/finish`, { ...who, uploadId }, { method: 'POST' });
    expect(finishNoSub.status).toBe(400);
    expect(finishNoSub.json.message).toContain("'subPath'");
    expect(emu.inspect.fileSet(runId, 'ckpt')).toEqual({});

    const other = await s.api(`${LB}/finish`, { ...who, subPath: 'other.bin', uploadId }, { method: 'POST' });
    expect(other.status).toBe(400);
    const fin = await s.api(`${LB}/finish`, { ...who, subPath: 'model.bin', uploadId }, { method: 'POST' });
    expect(fin.status).toBe(200);
    expect(emu.inspect.fileSet(runId, 'ckpt')).toEqual({ 'model.bin': data });
  });

  it('a required header, a required body and an unconvertible integer are 400', async () => {
    const exchange = await call(`${emu.url}/api/backend/v1/authorization/oauth-token`);
    expect(exchange.status).toBe(400);
    expect(exchange.json.message).toBe("Required request header 'X-Neptune-Api-Token' for method parameter type String is not present");
    const ops = await s.api('/api/leaderboard/v1/attributes/operations', { experimentId: runId }, { method: 'POST' });
    expect(ops.status).toBe(400);
    expect(ops.json.message).toBe('Required request body is missing');
    const page = await s.api('/api/leaderboard/v1/attributes/series/float', { experimentId: runId, attribute: 'x', offset: 'ten' });
    expect(page.status).toBe(400);
    const ls = await s.api('/api/leaderboard/v1/attributes/ls', { experimentId: runId, attribute: 'ckpt' });
    expect(ls.status).toBe(400);
    expect(ls.json.message).toContain("'path'");
  });

  it('401 comes before 400 (the security filter runs first)', async () => {
    const r = await call(`${emu.url}${LB}/part`, { method: 'POST', raw: 'x' });
    expect(r.status).toBe(401);
  });
});

describe('createProject (2023/minfx backend.json NewProjectDTO requires organizationId, a uuid)', () => {
  // The workspace name alone is the 3.x form (create-project-3x.test.ts), answered as a 3.x server does.
  it('refuses a body naming no workspace, a non-uuid id and an unknown id; takes the uuid', async () => {
    const noWs = await s.api('/api/backend/v1/projects', {}, { body: { name: 'by-name' } });
    expect(noWs.status).toBe(400);
    expect(noWs.json.validationErrors[0].path).toBe('organizationId');
    const notUuid = await s.api('/api/backend/v1/projects', {}, { body: { name: 'by-name', organizationId: 'demo' } });
    expect(notUuid.status).toBe(400);
    const ghost = await s.api('/api/backend/v1/projects', {}, { body: { name: 'by-name', organizationId: '00000000-0000-4000-8000-000000000000' } });
    expect(ghost.status).toBe(404);
    expect(emu.inspect.projects().map((p) => p.name)).toEqual(['strict']);
    const demo = (await s.api('/api/backend/v1/myOrganizations')).json[0].id as string;
    const ok = await s.api('/api/backend/v1/projects', {}, { body: { name: 'by-name', organizationId: demo, organizationIdentifier: 'demo' } });
    expect(ok.status).toBe(200);
    expect(emu.inspect.projects().map((p) => p.name)).toEqual(['strict', 'by-name']);
  });
});
