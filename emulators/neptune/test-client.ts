/** Plain-fetch helpers for the emulator's own tests (never product code). */
import type { NeptuneEmulator } from './types.ts';

export interface Reply { status: number; headers: Headers; json: any /* parsing boundary: tests inspect arbitrary JSON */; bytes: Buffer }

export async function call(
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: unknown; raw?: Buffer | string } = {},
): Promise<Reply> {
  const headers: Record<string, string> = { ...init.headers };
  let body: Buffer | string | undefined = init.raw;
  if (init.body !== undefined) {
    body = JSON.stringify(init.body);
    headers['content-type'] = 'application/json';
  }
  const res = await fetch(url, {
    method: init.method ?? (body !== undefined ? 'POST' : 'GET'), headers,
    body: typeof body === 'string' || body === undefined ? body : new Uint8Array(body), signal: AbortSignal.timeout(15_000),
  });
  const bytes = Buffer.from(await res.arrayBuffer());
  let json: unknown;
  try { json = bytes.length ? JSON.parse(bytes.toString('utf8')) : undefined; } catch { json = undefined; }
  return { status: res.status, headers: res.headers, json, bytes };
}

export async function exchange(emu: NeptuneEmulator, key?: string): Promise<{ accessToken: string; refreshToken: string; username: string }> {
  const r = await call(`${emu.url}/api/backend/v1/authorization/oauth-token`, { headers: { 'X-Neptune-Api-Token': emu.apiToken(key) } });
  if (r.status !== 200) throw new Error(`token exchange failed: ${r.status}`);
  return r.json;
}

/** An authenticated client bound to one emulator. */
export async function session(emu: NeptuneEmulator) {
  const { accessToken } = await exchange(emu);
  const api = (path: string, query: Record<string, string | number | boolean> = {}, init: Parameters<typeof call>[1] = {}) => {
    const qs = new URLSearchParams(Object.entries(query).map(([k, v]) => [k, String(v)])).toString();
    return call(`${emu.url}${path}${qs ? `?${qs}` : ''}`, { ...init, headers: { authorization: `Bearer ${accessToken}`, ...init.headers } });
  };
  const createProject = async (name: string, workspace = 'demo') => {
    const orgs = await api('/api/backend/v1/myOrganizations');
    const org = (orgs.json as Array<{ id: string; name: string }>).find((o) => o.name === workspace);
    const r = await api('/api/backend/v1/projects', {}, { body: { name, organizationId: org?.id, visibility: 'priv' } });
    if (r.status !== 200) throw new Error(`createProject ${r.status} ${JSON.stringify(r.json)}`);
    return r.json as { id: string; projectKey: string; name: string };
  };
  const createRun = async (projectId: string, customId?: string) => {
    const r = await api('/api/leaderboard/v1/experiments', {}, { body: { projectIdentifier: projectId, parentId: projectId, type: 'run', customId } });
    if (r.status !== 200) throw new Error(`createExperiment ${r.status}`);
    return r.json as { id: string; shortId: string; customId?: string };
  };
  const ops = (experimentId: string, operations: unknown) =>
    api('/api/leaderboard/v1/attributes/operations', { experimentId }, { body: operations });
  return { api, accessToken, createProject, createRun, ops };
}
