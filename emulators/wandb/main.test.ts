/** `npm run emulator:wandb` flags, through the real process: every fault of the library is reachable from the command line. */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { basic, KEY } from './test-helpers.ts';

const MAIN = resolve(import.meta.dirname, 'main.ts');
const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGTERM');
});

function run(args: string[]): { child: ChildProcess; done: Promise<{ code: number | null; out: string; err: string }> } {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d));
  child.stderr!.on('data', (d: Buffer) => (err += d));
  return { child, done: new Promise((res) => child.on('exit', (code) => res({ code, out, err }))) };
}

/** Starts the emulator on free ports and resolves with its API URL once it prints it. */
async function start(flags: string[]): Promise<string> {
  const { child, done } = run(['--port', '0', '--api-key', KEY, ...flags]);
  const lines = createInterface({ input: child.stdout! });
  const url = new Promise<string>((res, rej) => {
    lines.on('line', (l) => {
      const m = /^WANDB_BASE_URL=(.+)$/.exec(l);
      if (m) res(m[1]);
    });
    void done.then((d) => rej(new Error(`emulator exited ${d.code}: ${d.err}`)));
  });
  return url;
}

async function graphql(url: string, query: string, variables: Record<string, unknown> = {}): Promise<Response> {
  return fetch(`${url}/graphql`, { method: 'POST', headers: { Authorization: basic(KEY), 'Content-Type': 'application/json' }, body: JSON.stringify({ query, variables }) });
}

const FIRST_FILE = `query { project(name: "vision-models", entityName: "emulated-team") {
  runs(first: 1) { edges { node { files(first: 50) { edges { node { name sizeBytes url directUrl } } } } } } } }`;
type FileNode = { name: string; sizeBytes: number; url: string; directUrl: string };
async function biggestFile(url: string): Promise<FileNode> {
  const body = (await (await graphql(url, FIRST_FILE)).json()) as { data: { project: { runs: { edges: { node: { files: { edges: { node: FileNode }[] } } }[] } } } };
  return body.data.project.runs.edges[0].node.files.edges.map((e) => e.node).sort((a, b) => b.sizeBytes - a.sizeBytes)[0];
}

describe('emulator:wandb flags', () => {
  it('--help lists every fault flag and exits 0; a bad value names the flag and exits 2', async () => {
    const help = await run(['--help']).done;
    expect(help.code).toBe(0);
    for (const flag of ['--latency-ms', '--rate-limit', '--error-rate', '--reset-rate', '--truncate-rate', '--download-bytes-per-second', '--force-429', '--url-ttl-seconds', '--expired-url-status', '--storage-port', '--stale-first-urls', '--fail-file']) {
      expect(help.out).toContain(flag);
    }
    const bad = await run(['--api-key', KEY, '--truncate-rate', '1.5']).done;
    expect(bad.code).toBe(2);
    expect(bad.err).toContain("'--truncate-rate <x>' argument '1.5' is invalid");
    const noKey = await run(['--port', '0']).done;
    expect(noKey.code).toBe(2);
    expect(noKey.err).toContain('--api-key');
  });

  it('--force-429, --url-ttl-seconds and --expired-url-status', async () => {
    const url = await start(['--force-429', '1:7', '--url-ttl-seconds', '0', '--expired-url-status', '400']);
    const limited = await graphql(url, '{ viewer { id } }');
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('7');
    const file = await biggestFile(url);
    const expired = await fetch(file.directUrl);
    expect(expired.status).toBe(400);
    expect(await expired.text()).toContain('ExpiredToken');
    // the hosted URL's redirect target is born expired too
    expect((await fetch(file.url, { headers: { Authorization: basic(KEY) } })).status).toBe(400);
  });

  it('--stale-first-urls: the first listing of a run hands out expired URLs, the next one fresh URLs', async () => {
    const url = await start(['--stale-first-urls']);
    const first = await biggestFile(url);
    expect((await fetch(first.directUrl)).status).toBe(403);
    const again = await biggestFile(url);
    expect((await fetch(again.directUrl)).status).toBe(200);
  });

  it('--fail-file NAME:STATUS makes storage fail that file only', async () => {
    const probe = await start([]);
    const name = (await biggestFile(probe)).name;
    const url = await start(['--fail-file', `${name}:503`, '--fail-file', 'other.txt:404']);
    const file = await biggestFile(url);
    expect((await fetch(file.directUrl)).status).toBe(503);
    expect((await fetch(file.url, { headers: { Authorization: basic(KEY) } })).status).toBe(503);
  });

  it('--truncate-rate 1 cuts every download short', async () => {
    const url = await start(['--truncate-rate', '1']);
    const file = await biggestFile(url);
    expect(file.sizeBytes).toBeGreaterThan(2);
    const res = await fetch(file.directUrl);
    expect(res.headers.get('content-length')).toBe(String(file.sizeBytes));
    await expect(res.arrayBuffer()).rejects.toThrow();
  });

  it('--reset-rate 1 resets connections; --error-rate 1 answers 5xx', async () => {
    const reset = await start(['--reset-rate', '1']);
    await expect(graphql(reset, '{ viewer { id } }')).rejects.toThrow();
    const failing = await start(['--error-rate', '1']);
    expect([500, 502, 503]).toContain((await graphql(failing, '{ viewer { id } }')).status);
  });
});
