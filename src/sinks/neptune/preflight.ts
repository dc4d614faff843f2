import { ConfigError } from '../../core/errors.ts';
import type { NeptuneApi } from './api.ts';

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

/** Before any run is read: credentials, reachability, and the workspace (a server that cannot list is taken on trust). */
export async function checkWorkspace(api: NeptuneApi, workspace: string, signal?: AbortSignal): Promise<void> {
  const names = await listWorkspaces(api, signal);
  if (!names || names.includes(workspace)) return;
  throw new ConfigError([
    `Neptune workspace "${workspace}" not found; the API token reaches: ${names.length ? names.join(', ') : '(no workspace)'} (pass --workspace, or set NEPTUNE_PROJECT=workspace/project)`,
  ]);
}
