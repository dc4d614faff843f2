import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNeptuneEmulator, type NeptuneEmulator } from '../../emulators/neptune/index.ts';
import { startStack, STACK_WORKSPACE, type Stack } from '../../emulators/stack.ts';
import { generateEntity, type GenRun } from '../../emulators/wandb/index.ts';
import { events, runCli } from '../support/cli.ts';
import { expectedHistory } from '../support/expected.ts';

/**
 * Issue 10: `--protocol auto` picks B on a server that offers it; `--nan send` against a server that
 * refuses NaN/±Infinity (code 32) degrades to reported omissions, and against one that accepts them
 * lands them; a W&B name shared by two runs is not made B's experiment name.
 */
let dir: string;
let stack: Stack;
let accepting: NeptuneEmulator;
let auto: { stdout: string; stderr: string; code: number | null };
let sent: { stdout: string; stderr: string; code: number | null };
const entity = generateEntity({ seed: 3, preset: 'all-shapes', entity: 'opt-team' });
const rl = entity.projects.find((p) => p.name === 'rl-sandbox')!;
const nanRun = rl.runs.find((r) => r.displayName === 'nan-and-strings')!;
const nlp = entity.projects.find((p) => p.name === 'nlp_experiments')!;
// Two runs of one W&B project share a name.
nlp.runs[1].displayName = nlp.runs[0].displayName;

type Report = { runs: Array<{ run: string; notWritten: Array<{ reason: string; subject: string; count: number; detail?: string }> }> };
const reportOf = (stdout: string) => (events(stdout).find((e) => e.type === 'report') as unknown as { report: Report }).report;

/** Every number of every history key, NaN/±Infinity included (what a server that takes them holds). */
function allNumbers(run: GenRun): Map<string, Array<{ step: number; timestampMs: number; value: number }>> {
  const out = new Map<string, Array<{ step: number; timestampMs: number; value: number }>>();
  for (const row of run.history()) {
    for (const [k, v] of Object.entries(row)) {
      if (k.startsWith('_') || typeof v !== 'number') continue;
      if (!out.has(k)) out.set(k, []);
      out.get(k)!.push({ step: row._step as number, timestampMs: Math.round((row._timestamp as number) * 1000), value: v });
    }
  }
  return out;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'w2n-b-opt-'));
  stack = await startStack({ entity, workDir: join(dir, 'export') });
  accepting = await startNeptuneEmulator({ workspaces: [STACK_WORKSPACE], protocolB: { nanInf: 'accept' } });
  const base = ['migrate', '--workspace', 'demo', '--yes', '--json'];
  auto = await runCli([...base, '--projects', 'rl-sandbox,nlp_experiments', '--protocol', 'auto', '--nan', 'send', '--ledger', join(dir, 'auto.sqlite')], stack.env, dir).done;
  sent = await runCli([...base, '--projects', 'rl-sandbox', '--runs', nanRun.id, '--protocol', 'b', '--nan', 'send', '--ledger', join(dir, 'sent.sqlite')], { ...stack.env, NEPTUNE_API_TOKEN: accepting.apiToken() }, dir).done;
}, 240_000);

afterAll(async () => {
  await accepting?.close();
  await stack?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('Protocol B options', () => {
  it('--protocol auto (the default) migrates over B to a server that offers it', () => {
    expect(auto.code, auto.stderr.slice(-2000)).toBe(0);
    for (const p of [rl, nlp]) for (const r of p.runs) expect(stack.neptune.b.inspect.run(`demo/${p.name.replace(/_/g, '-')}`, r.id), r.id).toBeDefined();
    expect(stack.neptune.b.stats().ingestRequests).toBeGreaterThan(0);
  });

  it('--nan send against a server refusing NaN/±Infinity (code 32): every such point reported, the others land', () => {
    const want = expectedHistory(nanRun);
    expect(want.nonFinite).toBeGreaterThan(0);
    const line = reportOf(auto.stdout).runs.find((r) => r.run.endsWith(`/${nanRun.id}`))!;
    expect(line.notWritten.filter((o) => o.reason === 'non-finite').reduce((n, o) => n + o.count, 0)).toBe(want.nonFinite);
    for (const [path, points] of want.floats) expect(stack.neptune.b.inspect.floatSeries('demo/rl-sandbox', nanRun.id, path), path).toEqual(points);
  });

  it('--nan send against a server accepting them: NaN/±Infinity land as values, nothing reported', () => {
    expect(sent.code, sent.stderr.slice(-2000)).toBe(0);
    for (const [path, points] of allNumbers(nanRun)) expect(accepting.b.inspect.floatSeries('demo/rl-sandbox', nanRun.id, path), path).toEqual(points);
    const line = reportOf(sent.stdout).runs.find((r) => r.run.endsWith(`/${nanRun.id}`))!;
    expect(line.notWritten.filter((o) => o.reason === 'non-finite')).toEqual([]);
  });

  it('a W&B name shared by two runs is sys/name without the experiment name; a unique one is the experiment name', () => {
    const [a, b, c] = nlp.runs;
    const report = reportOf(auto.stdout);
    const nameLines = (id: string) => report.runs.find((r) => r.run.endsWith(`/${id}`))!.notWritten.filter((o) => o.subject === 'sys/name');
    for (const r of [a, b]) {
      expect(stack.neptune.b.inspect.run('demo/nlp-experiments', r.id)?.experimentId, r.id).toBeUndefined();
      // Sent as a plain field, which the report says (`renamed`); held where the server lets clients write
      // sys/name, else a second line says it was refused.
      const held = stack.neptune.b.inspect.attributes('demo/nlp-experiments', r.id)['sys/name']?.value === a.displayName;
      expect(nameLines(r.id).map((o) => o.reason).sort(), r.id).toEqual(held ? ['renamed'] : ['invalid-path', 'renamed']);
      expect(nameLines(r.id).find((o) => o.reason === 'renamed')?.detail, r.id).toContain(`W&B name "${a.displayName}" is shared with another run`);
    }
    expect(stack.neptune.b.inspect.run('demo/nlp-experiments', c.id)?.experimentId).toBe(c.displayName);
    expect(stack.neptune.b.inspect.attributes('demo/nlp-experiments', c.id)['sys/name']?.value).toBe(c.displayName);
    // The experiment name is the run's sys/name: it is not assigned a second time (and not refused).
    expect(nameLines(c.id)).toEqual([]);
    // Said in the log file beside the ledger (warnings).
    const logs = readdirSync(dir).filter((f) => f.endsWith('.log')).map((f) => readFileSync(join(dir, f), 'utf8')).join('\n');
    expect(logs).toContain(`W&B name "${a.displayName}" is shared with another run of the project`);
  });
});
