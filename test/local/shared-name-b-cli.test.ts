/**
 * mapping.md, `run.name` over Protocol B: a W&B name another run of the project shares cannot be
 * Neptune's experiment name (unique per project, it moves between runs), so it is sent as a plain
 * `sys/name` "without the experiment semantics, and [the report says] so": each such run's report has
 * a line naming the name and why; a server that refuses a plain `sys/name` (the emulator does, as
 * neptune-scale's "most sys/* attributes are read-only" warns) adds its refusal. A unique name is the
 * experiment name, without a line.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNeptuneEmulator, type NeptuneEmulator } from '../../emulators/neptune/index.ts';
import type { MigrationReport } from '../../src/pipeline/report.ts';
import { encodeLog, rec } from '../../src/sources/local/wandb-log/test-log-writer.ts';
import { migrateFolderCli } from './helpers.ts';

const T0 = 1_700_000_000;
let emu: NeptuneEmulator;
let tmp: string;
let report: MigrationReport;

beforeAll(async () => {
  emu = await startNeptuneEmulator({ workspaces: ['demo'], protocolB: { unavailableChecks: 1 } });
  tmp = mkdtempSync(join(tmpdir(), 'w2n-sharedname-'));
  for (const [id, displayName] of [['twin1', 'brave-sun'], ['twin2', 'brave-sun'], ['solo', 'lone-moon']]) {
    const dir = join(tmp, 'proj', 'wandb', `run-20231114_221320-${id}`);
    mkdirSync(join(dir, 'files'), { recursive: true });
    writeFileSync(join(dir, `run-${id}.wandb`), encodeLog([rec.header('0.19.8'), rec.run({ runId: id, project: 'names', displayName, startTime: T0 }), rec.exit(0)]).bytes);
  }
  ({ report } = await migrateFolderCli(emu, join(tmp, 'proj'), join(tmp, 'ledger.sqlite'), tmp, ['--protocol', 'b']));
}, 120_000);

afterAll(async () => {
  await emu?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

const lines = (id: string) => report.runs.find((r) => r.run.endsWith(`/${id}`))!.notWritten.filter((o) => o.subject === 'sys/name');

describe('a W&B name shared by runs of the project, over B', () => {
  it('each run that shares it: a line naming the name and why it is not the experiment name, and the server\'s refusal of the plain sys/name', () => {
    for (const id of ['twin1', 'twin2']) {
      expect(lines(id).map((o) => [o.reason, o.count]).sort(), id).toEqual([['invalid-path', 1], ['renamed', 1]]);
      expect(lines(id).find((o) => o.reason === 'renamed')?.detail, id).toBe(
        '→ sys/name without the experiment name: W&B name "brave-sun" is shared with another run of W&B project names; ' +
        'a Neptune 3.x experiment name is unique per project and moves between runs, so it is sent as a plain sys/name',
      );
      expect(emu.b.inspect.run('demo/names', id)?.experimentId, id).toBeUndefined();
    }
  });

  it('a unique name is the experiment name (sys/name), with no line', () => {
    expect(lines('solo')).toEqual([]);
    expect(emu.b.inspect.attributes('demo/names', 'solo')['sys/name']).toEqual({ type: 'string', value: 'lone-moon' });
  });
});
