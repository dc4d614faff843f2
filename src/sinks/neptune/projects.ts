import { ConfigError, HttpError, TargetError } from '../../core/errors.ts';
import type { NeptuneApi } from './api.ts';

export interface ProjectInfo {
  /** UUID: the container id for project-level fields and the parent of runs. */
  id: string;
  workspace: string;
  name: string;
  /** Short-id prefix of its runs ("SAN" in SAN-1). */
  key?: string;
}

export interface EnsureProjectOptions {
  description?: string;
  /** @default 'priv' */
  visibility?: 'priv' | 'pub' | 'workspace';
}

interface ProjectJson {
  id?: unknown;
  name?: unknown;
  organizationName?: unknown;
  projectKey?: unknown;
  version?: unknown;
}

function toInfo(p: ProjectJson | undefined, workspace: string, name: string): ProjectInfo {
  if (typeof p?.id !== 'string') throw new TargetError(`Neptune answered without an id for project ${workspace}/${name}`);
  if (typeof p.version === 'number' && p.version < 2) {
    throw new TargetError(`Neptune project ${workspace}/${name} is a legacy (version ${p.version}) project; it cannot take runs`);
  }
  return {
    id: p.id,
    workspace: typeof p.organizationName === 'string' ? p.organizationName : workspace,
    name: typeof p.name === 'string' ? p.name : name,
    key: typeof p.projectKey === 'string' ? p.projectKey : undefined,
  };
}

export async function getProject(api: NeptuneApi, workspace: string, name: string, signal?: AbortSignal): Promise<ProjectInfo | undefined> {
  const { status, data } = await api.json<ProjectJson>({
    method: 'GET',
    path: '/api/backend/v1/projects/get',
    query: { projectIdentifier: `${workspace}/${name}` },
    acceptStatus: [404],
    signal,
    what: `project ${workspace}/${name}`,
  });
  return status === 404 ? undefined : toInfo(data, workspace, name);
}

/**
 * The workspace's uuid, which the served specs' `NewProjectDTO` requires as `organizationId`. As the
 * official 1.x client does (`management.create_project`), from `listOrganizations`; a workspace it
 * does not list is asked for by name (`getOrganization`, `GET /organizations2/{organization}`).
 * `listed` is undefined when the server has no `listOrganizations`.
 */
export async function workspaceId(api: NeptuneApi, workspace: string, signal?: AbortSignal): Promise<{ id?: string; listed?: string[] }> {
  const { status, data } = await api.json<Array<{ id?: unknown; name?: unknown }>>({
    method: 'GET', path: '/api/backend/v1/myOrganizations', acceptStatus: [404], signal, what: 'workspaces',
  });
  const listed = status === 200 && Array.isArray(data) ? data.map((w) => String(w.name)) : undefined;
  const hit = Array.isArray(data) ? data.find((w) => w.name === workspace) : undefined;
  if (typeof hit?.id === 'string') return { id: hit.id, listed };
  const one = await api.json<{ id?: unknown }>({
    method: 'GET', path: `/api/backend/v1/organizations2/${encodeURIComponent(workspace)}`, acceptStatus: [403, 404], signal, what: `workspace ${workspace}`,
  });
  return { id: one.status === 200 && typeof one.data?.id === 'string' ? one.data.id : undefined, listed };
}

/** One message for an unknown workspace, from the pre-flight check and from project creation alike. */
export function workspaceNotFound(workspace: string, listed: readonly string[]): ConfigError {
  return new ConfigError([
    `Neptune workspace "${workspace}" not found; the API token reaches: ${listed.length ? listed.join(', ') : '(no workspace)'} (pass --workspace, or set NEPTUNE_PROJECT=workspace/project)`,
  ]);
}

/** "Already exists" in any of the forms servers use: 409, ERR_NOT_UNIQUE validation errors, name collision. */
export function isAlreadyExists(status: number, body: string): boolean {
  if (status === 409) return true;
  return status === 400 && /ERR_NOT_UNIQUE|PROJECT_NAME_COLLISION|PROJECT_KEY_COLLISION|already exists/i.test(body);
}

/** Gets the project, creating it (private by default) when missing; a concurrent creation is tolerated. */
export async function ensureProject(api: NeptuneApi, workspace: string, name: string, opts: EnsureProjectOptions = {}, signal?: AbortSignal): Promise<ProjectInfo & { created: boolean }> {
  const existing = await getProject(api, workspace, name, signal);
  if (existing) return { ...existing, created: false };
  const { id: organizationId, listed } = await workspaceId(api, workspace, signal);
  if (!organizationId && listed) throw workspaceNotFound(workspace, listed);
  // Newer servers take the workspace name (`organizationIdentifier`), the served 2023/minfx specs its uuid: send both.
  const body = {
    name,
    description: opts.description ?? '',
    visibility: opts.visibility ?? 'priv',
    organizationIdentifier: workspace,
    ...(organizationId ? { organizationId } : {}),
  };
  try {
    const res = await api.call({
      method: 'POST', path: '/api/backend/v1/projects', json: body, acceptStatus: [400, 409], signal, what: `create project ${workspace}/${name}`,
    });
    const text = res.body.toString('utf8');
    if (res.status === 200 || res.status === 201) {
      return { ...toInfo(JSON.parse(text) as ProjectJson, workspace, name), created: true };
    }
    if (!isAlreadyExists(res.status, text)) {
      throw new TargetError(`Neptune refused to create project ${workspace}/${name}: HTTP ${res.status} ${text.slice(0, 300)}`);
    }
  } catch (e) {
    if (!(e instanceof HttpError && isAlreadyExists(e.status, e.body ?? ''))) throw e;
  }
  const again = await getProject(api, workspace, name, signal);
  if (!again) throw new TargetError(`Neptune project ${workspace}/${name} reported as existing but cannot be read`);
  return { ...again, created: false };
}
