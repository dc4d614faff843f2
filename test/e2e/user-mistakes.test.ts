import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../../emulators/stack.ts';
import { generateEntity } from '../../emulators/wandb/index.ts';
import { CLI, events, runCli } from '../support/cli.ts';
import { closedPort, startHangProxy, tokenWith } from '../support/hang-proxy.ts';

/**
 * Issue 9, "A mistake gets a clear error, not a quiet success": every user mistake is exit 2 with a
 * message naming what is wrong (and what exists), found before any run is read; a ledger is used by
 * one process at a time; a hung server shows on the display and an interrupt reports every selected
 * run; `--json` always ends with a report.
 */
let stack: Stack;
let dir: string;
const RUNS = 4;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'w2n-mistakes-'));
  stack = await startStack({ entity: generateEntity({ seed: 11, preset: 'many-small-runs', runs: RUNS, entity: 'mistake-team' }), workDir: join(dir, 'export') });
}, 60_000);
afterAll(async () => {
  await stack?.close();
  rmSync(dir, { recursive: true, force: true });
});

const project = () => stack.entity.projects[0];
const ledgerAt = (name: string) => join(dir, name, 'ledger.sqlite');
const migrate = (args: string[], env: Record<string, string> = stack.env) =>
  runCli(['migrate', '--workspace', 'demo', '--yes', ...args], env, dir).done;
const tokenAt = (url: string) => tokenWith(stack.env.NEPTUNE_API_TOKEN, { api_address: url, api_url: url });

