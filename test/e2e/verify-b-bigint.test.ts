/**
 * Issue 12 with issue 11's big integers: a run folder whose config holds integers beyond 2^53 (int64
 * over Protocol B, kept to the last digit, read back as a `bigint`) migrated over B and verified:
 * verify compares them digit for digit (no throw on a `bigint`), and an int64 changed by one behind
 * the server's back is a mismatch naming the run and the field with both values in full.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNeptuneEmulator, type NeptuneEmulator } from '../../emulators/neptune/index.ts';
import { encodeLog, rec } from '../../src/sources/local/wandb-log/test-log-writer.ts';
import { events, runCli } from '../support/cli.ts';
import { NeptuneCorruptor } from '../verify/corrupt-neptune.ts';

const T0 = 1_700_000_000;
let emu: NeptuneEmulator;
let tmp: string;
let storage: string;

interface Diff { scope: string; subject: string; detail: string; explainedBy?: unknown }
interface RunV { run: { runId: string }; status: string; differences: Diff[]; checked: { fields: number } }

const env = () => ({ NEPTUNE_API_TOKEN: emu.apiToken(), NEPTUNE_PROJECT: 'demo/placeholder' });
const source = () => join(tmp, 'proj');

async function verify(): Promise<{ code: number | null; stderr: string; runs: RunV[] }> {
  const out = await runCli(['verify', '--source', source(), '--workspace', 'demo', '--json', '--protocol', 'b', '--ledger', join(tmp, 'ledger.sqlite')], env(), tmp).done;
  const report = events(out.stdout).find((e) => e.type === 'report') as unknown as { report: { runs: RunV[] } } | undefined;
  return { code: out.code, stderr: out.stderr, runs: report?.report.runs ?? [] };
}

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'w2n-verify-b-bigint-'));
  storage = join(tmp, 'neptune.sqlite');
  emu = await startNeptuneEmulator({ workspaces: ['demo'], storage });
  const dir = join(source(), 'wandb', 'run-20231114_221320-bigints');
  mkdirSync(join(dir, 'files'), { recursive: true });
  writeFileSync(join(dir, 'run-bigints.wandb'), encodeLog([
    rec.header('0.19.8'),
    rec.run({ runId: 'bigints', project: 'bigint', startTime: T0 }),
    rec.config([
      { key: 'big', value: '9007199254740993' },
      { key: 'neg', value: '-9007199254740993' },
      { key: 'i64max', value: '9223372036854775807' },
      { key: 'safe', value: '9007199254740991' },
    ]),
    rec.summary([{ key: 'big', value: '12345678901234567' }]),
    rec.exit(0),
  ]).bytes);
  const out = await runCli(['migrate', '--source', source(), '--workspace', 'demo', '--projects', 'all', '--yes', '--json', '--protocol', 'b', '--ledger', join(tmp, 'ledger.sqlite')], env(), tmp).done;
  if (out.code !== 0) throw new Error(`migrate failed (${out.code}): ${out.stderr.slice(-2000)}`);
}, 120_000);

afterAll(async () => {
  await emu?.close();
  rmSync(tmp, { recursive: true, force: true });
});

describe('verify over Protocol B with int64 fields beyond 2^53', () => {
  it('a clean migration verifies: every int64 the same to the last digit', async () => {
    // The migration kept them as int64 (read back as bigint), so verify compares bigints.
    expect(emu.b.inspect.attributes('demo/bigint', 'bigints')['config/big']).toEqual({ type: 'int', value: 9007199254740993n });
    const v = await verify();
    expect(v.code, v.stderr.slice(-2000)).toBe(0);
    expect(v.runs.map((r) => r.status)).toEqual([expect.stringMatching(/^verified/)]);
    expect(v.runs[0].differences.filter((d) => !d.explainedBy)).toEqual([]);
    expect(v.runs[0].checked.fields).toBeGreaterThanOrEqual(5);
  }, 120_000);

  it('an int64 off by one is a mismatch naming the run and the field, both values in full', async () => {
    const runId = emu.inspect.runs('demo/bigint')[0].id;
    const db = new NeptuneCorruptor(storage);
    db.setFieldText(runId, 'config/big', '9007199254740994');
    db.close();
    const v = await verify();
    expect(v.code, v.stderr.slice(-2000)).toBe(5);
    expect(v.runs.map((r) => [r.run.runId, r.status])).toEqual([['bigints', 'mismatch']]);
    expect(v.runs[0].differences.filter((d) => !d.explainedBy)).toEqual([
      { scope: 'field', subject: 'config/big', detail: 'W&B: int 9007199254740993, Neptune: int 9007199254740994' },
    ]);
  }, 120_000);
});
