/**
 * The reference line of scenario (a): the least a migration of one run's history must do. Downloads
 * each parquet export file, decodes it with hyparquet, serialises every numeric column as `logFloats`
 * operations (100 points per op, 1000 ops per request, like the official client) and POSTs them to a
 * fresh Neptune run, one step after the other. No ledger, no retries, no mapping, no other streams.
 */
import { parquetReadObjects } from 'hyparquet';
import { logFloatsOps, type FloatPoint } from './log-floats.ts';

export interface BareResult { points: number; seconds: number; requests: { wandb: number; neptune: number }; skippedNonFinite: number }

const PARQUET_QUERY = `query RunParquetHistory($entity: String!, $project: String!, $runName: String!) {
  project(name: $project, entityName: $entity) { run(name: $runName) { parquetHistory(liveKeys: ["_step"]) { parquetUrls } } }
}`;

async function json<T>(res: Response, what: string): Promise<T> {
  if (!res.ok) throw new Error(`${what}: HTTP ${res.status}`);
  return (await res.json()) as T;
}

/** Signed export URLs of one run (calling this once before timing also makes the emulator write the export). */
export async function parquetUrls(w: { url: string; apiKey: string; entity: string; project: string; runId: string }, signal: AbortSignal): Promise<string[]> {
  const res = await fetch(`${w.url}/graphql`, {
    method: 'POST', signal,
    headers: { 'content-type': 'application/json', authorization: `Basic ${Buffer.from(`api:${w.apiKey}`).toString('base64')}` },
    body: JSON.stringify({ query: PARQUET_QUERY, variables: { entity: w.entity, project: w.project, runName: w.runId } }),
  });
  const body = await json<{ data?: { project?: { run?: { parquetHistory?: { parquetUrls?: string[] } } } } }>(res, 'parquetHistory');
  const urls = body.data?.project?.run?.parquetHistory?.parquetUrls;
  if (!urls) throw new Error('parquetHistory: no URLs in the answer');
  return urls;
}

/** A fresh run in a Neptune emulator: its id and the bearer token to write to it. */
async function neptuneRun(url: string, apiToken: string, signal: AbortSignal): Promise<{ runId: string; bearer: string }> {
  const tok = await json<{ accessToken: string }>(
    await fetch(`${url}/api/backend/v1/authorization/oauth-token`, { headers: { 'X-Neptune-Api-Token': apiToken }, signal }), 'token exchange');
  const bearer = `Bearer ${tok.accessToken}`;
  const post = (path: string, body: unknown) => fetch(`${url}${path}`, {
    method: 'POST', signal, headers: { authorization: bearer, 'content-type': 'application/json' }, body: JSON.stringify(body),
  });
  // The served NewProjectDTO names the workspace by its uuid (organizationId), found in myOrganizations.
  const orgs = await json<Array<{ id: string; name: string }>>(await fetch(`${url}/api/backend/v1/myOrganizations`, { headers: { authorization: bearer }, signal }), 'myOrganizations');
  const org = orgs.find((o) => o.name === 'demo') ?? orgs[0];
  if (!org) throw new Error('myOrganizations: no workspace');
  const project = await json<{ id: string }>(await post('/api/backend/v1/projects', { name: 'bare-reference', organizationId: org.id }), 'createProject');
  const run = await json<{ id: string }>(await post('/api/leaderboard/v1/experiments', { projectIdentifier: project.id, parentId: project.id, type: 'run' }), 'createExperiment');
  return { runId: run.id, bearer };
}

export async function bareLoop(
  o: { urls: string[]; neptuneUrl: string; neptuneApiToken: string; pointsPerOp?: number; opsPerRequest?: number },
  signal: AbortSignal,
): Promise<BareResult> {
  const perOp = o.pointsPerOp ?? 100;
  const perRequest = o.opsPerRequest ?? 1000;
  const { runId, bearer } = await neptuneRun(o.neptuneUrl, o.neptuneApiToken, signal);
  const opsUrl = `${o.neptuneUrl}/api/leaderboard/v1/attributes/operations?experimentId=${encodeURIComponent(runId)}`;
  let points = 0;
  let skippedNonFinite = 0;
  let neptuneRequests = 3;
  let pending: string[] = [];
  const send = async (): Promise<void> => {
    const body = `[${pending.join(',')}]`;
    pending = [];
    const res = await fetch(opsUrl, { method: 'POST', signal, headers: { authorization: bearer, 'content-type': 'application/json' }, body });
    neptuneRequests++;
    const errors = await json<unknown[]>(res, 'executeOperations');
    if (errors.length > 0) throw new Error(`executeOperations refused ${errors.length} operations: ${JSON.stringify(errors[0])}`);
  };

  const t0 = performance.now();
  for (const u of o.urls) {
    const file = await (await fetch(u, { signal })).arrayBuffer();
    const rows = await parquetReadObjects({ file });
    if (rows.length === 0) continue;
    const columns = Object.keys(rows[0]).filter((k) => !k.startsWith('_'));
    for (const col of columns) {
      const pts: FloatPoint[] = [];
      for (const r of rows) {
        const v = r[col];
        if (typeof v !== 'number') continue;
        if (!Number.isFinite(v)) { skippedNonFinite++; continue; }
        pts.push({ step: Number(r._step), timestampMs: Math.round(Number(r._timestamp) * 1000), value: v });
      }
      points += pts.length;
      for (const op of logFloatsOps(`metrics/${col}`, pts, perOp)) {
        pending.push(op);
        if (pending.length >= perRequest) await send();
      }
    }
  }
  if (pending.length > 0) await send();
  return { points, seconds: (performance.now() - t0) / 1000, requests: { wandb: o.urls.length, neptune: neptuneRequests }, skippedNonFinite };
}
