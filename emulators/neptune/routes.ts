/**
 * Route table: `METHOD path` → handler, named after the swagger operationId (used for stats).
 * Paths, query parameters and response models follow backend.json / leaderboard.json.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Auth } from './auth.ts';
import { CLIENT_ID, REALM_PATH } from './auth.ts';
import {
  createExperiment, createProject, experimentDto, organizationDto, projectDto, projectGetDto,
} from './containers.ts';
import { HttpError, parseJson, requireParam, sendBytes, sendJson, type BodyPool } from './http-util.ts';
import {
  arrayOf, backend, body, hdr, HOLDER, int32, int64, lbGet, lbPost, q, qa, ref, rq, type OpSpec,
} from './openapi.ts';
import { executeOperations, type BatchTarget } from './operations.ts';
import { attributeProperties, experimentAttributesDto, seriesValues, typedAttribute } from './reads.ts';
import {
  blobEntries, deleteProjectCascade, findProject, findWorkspace, listProjects, listWorkspaces, putAttr, resolveContainer, seriesPoints, type ContainerRow, type Db, stmt } from './store.ts';
import type { ResolvedLimits } from './types.ts';
import { buildSwagger, SWAGGER_APIS } from './swagger.ts';
import * as up from './uploads.ts';
import { Downloads } from './downloads.ts';
import { searchAttributes, searchEntries } from './leaderboard.ts';
import { notAnUpgrade } from './signals.ts';

export interface ServerState { db: Db; limits: ResolvedLimits; auth: Auth; baseUrl: string; downloads: Downloads; legacy: boolean }

export interface Ctx {
  req: IncomingMessage; res: ServerResponse; q: URLSearchParams; state: ServerState;
  /** `{name}` segments of the route's path template. */
  params: Record<string, string>;
  /** Username behind the bearer token ('' on unauthenticated routes). */
  user: string;
  /** The request body; with `pool`, in one of its buffers (http-util.ts BodyPool), to be given back once used. */
  body(max?: number, pool?: BodyPool): Promise<Buffer>;
}

/** 'none': no auth; 'bearer': `Authorization: Bearer <access token>` required. */
export interface Route {
  name: string; auth: 'none' | 'bearer';
  /** The swagger operation (served, and its required parameters enforced); absent for non-swagger routes. */
  spec?: OpSpec;
  handle(ctx: Ctx): Promise<void> | void;
}

function container(ctx: Ctx, ...params: string[]): { c: ContainerRow; target: BatchTarget } {
  const ident = requireParam(ctx.q, ...params);
  const c = resolveContainer(ctx.state.db, ident);
  if (!c) throw new HttpError(404, `Object '${ident}' not found`, { errorType: 'EXPERIMENT_NOT_FOUND' });
  const p = findProject(ctx.state.db, c.project_id);
  const qn = p ? (c.type === 'project' ? `${p.workspace}/${p.name}` : `${p.workspace}/${p.name}/${c.short_id}`) : c.id;
  return { c, target: { id: c.id, type: c.type, qualifiedName: qn } };
}

const EXP = ['experimentId', 'holderIdentifier'];
/** Typed attribute getters: `attribute` required, holder selector optional (2023 leaderboard.json, e.g. getFloatAttribute). */
const typedSpec = (model: string): OpSpec => lbGet([rq('attribute'), ...HOLDER], ref(model));
const typed = (types: string[]): Route['handle'] => (ctx) => {
  const { c } = container(ctx, ...EXP);
  const a = typedAttribute(ctx.state.db, c, requireParam(ctx.q, 'attribute'), types);
  sendJson(ctx.res, 200, attributeProperties(ctx.state.db, c, a));
};

/**
 * 2023 leaderboard.json fileAtomUpload…/fileSetFileUpload… (`…MultipartUploadStart/Part/Finish`): every
 * query parameter is required; a file set names its entry with `subPath` on all four, a file atom
 * its extension with `ext` on the single upload and `start`.
 */
function uploadSpecs(kind: 'file' | 'fileset'): Record<'single' | 'start' | 'part' | 'finish', OpSpec> {
  const who = [rq('attribute'), rq('experimentIdentifier')];
  const naming = kind === 'file' ? [rq('ext')] : [rq('subPath')];
  const named = kind === 'file' ? [] : [rq('subPath')];
  return {
    single: lbPost([...who, ...naming], ref('OperationErrorsListDTO')),
    start: lbPost([...who, ...naming, int64('totalLength', true)], ref('UploadMetadataDTO')),
    part: lbPost([...who, ...named, rq('uploadId'), int32('uploadPartIdx', true)], ref('OperationErrorsListDTO')),
    finish: lbPost([...who, ...named, rq('uploadId')], ref('OperationErrorsListDTO')),
  };
}