describe('item 13: a selection that matches nothing is exit 2, naming what exists', () => {
  it('--entity nosuch', async () => {
    const out = await migrate(['--entity', 'nosuch', '--ledger', ledgerAt('e')]);
    expect(out.stderr).toContain('W&B entity "nosuch" has no projects (it does not exist, or the API key cannot see it); the API key\'s default entity is "mistake-team"');
    expect(out.code).toBe(2);
  });

  it('--projects nosuch names the projects there are', async () => {
    const out = await migrate(['--projects', `${project().name},nosuch`, '--ledger', ledgerAt('p')]);
    expect(out.stderr).toContain(`W&B project not found in W&B entity "mistake-team": nosuch; it has: ${project().name}`);
    expect(out.code).toBe(2);
    expect(stack.neptune.inspect.projects()).toEqual([]);
  });

  it('--runs nosuchid names the run ids there are; --state bogus lists the states; empty lists are not "everything"', async () => {
    const out = await migrate(['--runs', 'nosuchid', '--ledger', ledgerAt('r')]);
    expect(out.code).toBe(2);
    expect(out.stderr).toContain(`--runs nosuchid matched no run in W&B entity "mistake-team", project ${project().name}; there are ${RUNS} runs (run ids: ${project().runs.map((r) => r.id).join(', ')})`);

    const state = await migrate(['--state', 'finished,bogus', '--ledger', ledgerAt('s')]);
    expect(state.code).toBe(2);
    expect(state.stderr).toContain('--state bogus: expected one of running, finished, crashed, failed, killed');

    for (const flag of ['--runs', '--projects', '--tags', '--state']) {
      const empty = await migrate([flag, ',,,', '--ledger', ledgerAt('x')]);
      expect(empty.stderr).toContain(`${flag} was given but names nothing (got ",,,")`);
      expect(empty.code).toBe(2);
    }
    // A filter every run fails names the filter and what the runs hold.
    const killed = await migrate(['--state', 'killed', '--ledger', ledgerAt('k')]);
    expect(killed.code).toBe(2);
    expect(killed.stderr).toMatch(/--state killed matched no run .*states: crashed, finished/);
    expect(stack.neptune.inspect.projects()).toEqual([]);
  });

  it('--runs with one id of several that is not there (a typo): exit 2 naming it, before anything is written (migrate and verify)', async () => {
    const [a, b] = project().runs.map((r) => r.id);
    const out = await migrate(['--runs', `${a},nosuchid,${b}`, '--ledger', ledgerAt('rt')]);
    expect(out.code).toBe(2);
    expect(out.stderr).toContain(`--runs names run id not in W&B entity "mistake-team", project ${project().name}: nosuchid (found: ${a}, ${b})`);
    expect(stack.neptune.inspect.projects()).toEqual([]);
    const verify = await runCli(['verify', '--workspace', 'demo', '--runs', `${a},nosuchid`], stack.env, dir).done;
    expect(verify.code).toBe(2);
    expect(verify.stderr).toContain(`--runs names run id not in W&B entity "mistake-team", project ${project().name}: nosuchid (found: ${a})`);
  });

  it('--project-map naming a W&B project that is not there (migrate and verify), before anything is written', async () => {
    const out = await migrate(['--project-map', `${project().name}=renamed,nosuch=other`, '--ledger', ledgerAt('m')]);
    expect(out.stderr).toContain(`--project-map names W&B project not in W&B entity "mistake-team": nosuch; it has: ${project().name}`);
    expect(out.code).toBe(2);
    expect(stack.neptune.inspect.projects()).toEqual([]);
    const verify = await runCli(['verify', '--workspace', 'demo', '--project-map', 'nosuch=other'], stack.env, dir).done;
    expect(verify.stderr).toContain(`--project-map names W&B project not in W&B entity "mistake-team": nosuch; it has: ${project().name}`);
    expect(verify.code).toBe(2);
  });

  it('--project-map naming a Neptune project Neptune would refuse (too short, a forbidden character, an emoji): exit 2 before anything is written', async () => {
    const cases: Array<[string, string]> = [
      ['cv', '"cv" cannot be a Neptune project: a Neptune project name has 3 to 128 characters'],
      ['a/b-c', '"a/b-c" cannot be a Neptune project: a Neptune project name has none of / \\ # ? % :'],
      ['vision-🚀', '"vision-🚀" cannot be a Neptune project: a Neptune project name has no 4-byte characters (emoji)'],
    ];
    for (const [name, message] of cases) {
      const out = await migrate(['--project-map', `${project().name}=${name}`, '--ledger', ledgerAt('pm')]);
      expect(out.stderr, name).toContain(`--project-map ${project().name}=${name}: ${message}`);
      expect(out.code, name).toBe(2);
    }
    expect(stack.neptune.inspect.projects()).toEqual([]);
  });

  it('--runs given display names (what the W&B UI shows) says which run ids they are', async () => {
    const [a, b] = project().runs;
    const out = await migrate(['--runs', `${a.displayName},${b.displayName}`, '--ledger', ledgerAt('names')]);
    expect(out.code).toBe(2);
    expect(out.stderr).toContain(`--runs takes run ids, not names: "${a.displayName}" is the name of run ${a.id}; "${b.displayName}" is the name of run ${b.id}`);
  });

  it('a one-value flag given twice with two values (--source a --source b read b alone): exit 2 naming both, migrate and verify', async () => {
    const out = await migrate(['--source', 'api', '--source', dir, '--projects', 'all', '--ledger', ledgerAt('twice')]);
    expect(out.code).toBe(2);
    expect(out.stderr).toContain(`--source was given 2 times ("api", ${JSON.stringify(dir)}): it takes one value; run one command per source`);
    expect(stack.neptune.inspect.projects()).toEqual([]);
    const v = await runCli(['verify', '--workspace', 'demo', '--projects', 'all', '--runs', 'a', '--runs', 'b'], stack.env, dir).done;
    expect(v.code).toBe(2);
    expect(v.stderr).toContain('--runs was given 2 times ("a", "b")');
    // The same value twice says the same thing: no mistake. Lists repeat by design.
    const same = await migrate(['--projects', 'all', '--projects', 'all', '--include', 'internal', '--include', 'console-raw', '--dry-run', '--ledger', ledgerAt('same')]);
    expect(same.code).toBe(0);
  });

  it('--source at a missing path, a file, a folder without runs, or ""', async () => {
    const file = join(dir, 'a-file.txt');
    writeFileSync(file, 'not a run');
    const empty = join(dir, 'empty-folder');
    mkdirSync(join(empty, 'wandb'), { recursive: true });
    const cases: Array<[string, string]> = [
      [join(dir, 'missing'), 'no such file or folder'],
      [file, 'is a file, not a folder'],
      [empty, 'no W&B run folders in'],
      ['', '--source is empty'],
    ];
    for (const [source, message] of cases) {
      const out = await migrate(['--source', source, '--ledger', ledgerAt('src')]);
      expect(out.stderr, source).toContain(message);
      expect(out.code, source).toBe(2);
    }
  });
});

