import type { NeptuneApi } from './api.ts';
import { workspaceId, workspaceNotFound } from './projects.ts';

/**
 * The workspaces the token reaches, from `GET /api/backend/v1/myOrganizations` (reference
 * `neptune-api.md`, "List workspaces"); undefined when the server does not offer the listing (404).
 * The first call also proves the credentials and that the server answers (token exchange).
 */
export async function listWorkspaces(api: NeptuneApi, signal?: AbortSignal): Promise<string[] | undefined> {
  const { status, data } = await api.json<Array<{ name?: unknown }>>({
    method: 'GET', path: '/api/backend/v1/myOrganizations', acceptStatus: [404], signal, what: 'workspaces',
  });
  if (status !== 200 || !Array.isArray(data)) return undefined;
  return data.map((w) => w.name).filter((n): n is string => typeof n === 'string');
}

/**
 * Before any run is read: credentials, reachability, and the workspace — found the way project
 * creation finds it (listed, else asked for by name), so the two never disagree. A server that
 * cannot list workspaces is taken on trust.
 */
export async function checkWorkspace(api: NeptuneApi, workspace: string, signal?: AbortSignal): Promise<void> {
  const { id, listed } = await workspaceId(api, workspace, signal);
  if (!id && listed) throw workspaceNotFound(workspace, listed);
}
