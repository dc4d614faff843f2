import { ConfigError } from '../../core/errors.ts';
import type { NeptuneApi } from './api.ts';

/**
 * Before any run is read: the token exchange (credentials, reachability) and the workspace. The
 * workspaces the token reaches come from `GET /api/backend/v1/myOrganizations` (reference
 * `neptune-api.md`, "List workspaces"); a server that does not offer the listing (404) is taken on trust.
 */
export async function checkWorkspace(api: NeptuneApi, workspace: string, signal?: AbortSignal): Promise<void> {
  const { status, data } = await api.json<Array<{ name?: unknown }>>({
    method: 'GET', path: '/api/backend/v1/myOrganizations', acceptStatus: [404], signal, what: 'workspaces',
  });
  if (status !== 200 || !Array.isArray(data)) return;
  const names = data.map((w) => w.name).filter((n): n is string => typeof n === 'string');
  if (names.includes(workspace)) return;
  throw new ConfigError([
    `Neptune workspace "${workspace}" not found; the API token reaches: ${names.length ? names.join(', ') : '(no workspace)'} (pass --workspace, or set NEPTUNE_PROJECT=workspace/project)`,
  ]);
}
