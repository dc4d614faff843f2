import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNeptuneEmulator, type NeptuneEmulator } from '../../emulators/neptune/index.ts';
import { runCli } from '../support/cli.ts';
import { findRuns } from '../local/helpers.ts';
import { startNeptuneProxy, type NeptuneProxy } from '../neptune/proxy.ts';

/**
 * Issue 8 (c): project creation sends `organizationId`, the workspace's uuid, which the served specs'
 * `NewProjectDTO` requires (the emulator enforces it), and keeps `organizationIdentifier`. A workspace
 * `listOrganizations` does not list is looked up by name; one that does not exist is a clear error
 * naming the workspaces there are (exit 2), not a refused creation per run.
 */
let emu: NeptuneEmulator;
let proxy: NeptuneProxy;
let dir: string;
let demoId: string;

async function workspaceIds(): Promise<Map<string, string>> {
  const auth = await fetch(`${emu.url}/api/backend/v1/authorization/oauth-token`, { headers: { 'x-neptune-api-token': emu.apiToken() } });
  const { accessToken } = (await auth.json()) as { accessToken: string };
  const res = await fetch(`${emu.url}/api/backend/v1/myOrganizations`, { headers: { authorization: `Bearer ${accessToken}` } });
  return new Map(((await res.json()) as Array<{ id: string; name: string }>).map((w) => [w.name, w.id]));
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'w2n-org-'));
  const run = join(dir, 'wandb', 'run-20240301_120000-orgrun1');
  mkdirSync(run, { recursive: true });
  writeFileSync(join(run, 'wandb-metadata.json'), JSON.stringify({ project: 'org-test' }));
  writeFileSync(join(run, 'wandb-history.jsonl'), [0, 1, 2].map((i) => JSON.stringify({ _step: i, _timestamp: 1_709_294_400 + i, x: i })).join('\n') + '\n');
  emu = await startNeptuneEmulator({ workspaces: ['demo', 'other'] });
  demoId = (await workspaceIds()).get('demo')!;
  proxy = await startNeptuneProxy(emu);
  // A server whose workspace list does not show `demo` (a service account's view), but that knows it by name.
  proxy.decide = (r) => {
    if (r.path === '/api/backend/v1/myOrganizations') return { kind: 'respond', status: 200, json: [{ id: '00000000-0000-4000-8000-000000000001', name: 'other' }] };
    if (r.path === '/api/backend/v1/organizations2/demo') return { kind: 'respond', status: 200, json: { id: demoId, name: 'demo' } };
    if (r.path.startsWith('/api/backend/v1/organizations2/')) return { kind: 'respond', status: 404, json: { message: 'not found' } };
    return { kind: 'forward' };
  };
}, 60_000);

afterAll(async () => {
  await proxy?.close();
  await emu?.close();
  rmSync(dir, { recursive: true, force: true });
});

const migrate = (workspace: string, ledger: string) =>
  runCli(
    ['migrate', '--source', join(dir, 'wandb'), '--workspace', workspace, '--yes', '--ledger', join(dir, ledger)],
    { NEPTUNE_API_TOKEN: proxy.apiToken(), NEPTUNE_PROJECT: `${workspace}/placeholder` },
    dir,
  ).done;

describe('project creation names the workspace by uuid', () => {
  it('creates the project with organizationId (and organizationIdentifier) and migrates the run', async () => {
    const out = await migrate('demo', 'a.sqlite');
    expect(out.code, out.stderr + out.stdout).toBe(0);
    const create = proxy.recorded.find((r) => r.method === 'POST' && r.path === '/api/backend/v1/projects');
    expect(JSON.parse(create!.body.toString('utf8'))).toMatchObject({ name: 'org-test', organizationId: demoId, organizationIdentifier: 'demo' });
    const [run] = findRuns(emu, 'orgrun1');
    expect(run.project).toBe('demo/org-test');
    expect(emu.inspect.floatSeries(run.id, 'x').map((p) => p.value)).toEqual([0, 1, 2]);
  });

  it('a workspace that does not exist is one clear error naming the workspaces there are, exit 2', async () => {
    const out = await migrate('nosuch', 'b.sqlite');
    expect(out.code).toBe(2);
    expect(out.stderr + out.stdout).toMatch(/workspace "nosuch" not found; the API token reaches: other/);
  });
});
