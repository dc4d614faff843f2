/**
 * `npm run emulator:neptune` flags (issue 9 item 23): the faults, --tls and --legacy are reachable from
 * the command line and do what the library does; a bad flag is a usage error (exit 2).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Agent, request } from 'undici';
import { afterAll, describe, expect, it } from 'vitest';

const MAIN = resolve(import.meta.dirname, 'main.ts');
const TSX = resolve(import.meta.dirname, '../../node_modules/.bin/tsx');
const children: ChildProcess[] = [];
afterAll(() => { for (const c of children) c.kill('SIGTERM'); });

/** Starts the CLI and resolves with its stdout once it printed `until`. */
function start(args: string[], until: RegExp): Promise<{ out: string; child: ChildProcess }> {
  const child = spawn(TSX, [MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  return new Promise((res, rej) => {
    child.stdout!.on('data', (d: Buffer) => { out += d; if (until.test(out)) res({ out, child }); });
    child.on('exit', (code) => rej(new Error(`exited ${code}: ${out}`)));
  });
}

function exitOf(args: string[]): Promise<{ code: number | null; text: string }> {
  const child = spawn(TSX, [MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  child.stdout!.on('data', (d: Buffer) => (text += d));
  child.stderr!.on('data', (d: Buffer) => (text += d));
  return new Promise((res) => child.on('exit', (code) => res({ code, text })));
}

describe('emulator:neptune CLI', () => {
  it('--tls --legacy --force-5xx: https with the printed CA, one 503 then answers, group tags refused', async () => {
    const { out } = await start(['--port', '0', '--tls', '--legacy', '--force-5xx', '1'], /CA certificate: .+\n/);
    const url = /listening on (https:\/\/\S+)/.exec(out)![1];
    const token = /NEPTUNE_API_TOKEN=(\S+)/.exec(out)![1];
    const ca = readFileSync(/CA certificate: (\S+)/.exec(out)![1], 'utf8');
    const dispatcher = new Agent({ connect: { ca } });
    const get = async (path: string, headers: Record<string, string>, method: 'GET' | 'POST' = 'GET', body?: string) => {
      const r = await request(`${url}${path}`, { dispatcher, headers, method, body });
      return { status: r.statusCode, json: (await r.body.json()) as any /* parsing boundary */ };
    };
    const cfgHeaders = { 'x-neptune-api-token': token };
    expect((await get('/api/backend/v1/clients/config', cfgHeaders)).status).toBe(503);
    expect((await get('/api/backend/v1/clients/config', cfgHeaders)).json.apiUrl).toBe(url);
    const { accessToken } = (await get('/api/backend/v1/authorization/oauth-token', cfgHeaders)).json;
    const auth = { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' };
    const ws = (await get('/api/backend/v1/myOrganizations', auth)).json[0].id as string;
    const project = (await get('/api/backend/v1/projects', auth, 'POST', JSON.stringify({ name: 'cli', organizationId: ws }))).json.id as string;
    const run = (await get('/api/leaderboard/v1/experiments', auth, 'POST', JSON.stringify({ projectIdentifier: project, parentId: project, type: 'run' }))).json.id as string;
    const ops = await get(`/api/leaderboard/v1/attributes/operations?experimentId=${run}`, auth, 'POST', JSON.stringify([{ path: 'sys/group_tags', insertStrings: { values: ['g'] } }]));
    expect(ops.json).toEqual([{ errorType: 'metadata_inconsistency', errorDescription: "Attribute 'sys/group_tags' is not a known system attribute on this server" }]);
    await dispatcher.close();
  }, 60_000);

  it('a bad value is a usage error (exit 2); --help names every fault flag', async () => {
    const bad = await exitOf(['--reset-rate', '2']);
    expect(bad.code).toBe(2);
    expect(bad.text).toContain('--reset-rate');
    expect((await exitOf(['--ca-file', '/tmp/x.pem'])).code).toBe(2);
    const typo = await exitOf(['--drop-after-apply-op', 'executeOperation']);
    expect(typo.code).toBe(2);
    expect(typo.text).toContain("no operation 'executeOperation'");
    const help = await exitOf(['--help']);
    expect(help.code).toBe(0);
    for (const flag of ['--tls', '--ca-file', '--legacy', '--latency-ms', '--rate-limit', '--status-5xx-rate', '--reset-rate',
      '--drop-after-apply-rate', '--drop-after-apply-op', '--force-429', '--force-5xx', '--force-drop-after-apply', '--seed', '--token-ttl']) {
      expect(help.text, flag).toContain(flag);
    }
  }, 60_000);
});