function uploadRoutes(kind: 'file' | 'fileset', op: 'fileAtom' | 'fileSetFile'): Record<string, Route> {
  const base = `POST /api/leaderboard/v1/attributes/storage/${kind}/upload`;
  const specs = uploadSpecs(kind);
  const uctx = (ctx: Ctx) => ({ db: ctx.state.db, limits: ctx.state.limits, target: container(ctx, 'experimentIdentifier').target, q: ctx.q });
  return {
    [base]: { name: `${op}Upload`, auth: 'bearer', spec: specs.single, async handle(ctx) {
      const u = uctx(ctx);
      sendJson(ctx.res, 200, up.singleUpload(u, kind, await ctx.body(ctx.state.limits.maxSinglePartSize)));
    } },
    [`${base}/start`]: { name: `${op}MultipartUploadStart`, auth: 'bearer', spec: specs.start, handle: (ctx) => sendJson(ctx.res, 200, up.multipartStart(uctx(ctx), kind)) },
    [`${base}/part`]: { name: `${op}MultipartUploadPart`, auth: 'bearer', spec: specs.part, async handle(ctx) {
      const u = uctx(ctx);
      const xr = ctx.req.headers['x-range'];
      sendJson(ctx.res, 200, up.multipartPart(u, kind, Array.isArray(xr) ? xr[0] : xr, await ctx.body(ctx.state.limits.maxChunkSize)));
    } },
    [`${base}/finish`]: { name: `${op}MultipartUploadFinish`, auth: 'bearer', spec: specs.finish, handle: (ctx) => sendJson(ctx.res, 200, up.multipartFinish(uctx(ctx), kind)) },
  };
}

/** getFloatSeriesValues / getStringSeriesValues: `offset` too, which every 1.x client sends (2023 leaderboard.json). */
const seriesSpec = (model: string): OpSpec => lbGet([rq('attribute'), ...HOLDER, int32('limit'), int32('offset')], ref(model));

