/**
 * Issue 11: big integers in config and summary keep every digit wherever they come from (the binary
 * log's config records, its run record, config.yaml, wandb-summary.json). Over Protocol B an integer
 * that fits int64 lands as an int64 field with its exact value; beyond int64 it is its text. (Over A,
 * int32, the same values are text: test/local/integrity-cli.test.ts.)
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNeptuneEmulator, type NeptuneEmulator } from '../../emulators/neptune/index.ts';
import { encodeLog, rec } from '../../src/sources/local/wandb-log/test-log-writer.ts';
import { events, runCli } from '../support/cli.ts';

const T0 = 1_700_000_000;
let emu: NeptuneEmulator;
let tmp: string;
let out: { code: number | null; stdout: string; stderr: string };

beforeAll(async () => {
  emu = await startNeptuneEmulator({ workspaces: ['demo'] });
  tmp = mkdtempSync(join(tmpdir(), 'w2n-b-bigint-'));
  const wandb = join(tmp, 'proj', 'wandb');
  const dir = join(wandb, 'run-20231114_221320-bigints');
  mkdirSync(join(dir, 'files'), { recursive: true });
  writeFileSync(join(dir, 'run-bigints.wandb'), encodeLog([
    rec.header('0.19.8'),
    rec.run({ runId: 'bigints', project: 'bigint', startTime: T0, config: [{ key: 'from_run', value: '9007199254740995' }] }),
    rec.config([
      { key: 'big', value: '9007199254740993' },
      { key: 'neg', value: '-9007199254740993' },
      { key: 'i64max', value: '9223372036854775807' },
      { key: 'beyond', value: '-123456789012345678901' },
      { key: 'nested', value: '{"seed": 18014398509481985}' },
      { key: 'safe', value: '9007199254740991' },
      { key: 'huge', value: '1e308' },
    ]),
    rec.summary([{ key: 'big', value: '12345678901234567' }, { key: 'beyond', value: '12345678901234567890' }]),
    rec.exit(0),
  ]).bytes);
  // A legacy folder: config.yaml and wandb-summary.json.
  const legacy = join(wandb, 'run-20200101_000000-bigyaml');
  mkdirSync(legacy, { recursive: true });
  writeFileSync(join(legacy, 'wandb-metadata.json'), JSON.stringify({ project: 'bigint', state: 'finished', startedAt: '2020-01-01T00:00:00' }));
  writeFileSync(join(legacy, 'wandb-history.jsonl'), `${JSON.stringify({ _step: 0, _timestamp: T0, x: 1 })}\n`);
  writeFileSync(join(legacy, 'config.yaml'), 'wandb_version: 1\nbig:\n  desc: null\n  value: 9007199254740993\n');
  writeFileSync(join(legacy, 'wandb-summary.json'), '{"big": 9007199254740997, "_step": 0}');
  out = await runCli(
    ['migrate', '--source', join(tmp, 'proj'), '--workspace', 'demo', '--projects', 'all', '--yes', '--json', '--protocol', 'b', '--ledger', join(tmp, 'ledger.sqlite')],
    { NEPTUNE_API_TOKEN: emu.apiToken(), NEPTUNE_PROJECT: 'demo/placeholder' },
    tmp,
  ).done;
}, 120_000);

afterAll(async () => {
  await emu?.close();
  rmSync(tmp, { recursive: true, force: true });
});

describe('big integers over Protocol B, through the CLI', () => {
  it('the migration succeeds and the server refused nothing', () => {
    expect(out.code, out.stderr.slice(-2000)).toBe(0);
    const report = (events(out.stdout).find((e) => e.type === 'report') as unknown as { report: { runs: Array<{ notWritten: Array<{ reason: string }> }> } }).report;
    expect(report.runs.flatMap((r) => r.notWritten).filter((o) => ['rejected-by-server', 'int-out-of-range', 'type-mismatch'].includes(o.reason))).toEqual([]);
  });

  it('from the binary log: int64 with every digit where it fits, text beyond int64', () => {
    const a = emu.b.inspect.attributes('demo/bigint', 'bigints');
    expect(a['config/big']).toEqual({ type: 'int', value: 9007199254740993n });
    expect(a['config/neg']).toEqual({ type: 'int', value: -9007199254740993n });
    expect(a['config/i64max']).toEqual({ type: 'int', value: 9223372036854775807n });
    expect(a['config/from_run']).toEqual({ type: 'int', value: 9007199254740995n });
    expect(a['config/nested/seed']).toEqual({ type: 'int', value: 18014398509481985n });
    expect(a['config/safe']).toEqual({ type: 'int', value: 9007199254740991n });
    expect(a['config/beyond']).toEqual({ type: 'string', value: '-123456789012345678901' });
    expect(a['config/huge']).toEqual({ type: 'float', value: 1e308 });
    expect(a['summary/big']).toEqual({ type: 'int', value: 12345678901234567n });
    expect(a['summary/beyond']).toEqual({ type: 'string', value: '12345678901234567890' });
  });

  it('from config.yaml and wandb-summary.json: the same', () => {
    const a = emu.b.inspect.attributes('demo/bigint', 'bigyaml');
    expect(a['config/big']).toEqual({ type: 'int', value: 9007199254740993n });
    expect(a['summary/big']).toEqual({ type: 'int', value: 9007199254740997n });
  });
});