describe('item 14: both ends are checked before any run is read', () => {
  it('an unknown workspace lists the workspaces the token reaches', async () => {
    const ledger = ledgerAt('ws');
    const out = await runCli(['migrate', '--workspace', 'nosuch-ws', '--yes', '--json', '--ledger', ledger], stack.env, dir).done;
    expect(out.code).toBe(2);
    const error = events(out.stdout).find((e) => e.type === 'error');
    expect(error?.message).toContain('Neptune workspace "nosuch-ws" not found; the API token reaches: demo');
    expect(events(out.stdout).some((e) => e.type === 'run.started' || e.type === 'run.failed')).toBe(false);
    expect(stack.neptune.inspect.projects()).toEqual([]);
  });

  it('verify checks them too: an unknown workspace or an unreachable Neptune is exit 2, not every run "missing" (exit 5)', async () => {
    const out = await runCli(['verify', '--workspace', 'nosuch-ws', '--projects', 'all', '--json'], stack.env, dir).done;
    expect(out.code).toBe(2);
    expect(events(out.stdout).find((e) => e.type === 'error')?.message).toContain('Neptune workspace "nosuch-ws" not found; the API token reaches: demo');
    expect(events(out.stdout).some((e) => e.type === 'verify.run')).toBe(false);
    const port = await closedPort();
    const down = await runCli(['verify', '--workspace', 'demo', '--projects', 'all', '--retries', '0'], { ...stack.env, NEPTUNE_API_TOKEN: tokenAt(`http://127.0.0.1:${port}`) }, dir).done;
    expect(down.stderr).toMatch(/error: cannot use Neptune: .*127\.0\.0\.1:\d+/);
    expect(down.code).toBe(2);
  });

  it('an unreachable Neptune or W&B is exit 2 naming the service', async () => {
    const port = await closedPort();
    const neptune = await migrate(['--retries', '0', '--ledger', ledgerAt('nep')], { ...stack.env, NEPTUNE_API_TOKEN: tokenAt(`http://127.0.0.1:${port}`) });
    expect(neptune.stderr).toMatch(/error: cannot use Neptune: .*127\.0\.0\.1:\d+/);
    expect(neptune.code).toBe(2);
    const wandb = await migrate(['--retries', '0', '--ledger', ledgerAt('wb')], { ...stack.env, WANDB_BASE_URL: `http://127.0.0.1:${port}` });
    expect(wandb.stderr).toMatch(/error: cannot use W&B: /);
    expect(wandb.code).toBe(2);
  });
});

describe('items 15 and 17: one process per ledger; a hung server is visible and an interrupt counts every selected run', () => {
  it('holds the lock while it waits on a server that never answers; SIGTERM reports all selected runs pending', async () => {
    // Neptune answers the pre-flight checks, then never answers the project lookup.
    const proxy = await startHangProxy(stack.neptune.url, (req) => (req.url ?? '').startsWith('/api/backend/v1/projects/get'));
    try {
      const ledger = ledgerAt('hang');
      const env = { ...stack.env, NEPTUNE_API_TOKEN: tokenAt(proxy.url) };
      // One run at a time: the three runs not started yet are selected too, and must be reported pending.
      const first = runCli(['migrate', '--workspace', 'demo', '--yes', '--json', '--timeout', '3', '--concurrency', '1', '--ledger', ledger], env, dir);
      await first.waitForEvents('http.retry', 1);

      const second = await migrate(['--ledger', ledger]);
      expect(second.code).toBe(2);
      expect(second.stderr).toMatch(new RegExp(`ledger .* is in use by process ${first.child.pid} on ${hostname()} since \\d{4}-\\d\\d-\\d\\dT`));

      first.child.kill('SIGTERM');
      const out = await first.done;
      expect(out.code).toBe(130);
      const retry = events(out.stdout).find((e) => e.type === 'http.retry')!;
      expect(retry).toMatchObject({ service: 'Neptune', attempt: 1 });
      expect(String(retry.what)).toContain('project demo/many-runs');
      const report = events(out.stdout).at(-1) as unknown as { type: string; report: { totals: Record<string, number> } };
      expect(report.type).toBe('report');
      expect(report.report.totals).toMatchObject({ runs: RUNS, pending: RUNS, migrated: 0, failed: 0 });
      // The lock went with its holder: the next run takes the ledger.
      expect(existsSync(`${ledger}.lock`)).toBe(false);
    } finally {
      await proxy.close();
    }
  });

  it('a lock left by a dead process is taken over', async () => {
    const ledger = ledgerAt('stale');
    mkdirSync(join(dir, 'stale'), { recursive: true });
    const dead = spawn(process.execPath, ['-e', '']);
    const pid = dead.pid!;
    await new Promise((r) => dead.on('exit', r));
    writeFileSync(`${ledger}.lock`, JSON.stringify({ pid, host: hostname(), since: '2026-01-01T00:00:00.000Z' }));
    const out = await migrate(['--json', '--ledger', ledger]);
    expect(out.code).toBe(0);
    expect(events(out.stdout).at(-1)).toMatchObject({ type: 'report', report: { totals: { migrated: RUNS } } });
    expect(existsSync(`${ledger}.lock`)).toBe(false);
  });
});