export function buildRoutes(): Record<string, Route> {
  const table: Record<string, Route> = {
    // The token header is served as required (the 2.x served specs; 1.x clients send it) but not
    // enforced, as on a 3.x server: its spec says `required: false` (neptune-query 1.11.0
    // src/neptune_query/generated/neptune_api_spec/swagger/backend.json, from neptune.git bb87417) and
    // neptune-query never sends it (internal/api_utils.py `get_config_and_token_urls`).
    'GET /api/backend/v1/clients/config': { name: 'getClientConfig', auth: 'none', spec: { ...backend([hdr('X-Neptune-Api-Token', true), q('alpha')], ref('ClientConfig')), optionalOn3x: ['X-Neptune-Api-Token'] }, handle(ctx) {
      const { baseUrl, limits } = ctx.state;
      sendJson(ctx.res, 200, {
        apiUrl: baseUrl, applicationUrl: baseUrl,
        pyLibVersions: { minRecommendedVersion: '1.0.0', minCompatibleVersion: '1.0.0', maxCompatibleVersion: '1.99.0' },
        gzipUpload: false, sysNameSetByBackend: true,
        multiPartUpload: {
          enabled: true, minChunkSize: limits.minChunkSize, maxChunkSize: limits.maxChunkSize,
          maxChunkCount: limits.maxChunkCount, maxSinglePartSize: limits.maxSinglePartSize,
        },
        artifacts: { enabled: false },
        security: { clientId: CLIENT_ID, openIdDiscovery: `${baseUrl}${REALM_PATH}/.well-known/openid-configuration` },
      });
    } },
    'GET /api/backend/v1/authorization/oauth-token': { name: 'exchangeApiToken', auth: 'none', spec: backend([hdr('X-Neptune-Api-Token', true)], ref('NeptuneOauthToken')), handle(ctx) {
      const h = ctx.req.headers['x-neptune-api-token'];
      const user = ctx.state.auth.usernameForApiToken(Array.isArray(h) ? h[0] : h);
      if (!user) throw new HttpError(401, 'Invalid API token', { errorType: 'UNAUTHORIZED' });
      const t = ctx.state.auth.issue(user);
      sendJson(ctx.res, 200, { accessToken: t.accessToken, refreshToken: t.refreshToken, username: user });
    } },
    [`GET ${REALM_PATH}/.well-known/openid-configuration`]: { name: 'openIdDiscovery', auth: 'none', handle(ctx) {
      const iss = ctx.state.auth.issuer;
      sendJson(ctx.res, 200, { issuer: iss, token_endpoint: `${iss}/protocol/openid-connect/token`, authorization_endpoint: `${iss}/protocol/openid-connect/auth` });
    } },
    [`POST ${REALM_PATH}/protocol/openid-connect/token`]: { name: 'refreshToken', auth: 'none', async handle(ctx) {
      const form = new URLSearchParams((await ctx.body(64 * 1024)).toString('utf8'));
      sendJson(ctx.res, 200, ctx.state.auth.refresh(form, ctx.req.headers.authorization));
    } },
    'GET /api/backend/v1/myOrganizations': { name: 'listOrganizations', auth: 'bearer', spec: backend([], arrayOf('OrganizationWithRoleDTO')), handle(ctx) {
      sendJson(ctx.res, 200, listWorkspaces(ctx.state.db).map(organizationDto));
    } },
    'GET /api/backend/v1/projects': { name: 'listProjects', auth: 'bearer',
      spec: backend([q('organizationIdentifier'), q('userRelation'), q('searchTerm'), qa('sortBy'), qa('sortDirection'), int32('offset'), int32('limit')], ref('ProjectListDTO')),
      handle(ctx) {
      const org = ctx.q.get('organizationIdentifier');
      const ws = org ? findWorkspace(ctx.state.db, org) : undefined;
      if (org && !ws) throw new HttpError(404, `Workspace '${org}' not found`);
      const term = (ctx.q.get('searchTerm') ?? '').toLowerCase();
      const all = listProjects(ctx.state.db).filter((p) => (!ws || p.workspace_id === ws.id) && p.name.toLowerCase().includes(term));
      const offset = Number(ctx.q.get('offset') ?? 0) || 0;
      const limit = Number(ctx.q.get('limit') ?? 0) || all.length;
      sendJson(ctx.res, 200, { entries: all.slice(offset, offset + limit).map(projectDto), matchingItemCount: all.length, totalItemCount: listProjects(ctx.state.db).length });
    } },
    'POST /api/backend/v1/projects': { name: 'createProject', auth: 'bearer', spec: backend([body('projectToCreate', ref('NewProjectDTO'))], ref('ProjectWithRoleDTO')), async handle(ctx) {
      sendJson(ctx.res, 200, projectDto(createProject(ctx.state.db, parseJson(await ctx.body()), ctx.user)));
    } },
    'DELETE /api/backend/v1/projects': { name: 'deleteProject', auth: 'bearer', spec: backend([rq('projectIdentifier')]), handle(ctx) {
      // 2023 backend.json deleteProject (neptune-client 1.x management/internal/api.py delete_project).
      const ident = ctx.q.get('projectIdentifier') ?? '';
      const p = findProject(ctx.state.db, ident);
      if (!p) throw new HttpError(404, `Project '${ident}' not found`, { errorType: 'PROJECT_NOT_FOUND' });
      deleteProjectCascade(ctx.state.db, p.id);
      ctx.res.writeHead(200, { 'content-length': 0 });
      ctx.res.end();
    } },
    'GET /api/backend/v1/projects/get': { name: 'getProject', auth: 'bearer', spec: backend([rq('projectIdentifier')], ref('ProjectDTO')), handle(ctx) {
      const ident = requireParam(ctx.q, 'projectIdentifier');
      const p = findProject(ctx.state.db, ident);
      if (!p) throw new HttpError(404, `Project '${ident}' not found`);
      sendJson(ctx.res, 200, projectGetDto(p));
    } },
    'POST /api/leaderboard/v1/experiments': { name: 'createExperiment', auth: 'bearer',
      spec: lbPost([hdr('User-Agent'), hdr('X-Neptune-CliVersion'), hdr('X-Neptune-LegacyClient', false, 'boolean'), body('experimentCreationParams', ref('ExperimentCreationParams'))], ref('Experiment')),
      async handle(ctx) {
      const c = createExperiment(ctx.state.db, parseJson(await ctx.body()), ctx.user);
      sendJson(ctx.res, 200, experimentDto(ctx.state.db, c));
    } },
    'GET /api/leaderboard/v1/experiments': { name: 'getExperiment', auth: 'bearer', spec: lbGet([rq('experimentId')], ref('Experiment')), handle(ctx) {
      sendJson(ctx.res, 200, experimentDto(ctx.state.db, container(ctx, 'experimentId').c));
    } },
    'POST /api/leaderboard/v1/attributes/operations': { name: 'executeOperations', auth: 'bearer',
      spec: lbPost([hdr('User-Agent'), ...HOLDER, body('operations', arrayOf('Operation'))], arrayOf('OperationError')),
      async handle(ctx) {
      const { target } = container(ctx, ...EXP);
      const errors = executeOperations(ctx.state.db, ctx.state.limits, target, parseJson(await ctx.body()), { legacy: ctx.state.legacy });
      ctx.res.setHeader('x-emulator-rejected-operations', String(errors.length));
      sendJson(ctx.res, 200, errors);
    } },
    'POST /api/leaderboard/v1/attributes/ping': { name: 'ping', auth: 'bearer', spec: lbPost([q('experimentId')]), handle(ctx) {
      const { c } = container(ctx, 'experimentId');
      const now = Date.now();
      stmt(ctx.state.db, 'UPDATE containers SET ping_ms = ? WHERE id = ?').run(now, c.id);
      if (c.type === 'run') putAttr(ctx.state.db, c.id, 'sys/ping_time', 'datetime', now);
      ctx.res.writeHead(200, { 'content-length': 0 });
      ctx.res.end();
    } },
    'GET /api/leaderboard/v1/attributes': { name: 'getExperimentAttributes', auth: 'bearer', spec: lbGet([rq('experimentId')], ref('ExperimentAttributesDTO')), handle(ctx) {
      sendJson(ctx.res, 200, experimentAttributesDto(ctx.state.db, container(ctx, 'experimentId').c));
    } },
    'GET /api/leaderboard/v1/attributes/floats': { name: 'getFloatAttribute', auth: 'bearer', spec: typedSpec('FloatAttributeDTO'), handle: typed(['float']) },
    'GET /api/leaderboard/v1/attributes/integers': { name: 'getIntAttribute', auth: 'bearer', spec: typedSpec('IntAttributeDTO'), handle: typed(['int']) },
    'GET /api/leaderboard/v1/attributes/booleans': { name: 'getBoolAttribute', auth: 'bearer', spec: typedSpec('BoolAttributeDTO'), handle: typed(['bool']) },
    'GET /api/leaderboard/v1/attributes/strings': { name: 'getStringAttribute', auth: 'bearer', spec: typedSpec('StringAttributeDTO'), handle: typed(['string']) },
    'GET /api/leaderboard/v1/attributes/datetimes': { name: 'getDatetimeAttribute', auth: 'bearer', spec: typedSpec('DatetimeAttributeDTO'), handle: typed(['datetime']) },
    'GET /api/leaderboard/v1/attributes/files': { name: 'getFileAttribute', auth: 'bearer', spec: typedSpec('FileAttributeDTO'), handle: typed(['file']) },
    'GET /api/leaderboard/v1/attributes/stringSets': { name: 'getStringSetAttribute', auth: 'bearer', spec: typedSpec('StringSetAttributeDTO'), handle: typed(['stringSet']) },
    'GET /api/leaderboard/v1/attributes/floatSeries': { name: 'getFloatSeriesAttribute', auth: 'bearer', spec: typedSpec('FloatSeriesAttributeDTO'), handle: typed(['floatSeries']) },
    'GET /api/leaderboard/v1/attributes/stringSeries': { name: 'getStringSeriesAttribute', auth: 'bearer', spec: typedSpec('StringSeriesAttributeDTO'), handle: typed(['stringSeries']) },
    'GET /api/leaderboard/v1/attributes/series/float': { name: 'getFloatSeriesValues', auth: 'bearer', spec: seriesSpec('FloatSeriesValuesDTO'), handle(ctx) {
      sendJson(ctx.res, 200, seriesValues(ctx.state.db, container(ctx, 'experimentId').c, requireParam(ctx.q, 'attribute'), 'float', ctx.q));
    } },
    'GET /api/leaderboard/v1/attributes/series/string': { name: 'getStringSeriesValues', auth: 'bearer', spec: seriesSpec('StringSeriesValuesDTO'), handle(ctx) {
      sendJson(ctx.res, 200, seriesValues(ctx.state.db, container(ctx, 'experimentId').c, requireParam(ctx.q, 'attribute'), 'string', ctx.q));
    } },
    // 2023 leaderboard.json `getImageSeriesValues`: ImageSeriesValuesDTO as served holds only `totalItemCount`.
    'GET /api/leaderboard/v1/attributes/series/image': { name: 'getImageSeriesValues', auth: 'bearer', spec: seriesSpec('ImageSeriesValuesDTO'), handle(ctx) {
      const { c } = container(ctx, ...EXP);
      const a = typedAttribute(ctx.state.db, c, requireParam(ctx.q, 'attribute'), ['imageSeries']);
      sendJson(ctx.res, 200, { totalItemCount: seriesPoints(ctx.state.db, c.id, a.path).length });
    } },
    // 2023 leaderboard.json `getImageSeriesValue`: `index` (int32, required) → the image file (`type: file`),
    // the n-th of the series in step order; the stored `Image.data` is base64 (swagger `Image`, neptune-client
    // `ImageSeries` sends the encoded file).
    'GET /api/leaderboard/v1/attributes/series/image/single': { name: 'getImageSeriesValue', auth: 'bearer',
      spec: lbGet([rq('attribute'), ...HOLDER, int32('index', true)], { type: 'file' }), handle(ctx) {
      const { c } = container(ctx, ...EXP);
      const a = typedAttribute(ctx.state.db, c, requireParam(ctx.q, 'attribute'), ['imageSeries']);
      const index = Number(requireParam(ctx.q, 'index'));
      const points = seriesPoints(ctx.state.db, c.id, a.path);
      if (!Number.isInteger(index) || index < 0 || index >= points.length) throw new HttpError(404, `Image ${ctx.q.get('index')} not found in '${a.path}' (${points.length} images)`);
      const image = JSON.parse(points[index].str ?? '{}') as { data?: string; name?: string };
      sendBytes(ctx.res, Buffer.from(image.data ?? '', 'base64'), image.name ?? `${index}`);
    } },
    'GET /api/leaderboard/v1/attributes/download': { name: 'downloadAttribute', auth: 'bearer',
      spec: lbGet([rq('attribute'), q('expectedContentDisposition', 'string', { enum: ['inline', 'attachment'], default: 'attachment' }), ...HOLDER, q('path')], { type: 'file' }, ['application/json', 'application/octet-stream']),
      handle(ctx) {
      const { c } = container(ctx, ...EXP);
      const a = typedAttribute(ctx.state.db, c, requireParam(ctx.q, 'attribute'), ['file', 'fileSet']);
      const entries = blobEntries(ctx.state.db, c.id, a.path);
      if (a.type === 'file') {
        const meta = JSON.parse(a.value ?? '{}') as { name?: string };
        if (!entries[0]) throw new HttpError(404, `File '${a.path}' has no content`);
        return sendBytes(ctx.res, entries[0].data, meta.name ?? a.path);
      }
      const sub = requireParam(ctx.q, 'path').replace(/^\/+/, '');
      const e = entries.find((x) => x.sub_path === sub);
      if (!e) throw new HttpError(404, `File '${sub}' not found in file set '${a.path}'`);
      sendBytes(ctx.res, e.data, sub.slice(sub.lastIndexOf('/') + 1));
    } },
    'GET /api/leaderboard/v1/attributes/ls': { name: 'lsFileSetAttribute', auth: 'bearer', spec: lbGet([rq('attribute'), ...HOLDER, rq('path')], arrayOf('FileEntry')), handle(ctx) {
      const { c } = container(ctx, ...EXP);
      const a = typedAttribute(ctx.state.db, c, requireParam(ctx.q, 'attribute'), ['fileSet']);
      const dir = (ctx.q.get('path') ?? '').replace(/^\/+|\/+$/g, '');
      const prefix = dir ? `${dir}/` : '';
      const seen = new Map<string, Record<string, unknown>>();
      for (const e of blobEntries(ctx.state.db, c.id, a.path)) {
        if (!e.sub_path.startsWith(prefix)) continue;
        const rest = e.sub_path.slice(prefix.length);
        const slash = rest.indexOf('/');
        const name = slash === -1 ? rest : rest.slice(0, slash);
        const mtime = new Date(e.mtime_ms).toISOString();
        if (slash === -1) seen.set(name, { name, fileType: 'file', size: e.data.length, mtime });
        else if (!seen.has(name)) seen.set(name, { name, fileType: 'directory', mtime });
      }
      sendJson(ctx.res, 200, [...seen.values()]);
    } },
    'POST /api/leaderboard/v1/leaderboard/entries/search': { name: 'searchLeaderboardEntries', auth: 'bearer',
      spec: lbPost([body('params', ref('SearchLeaderboardEntriesParamsDTO')), rq('projectIdentifier'), qa('type')], ref('LeaderboardEntriesSearchResultDTO')),
      async handle(ctx) {
        const params = parseJson(await ctx.body());
        sendJson(ctx.res, 200, searchEntries(ctx.state.db, ctx.q.get('projectIdentifier') ?? '', ctx.q.getAll('type'), params));
      } },
    'POST /api/leaderboard/v1/leaderboard/attributes/search': { name: 'searchLeaderboardAttributes', auth: 'bearer',
      spec: lbPost([int32('limit'), body('params', ref('SearchLeaderboardParamsDTO')), rq('projectIdentifier'), q('search'), qa('type')], ref('AttributesSearchResultDTO')),
      async handle(ctx) {
        await ctx.body();
        sendJson(ctx.res, 200, searchAttributes(ctx.state.db, ctx.q.get('projectIdentifier') ?? '', ctx.q.getAll('type'), ctx.q.get('search') ?? ''));
      } },
    'POST /api/leaderboard/v1/attributes/downloadFileSetZipRequest': { name: 'prepareForDownloadFileSetAttributeZip', auth: 'bearer',
      spec: lbPost([rq('attribute'), ...HOLDER], ref('DownloadPrepareRequest')),
      handle(ctx) {
        const { c } = container(ctx, ...EXP);
        const a = typedAttribute(ctx.state.db, c, ctx.q.get('attribute') ?? '', ['fileSet']);
        sendJson(ctx.res, 200, ctx.state.downloads.prepare(ctx.state.db, c.id, a.path));
      } },
    'GET /api/leaderboard/v1/download/downloadRequest': { name: 'getDownloadPrepareRequest', auth: 'bearer',
      spec: lbGet([rq('id', 'string', { format: 'uuid' })], ref('DownloadPrepareRequest')),
      handle: (ctx) => sendJson(ctx.res, 200, ctx.state.downloads.status(ctx.q.get('id') ?? '', ctx.state.baseUrl)) },
    'GET /api/leaderboard/v1/download/downloadFile': { name: 'download', auth: 'bearer',
      spec: lbGet([rq('id', 'string', { format: 'uuid' })], { type: 'file' }),
      handle(ctx) {
        const d = ctx.state.downloads.get(ctx.q.get('id') ?? '');
        sendBytes(ctx.res, d.zip, d.name, 'application/zip');
      } },
    // Not in the swagger specs: the WebSocket channel (signals.ts); a plain GET is refused as Spring does.
    'GET /api/notifications/v1/runs/{projectId}/{runId}/signal': { name: 'signalChannel', auth: 'bearer', handle: notAnUpgrade },
    ...uploadRoutes('file', 'fileAtom'),
    ...uploadRoutes('fileset', 'fileSetFile'),
    'POST /api/leaderboard/v1/attributes/uploadFileSetTar': { name: 'uploadFileSetAttributeTar', auth: 'bearer', spec: lbPost([rq('attribute'), q('experimentId'), q('reset', 'boolean', { default: false })], ref('Optional«OperationError»')), async handle(ctx) {
      const { target } = container(ctx, 'experimentId');
      const u = { db: ctx.state.db, limits: ctx.state.limits, target, q: ctx.q };
      sendJson(ctx.res, 200, up.uploadTar(u, await ctx.body()));
    } },
    'POST /api/leaderboard/v1/attributes/upload': { name: 'uploadAttribute', auth: 'bearer', spec: lbPost([rq('attribute'), q('experimentId'), rq('ext')], ref('Optional«OperationError»')), async handle(ctx) {
      const { target } = container(ctx, 'experimentId');
      const u = { db: ctx.state.db, limits: ctx.state.limits, target, q: ctx.q };
      sendJson(ctx.res, 200, up.legacyUpload(u, await ctx.body(ctx.state.limits.maxSinglePartSize)));
    } },
  };
  for (const api of SWAGGER_APIS) {
    table[`GET /api/${api}/swagger.json`] = { name: `${api}Swagger`, auth: 'none', handle(ctx) {
      sendJson(ctx.res, 200, buildSwagger(api, table, ctx.req.headers.host));
    } };
  }
  return table;
}
