/**
 * The served swagger specs against the 2023 served ones (neptune-served-swagger/2023): every routed
 * operation has the real server's path, method, operationId, parameters (with `required`, types,
 * formats), consumes/produces and 200 schema; every model the served operations reach is there, as
 * served; and every spec operation is routed (they come from the same table).
 */
import { existsSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sharedPath } from '../../test/support/shared.ts';
import { startNeptuneEmulator } from './index.ts';
import { buildRoutes } from './routes.ts';
import { SWAGGER_APIS } from './swagger.ts';
import { call } from './test-client.ts';
import type { NeptuneEmulator } from './types.ts';

type Json = Record<string, any>; // parsing boundary: swagger documents are arbitrary JSON

const real = (api: string): Json => {
  const file = sharedPath(`reference/neptune-served-swagger/2023/${api}.json`);
  expect(existsSync(file), `${file} (the steering repo's shared/ beside the clone, or W2N_SHARED)`).toBe(true);
  return JSON.parse(readFileSync(file, 'utf8')) as Json;
};

/** Drops what is documentation only (descriptions, examples), never a property named `description`. */
function strip(x: unknown, inProperties = false): unknown {
  if (Array.isArray(x)) return x.map((v) => strip(v));
  if (x && typeof x === 'object') {
    return Object.fromEntries(Object.entries(x)
      .filter(([k]) => inProperties || (k !== 'description' && k !== 'example'))
      .map(([k, v]) => [k, strip(v, k === 'properties')]));
  }
  return x;
}
const byName = (params: Json[]) => Object.fromEntries(params.map((p) => [`${p.in}:${p.name}`, strip(p)]));

function refs(x: unknown, out = new Set<string>()): Set<string> {
  if (Array.isArray(x)) x.forEach((v) => refs(v, out));
  else if (x && typeof x === 'object') {
    for (const [k, v] of Object.entries(x)) {
      if (k === '$ref' && typeof v === 'string') out.add(v.replace('#/definitions/', ''));
      else refs(v, out);
    }
  }
  return out;
}

let emu: NeptuneEmulator;
const served: Record<string, Json> = {};
beforeAll(async () => {
  emu = await startNeptuneEmulator();
  for (const api of SWAGGER_APIS) {
    const r = await call(`${emu.url}/api/${api}/swagger.json`);
    expect(r.status).toBe(200);
    served[api] = r.json as Json;
  }
});
afterAll(async () => { await emu.close(); });

describe('served swagger specs', () => {
  it.each(SWAGGER_APIS)('%s: every operation is the 2023 served operation', (api) => {
    const theirs = real(api);
    const ours = served[api];
    expect(ours.swagger).toBe('2.0');
    expect(ours.basePath).toBe(theirs.basePath);
    let n = 0;
    for (const [path, methods] of Object.entries(ours.paths as Json)) {
      for (const [method, op] of Object.entries(methods as Json)) {
        n += 1;
        const where = `${method.toUpperCase()} ${path}`;
        const t = theirs.paths[path]?.[method] as Json | undefined;
        expect(t, `${where} exists in 2023/${api}.json`).toBeDefined();
        if (!t) continue;
        expect(op.operationId, where).toBe(t.operationId);
        expect(byName(op.parameters), `${where} parameters`).toEqual(byName(t.parameters ?? []));
        expect(op.consumes, `${where} consumes`).toEqual(t.consumes);
        expect(op.produces, `${where} produces`).toEqual(t.produces);
        expect(strip(op.responses), `${where} responses`).toEqual(strip(t.responses));
      }
    }
    const routed = Object.values(buildRoutes()).filter((r) => r.spec?.api === api).length;
    expect(n).toBe(routed);
  });

  it.each(SWAGGER_APIS)('%s: every model an operation reaches is served, as in 2023', (api) => {
    const theirs = real(api).definitions as Json;
    const defs = served[api].definitions as Json;
    const reached = new Set<string>();
    const queue = [...refs(served[api].paths)];
    while (queue.length) {
      const name = queue.pop() as string;
      if (reached.has(name)) continue;
      reached.add(name);
      expect(defs[name], `definition ${name}`).toBeDefined();
      queue.push(...refs(defs[name]));
    }
    expect(Object.keys(defs).sort()).toEqual([...reached].sort());
    for (const name of reached) expect(defs[name], name).toEqual(strip(theirs[name]));
  });

  it('the operations the official client calls in an ordinary session are there', () => {
    const ops = new Set(Object.values(served).flatMap((s) => Object.values(s.paths as Json).flatMap((m) => Object.values(m as Json).map((o) => (o as Json).operationId as string))));
    // neptune-client 1.13 hosted_client.py, hosted_neptune_backend.py, hosted_file_operations.py,
    // api/searching_entries.py, management/internal/api.py (delete_project).
    for (const id of [
      'getClientConfig', 'exchangeApiToken', 'getProject', 'listProjects', 'listOrganizations', 'createProject', 'deleteProject',
      'createExperiment', 'getExperiment', 'executeOperations', 'ping', 'getExperimentAttributes', 'getFloatSeriesValues',
      'getStringSeriesValues', 'fileAtomUpload', 'fileSetFileUpload', 'uploadFileSetAttributeTar', 'downloadAttribute',
      'prepareForDownloadFileSetAttributeZip', 'getDownloadPrepareRequest', 'download', 'searchLeaderboardEntries',
      'searchLeaderboardAttributes',
    ]) expect(ops.has(id), id).toBe(true);
  });

  it('leaderboard carries the request host (bravado builds URLs from it); getFloatSeriesValues has offset', () => {
    expect(served.leaderboard.host).toBe(new URL(emu.url).host);
    const p = (served.leaderboard.paths['/api/leaderboard/v1/attributes/series/float'].get.parameters as Json[]).map((x) => x.name);
    expect(p).toContain('offset');
  });
});