describe('item 16: a ledger that cannot be used is one message, exit 2', () => {
  it('a corrupt file, a folder, a path under a file', async () => {
    const corrupt = join(dir, 'corrupt.sqlite');
    writeFileSync(corrupt, 'this is not a SQLite database, just text that a user put there by mistake'.repeat(20));
    const folder = join(dir, 'ledger-folder');
    mkdirSync(folder, { recursive: true });
    const file = join(dir, 'plain-file');
    writeFileSync(file, 'x');
    const cases: Array<[string, RegExp]> = [
      [corrupt, /^error \(LEDGER\): ledger .*corrupt\.sqlite is not a ledger \(not a SQLite database, or damaged\)$/m],
      [folder, /^error \(LEDGER\): ledger .*ledger-folder is a folder: pass the path of a ledger file/m],
      [join(file, 'ledger.sqlite'), /^error \(LEDGER\): ledger .*plain-file\/ledger\.sqlite is under a path that is a file, not a folder/m],
    ];
    for (const [ledger, message] of cases) {
      const out = await migrate(['--ledger', ledger]);
      expect(out.stderr, ledger).toMatch(message);
      expect(out.stderr, ledger).not.toMatch(/\n\s+at /);
      expect(out.code, ledger).toBe(2);
    }
  });

  it('a full disk stops cleanly with exit 2, and the same command then resumes to the end', async () => {
    const ledger = ledgerAt('full');
    // RLIMIT_FSIZE: a write past the limit fails with EFBIG (Node ignores SIGXFSZ), as on a full disk.
    const child = spawn('bash', ['-c', 'ulimit -f 40; exec "$0" "$@"', process.execPath, CLI, 'migrate', '--workspace', 'demo', '--yes', '--ledger', ledger], {
      cwd: dir, env: { ...process.env, ...stack.env, FORCE_COLOR: '0' }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    const code = await new Promise<number | null>((r) => child.on('exit', r));
    expect(stderr).toMatch(/^error \(LEDGER\): ledger .* (cannot grow: the disk is full|could not be read or written).*run the same command again: it resumes$/m);
    expect(stderr).not.toMatch(/\n\s+at /);
    expect(code).toBe(2);
    const again = await migrate(['--json', '--ledger', ledger]);
    expect(again.code).toBe(0);
    expect(events(again.stdout).at(-1)).toMatchObject({ type: 'report', report: { totals: { runs: RUNS, failed: 0, pending: 0 } } });
  });
});

describe('item 21: --json ends with an error event and a report event on a fatal error', () => {
  it('a usage error still gives both', async () => {
    const out = await runCli(['migrate', '--workspace', 'demo', '--yes', '--json', '--state', 'bogus'], stack.env, dir).done;
    expect(out.code).toBe(2);
    const evs = events(out.stdout);
    expect(evs.map((e) => e.type)).toEqual(['error', 'report']);
    expect(evs[0]).toMatchObject({ code: 'CONFIG', exitCode: 2 });
    expect(String(evs[0].message)).toContain('--state bogus');
    expect(evs[1]).toMatchObject({ report: { runs: [], totals: { runs: 0 } } });
  });
});
