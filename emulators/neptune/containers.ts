/**
 * Workspaces, projects and runs (neptune-api.md §2.2–2.3). A project is also a metadata
 * container whose id is the project's uuid: neptune-client 1.x `init_project` uses
 * `Project.id` from getProject as the container id for executeOperations and never calls
 * createExperiment, so project-level fields simply land on that container.
 */
import { randomUUID } from 'node:crypto';
import { HttpError, HttpTextError, isPlainObject } from './http-util.ts';
import {
  findProject, findWorkspace, putAttr, type ContainerRow, type Db, type ProjectRow, type WorkspaceRow, stmt } from './store.ts';

type ProjectWithWs = ProjectRow & { workspace: string };

const VISIBILITIES = new Set(['priv', 'pub', 'workspace']);
/** docs.neptune.ai/projects: 3–128 characters, none of / \ # ? % : and no 4-byte characters. */
const NAME_FORBIDDEN = /[/\\#?%:]/;
const KEY_RE = /^(?=.*[A-Z])[A-Z0-9]{1,10}$/;

function nameProblem(name: string): string | undefined {
  if (name.length < 3 || name.length > 128) return 'Project name must consist of 3-128 characters';
  if (NAME_FORBIDDEN.test(name)) return 'Project name must not contain / \\ # ? % :';
  if ([...name].some((c) => (c.codePointAt(0) ?? 0) > 0xffff)) return 'Project name must not contain 4-byte characters';
  return undefined;
}

function generateKey(db: Db, workspaceId: string, name: string): string {
  const letters = name.toUpperCase().replace(/[^A-Z0-9]/g, '');
  let base = letters.slice(0, 3);
  if (!/[A-Z]/.test(base)) base = 'PRJ';
  const taken = (k: string) => stmt(db, 'SELECT 1 FROM projects WHERE workspace_id = ? AND key = ?').get(workspaceId, k) !== undefined;
  if (!taken(base)) return base;
  for (let i = 2; ; i++) if (!taken(`${base}${i}`)) return `${base}${i}`;
}

const validationError = (field: string, context: string) =>
  new HttpError(400, `Validation failed: ${context}`, {
    validationErrors: [{ path: field, errors: [{ errorCode: { name: 'ERR_NOT_UNIQUE' }, context }] }],
  });

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * `POST /api/backend/v1/projects` (createProject). Two forms of `NewProjectDTO`, told apart by the body:
 * - 2.x: the served specs' (2023 and minfx backend.json) requires `organizationId`, a uuid, and has no
 *   `organizationIdentifier`; a body without the uuid is refused (400) as those servers refuse it. An
 *   unknown `organizationIdentifier` next to a valid `organizationId` is ignored, as Jackson ignores
 *   unknown properties. An existing name is a 400 validation error (neptune-client 1.x maps it to
 *   `ProjectAlreadyExists`).
 * - 3.x: neptune-api 0.22 `codegen/swagger/backend.json` `NewProjectDTO` requires `organizationIdentifier`
 *   (the workspace name) and `name`, and has no `organizationId`; neptune-client-scale 0.29.0
 *   `net/projects.py` `create_project` sends exactly that and reads an existing project as 409 and an
 *   unknown workspace as 404 with the plain text `Organization … not found` (neptune-api.md §3.1). This
 *   emulator is a 3.x server that still answers 2.x clients, so a body in the 3.x form gets 3.x answers.
 */
export function createProject(db: Db, body: unknown, owner: string): ProjectWithWs {
  if (!isPlainObject(body)) throw new HttpError(400, 'Body must be a NewProjectDTO object');
  const orgId = body.organizationId;
  const v3 = (orgId === undefined || orgId === null) && typeof body.organizationIdentifier === 'string';
  if (!v3 && (orgId === undefined || orgId === null)) {
    throw new HttpError(400, 'NewProjectDTO.organizationId is required', {
      validationErrors: [{ path: 'organizationId', errors: [{ errorCode: { name: 'ERR_NOT_NULL' }, context: 'must not be null' }] }],
    });
  }
  // Jackson cannot read a non-uuid into java.util.UUID: HttpMessageNotReadableException → 400.
  if (!v3 && (typeof orgId !== 'string' || !UUID_RE.test(orgId))) throw new HttpError(400, `JSON parse error: organizationId '${String(orgId)}' is not a UUID`);
  if (typeof body.name !== 'string') throw new HttpError(400, 'name is required');
  const orgIdent = v3 ? body.organizationIdentifier as string : orgId as string;
  const ws = findWorkspace(db, orgIdent);
  if (!ws && v3) throw new HttpTextError(404, `Organization ${orgIdent} not found`);
  if (!ws) throw new HttpError(404, `Workspace '${orgIdent}' not found`, { errorType: 'INCORRECT_IDENTIFIER', identifier: orgIdent });
  const name = body.name;
  const np = nameProblem(name);
  if (np) throw new HttpError(400, np, { errorType: 'PROJECT_NAME_INVALID', name, reason: np });
  const visibility = body.visibility === undefined || body.visibility === null ? 'priv' : body.visibility;
  if (typeof visibility !== 'string' || !VISIBILITIES.has(visibility)) throw new HttpError(400, `Invalid visibility '${String(visibility)}'`);
  const description = typeof body.description === 'string' ? body.description : null;
  let key: string;
  if (typeof body.projectKey === 'string' && body.projectKey !== '') {
    key = body.projectKey;
    if (!KEY_RE.test(key)) {
      const reason = 'Project key must be 1-10 upper-case letters or digits with at least one letter';
      throw new HttpError(400, reason, { errorType: 'PROJECT_KEY_INVALID', key, reason });
    }
  } else key = generateKey(db, ws.id, name);

  return db.transaction(() => {
    if (stmt(db, 'SELECT 1 FROM projects WHERE workspace_id = ? AND name = ?').get(ws.id, name)) {
      const exists = `Project '${ws.name}/${name}' already exists`;
      throw v3 ? new HttpError(409, exists) : validationError('name', exists);
    }
    if (stmt(db, 'SELECT 1 FROM projects WHERE workspace_id = ? AND key = ?').get(ws.id, key)) {
      throw new HttpError(400, `Project key '${key}' is already used`, { errorType: 'PROJECT_KEY_COLLISION', key });
    }
    const now = Date.now();
    const row: ProjectRow = { id: randomUUID(), workspace_id: ws.id, name, key, visibility, description, created_ms: now, run_counter: 0 };
    stmt(db, 
      `INSERT INTO projects(id, workspace_id, name, key, visibility, description, created_ms, run_counter)
       VALUES (@id, @workspace_id, @name, @key, @visibility, @description, @created_ms, @run_counter)`,
    ).run(row);
    stmt(db, 'INSERT INTO containers(id, project_id, type, short_id, custom_id, created_ms) VALUES (?, ?, ?, ?, NULL, ?)').run(
      row.id, row.id, 'project', key, now,
    );
    putAttr(db, row.id, 'sys/id', 'string', key);
    putAttr(db, row.id, 'sys/name', 'string', name);
    putAttr(db, row.id, 'sys/description', 'string', description ?? '');
    putAttr(db, row.id, 'sys/owner', 'string', owner);
    putAttr(db, row.id, 'sys/creation_time', 'datetime', now);
    putAttr(db, row.id, 'sys/modification_time', 'datetime', now);
    return { ...row, workspace: ws.name };
  })();
}

/**
 * `GET /projects/get` answers only these (recorded 2023 traffic, issue 8; the served ProjectDTO,
 * 2023 backend.json, has exactly these six properties).
 */
export function projectGetDto(p: ProjectWithWs): Record<string, unknown> {
  return { id: p.id, organizationId: p.workspace_id, organizationName: p.workspace, projectKey: p.key, name: p.name, version: 2 };
}

/** ProjectWithRoleDTO (createProject, listProjects entries). */
export function projectDto(p: ProjectWithWs): Record<string, unknown> {
  const created = new Date(p.created_ms).toISOString();
  return {
    id: p.id, name: p.name, organizationName: p.workspace, organizationId: p.workspace_id, projectKey: p.key, version: 2,
    visibility: p.visibility, description: p.description ?? undefined, timeOfCreation: created, lastActivity: created,
    userCount: 1, organizationType: 'team', featured: false, codeAccess: 'ownerOnly', userRoleInProject: 'manager',
    userRoleInOrganization: 'owner', avatarUrl: '', avatarSource: 'default', archived: false, displayClass: '',
  };
}

export function organizationDto(w: WorkspaceRow): Record<string, unknown> {
  const created = new Date(w.created_ms).toISOString();
  return {
    id: w.id, name: w.name, created, paymentStatus: 'active', avatarUrl: '', avatarSource: 'default', organizationType: 'team',
    limitsEnforced: false, pricingPlan: 'team', userRole: 'owner',
    organization: { id: w.id, name: w.name, created, organizationType: 'team', avatarUrl: '', avatarSource: 'default' },
  };
}

export function experimentDto(db: Db, c: ContainerRow): Record<string, unknown> {
  const p = findProject(db, c.project_id);
  if (!p) throw new HttpError(404, 'Project of this container no longer exists');
  return {
    id: c.id, shortId: c.short_id, customId: c.custom_id ?? undefined, organizationId: p.workspace_id, organizationName: p.workspace,
    projectId: p.id, projectName: p.name, parentId: p.id, trashed: false, type: c.type,
  };
}

/** `POST /api/leaderboard/v1/experiments`: the same non-empty `customId` in a project returns the same run. */
export function createExperiment(db: Db, body: unknown, owner: string): ContainerRow {
  if (!isPlainObject(body)) throw new HttpError(400, 'Body must be an ExperimentCreationParams object');
  const ident = typeof body.projectIdentifier === 'string' ? body.projectIdentifier : typeof body.projectId === 'string' ? body.projectId : undefined;
  if (!ident) throw new HttpError(400, 'projectIdentifier is required');
  const p = findProject(db, ident);
  if (!p) throw new HttpError(404, `Project '${ident}' not found`);
  const type = body.type ?? 'run';
  if (type === 'project') return stmt(db, 'SELECT * FROM containers WHERE id = ?').get(p.id) as ContainerRow;
  if (type !== 'run') throw new HttpError(400, `Container type '${String(type)}' is not supported by this server`);
  if (body.parentId !== undefined && body.parentId !== null && body.parentId !== p.id) {
    throw new HttpError(400, 'parentId of a run must be its project id');
  }
  const customId = typeof body.customId === 'string' && body.customId !== '' ? body.customId : null;
  return db.transaction(() => {
    if (customId !== null) {
      const found = stmt(db, 'SELECT * FROM containers WHERE project_id = ? AND custom_id = ?').get(p.id, customId) as ContainerRow | undefined;
      if (found) return found;
    }
    const n = (stmt(db, 'UPDATE projects SET run_counter = run_counter + 1 WHERE id = ? RETURNING run_counter').get(p.id) as { run_counter: number }).run_counter;
    const now = Date.now();
    // `sys/state` is `running` right after createExperiment (recorded 2023 traffic, issue 8): creation
    // counts as the first ping.
    const row: ContainerRow = { id: randomUUID(), project_id: p.id, type: 'run', short_id: `${p.key}-${n}`, custom_id: customId, created_ms: now, ping_ms: now };
    stmt(db, 
      'INSERT INTO containers(id, project_id, type, short_id, custom_id, created_ms, ping_ms) VALUES (@id, @project_id, @type, @short_id, @custom_id, @created_ms, @ping_ms)',
    ).run(row);
    const sys: Array<[string, string, unknown]> = [
      ['sys/id', 'string', row.short_id], ['sys/name', 'string', 'Untitled'], ['sys/description', 'string', ''],
      ['sys/owner', 'string', owner], ['sys/creation_time', 'datetime', now], ['sys/modification_time', 'datetime', now],
      ['sys/ping_time', 'datetime', now], ['sys/failed', 'bool', false], ['sys/trashed', 'bool', false],
      ['sys/running_time', 'float', 0], ['sys/monitoring_time', 'int', 0], ['sys/size', 'float', 0],
      ['sys/state', 'experimentState', 'idle'], ['sys/tags', 'stringSet', undefined],
    ];
    if (customId !== null) sys.push(['sys/custom_run_id', 'string', customId]);
    if (isPlainObject(body.gitInfo)) sys.push(['source_code/git', 'gitRef', body.gitInfo]);
    for (const [path, t, v] of sys) putAttr(db, row.id, path, t, v);
    return row;
  })();
}

/** Legacy `sys/state` is derived from pings (neptune-api.md §2.7): running while pings are recent. */
export const PING_ACTIVE_MS = 30_000;
export function stateOf(c: ContainerRow, now = Date.now()): 'running' | 'idle' {
  return c.ping_ms !== null && now - c.ping_ms < PING_ACTIVE_MS ? 'running' : 'idle';
}
