/**
 * The swagger specs the official 1.x client downloads first and builds its whole HTTP client from
 * (`GET /api/{backend,leaderboard,artifacts}/swagger.json`, neptune-client 1.x
 * `internal/backends/hosted_client.py`, bravado). Paths and operations are generated from the route
 * table (each route's `spec`), so nothing is served that is not routed and enforced, and nothing routed
 * is missing. Models are the 2023 served definitions reachable from those operations
 * (`served-models.json`, transcribed from neptune-served-swagger/2023/*.json without descriptions).
 */
import type { ApiName, Param } from './openapi.ts';
import type { Route } from './routes.ts';
import { servedDefinitions } from './served-models.ts';

export const SWAGGER_APIS: ApiName[] = ['backend', 'leaderboard', 'artifacts'];

/** `info` and `basePath` as each served spec has them (2023 backend/leaderboard/artifacts.json). */
const HEADS: Record<ApiName, { title: string; version: string; basePath: string }> = {
  backend: { title: 'Neptune Backend API', version: '2.8', basePath: '' },
  leaderboard: { title: 'Neptune Leaderboard REST API', version: '1.0.0', basePath: '/' },
  artifacts: { title: 'Neptune Leaderboard REST API', version: '1.0.0', basePath: '/' },
};

const DESCRIPTIONS: Record<string, string> = {
  201: 'Created', 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 408: 'Request Timeout',
  409: 'Conflict', 422: 'Unprocessable Entity', 429: 'Too Many Requests',
};

/**
 * Non-200 responses as each served spec lists them (2023): the backend declares its 400 as the
 * `Error` model (the client reads `swagger_result.validationErrors` from it on createProject,
 * management/internal/api.py), the leaderboard lists bare statuses, with `201` on its writes.
 */
function otherResponses(api: ApiName, method: string): Record<string, Record<string, unknown>> {
  const codes = api === 'backend' ? [400, 401, 403, 404, 408, 422] : [400, 401, 403, 404, 408, 409, 422, 429];
  if (api !== 'backend' && method === 'POST') codes.push(201);
  const out: Record<string, Record<string, unknown>> = {};
  for (const c of codes) out[c] = { description: DESCRIPTIONS[c], ...(api === 'backend' && c === 400 ? { schema: { $ref: '#/definitions/Error' } } : {}) };
  return out;
}

function paramObject(p: Param): Record<string, unknown> {
  return { ...p, description: p.name };
}

/**
 * One spec. `host` is the request's Host header, as Springfox fills it in: bravado builds request URLs
 * from the spec's host, so a fixed one would send the client elsewhere.
 */
export function buildSwagger(api: ApiName, routes: Record<string, Route>, host: string | undefined): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const [key, route] of Object.entries(routes)) {
    const spec = route.spec;
    if (!spec || spec.api !== api) continue;
    const [method, path] = key.split(' ');
    paths[path] ??= {};
    paths[path][method.toLowerCase()] = {
      operationId: route.name,
      ...(spec.consumes ? { consumes: spec.consumes } : {}),
      ...(spec.produces ? { produces: spec.produces } : {}),
      parameters: spec.params.map(paramObject),
      responses: { 200: { description: 'OK', ...(spec.response ? { schema: spec.response } : {}) }, ...otherResponses(api, method) },
      deprecated: false,
    };
  }
  const head = HEADS[api];
  return {
    swagger: '2.0',
    info: { title: head.title, version: head.version, description: '' },
    ...(api !== 'backend' && host ? { host } : {}),
    basePath: head.basePath,
    paths,
    definitions: servedDefinitions(api),
    ...(api === 'backend' ? { securityDefinitions: { oauth2: { type: 'oauth2', flow: 'accessCode', authorizationUrl: '', tokenUrl: '', scopes: {} } } } : {}),
  };
}
