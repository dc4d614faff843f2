/**
 * Two W&B files whose names normalise to one Neptune path (`back\slash.txt` and `back/slash.txt`):
 * both land, over A (file set entries) and over B (file fields). The name that is already clean keeps
 * its path; the other moves aside deterministically (`_` before the extension, as many as needed) and
 * the report lists it as `renamed`, naming both W&B files. Nothing overwrites anything.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNeptuneEmulator, type NeptuneEmulator } from '../../emulators/neptune/index.ts';
import type { MigrationReport, RunReport } from '../../src/pipeline/report.ts';
import { encodeLog, rec } from '../../src/sources/local/wandb-log/test-log-writer.ts';
import { events, runCli } from '../support/cli.ts';
import { findRuns, migrateFolderCli } from './helpers.ts';

const T0 = 1_700_000_000;
const FILES: Record<string, string> = {
  'back\\slash.txt': 'saved on windows',
  'back/slash.txt': 'saved on linux',
  'x\\y.txt': 'one backslash',
  'x\\\\y.txt': 'two backslashes',
  'x/y.txt': 'clean y',
  'x/y_.txt': 'a file of that name already',
  'lone\\file.txt': 'no twin',
};
let emu: NeptuneEmulator;
let tmp: string;
const reports: Partial<Record<'a' | 'b', MigrationReport>> = {};

beforeAll(async () => {
  emu = await startNeptuneEmulator({ workspaces: ['demo'], protocolB: { unavailableChecks: 1 } });
  tmp = mkdtempSync(join(tmpdir(), 'w2n-filecoll-'));
  const dir = join(tmp, 'proj', 'wandb', 'run-20231114_221320-twins');
  mkdirSync(join(dir, 'files'), { recursive: true });
  writeFileSync(join(dir, 'run-twins.wandb'), encodeLog([rec.header('0.19.8'), rec.run({ runId: 'twins', project: 'coll', startTime: T0 }), rec.exit(0)]).bytes);
  for (const [name, content] of Object.entries(FILES)) {
    mkdirSync(join(dir, 'files', name, '..'), { recursive: true });
    writeFileSync(join(dir, 'files', name), content);
  }
  for (const protocol of ['a', 'b'] as const) {
    reports[protocol] = (await migrateFolderCli(emu, join(tmp, 'proj'), join(tmp, `${protocol}.sqlite`), tmp, ['--protocol', protocol, '--project-map', `coll=coll-${protocol}`])).report;
  }
}, 120_000);

afterAll(async () => {
  await emu?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/** Where each W&B file must land: clean names keep theirs; the others in W&B-name order take the next free `_`. */
const LANDS: Record<string, string> = {
  'back/slash.txt': 'saved on linux',
  'back/slash_.txt': 'saved on windows',
  'x/y.txt': 'clean y',
  'x/y_.txt': 'a file of that name already',
  'x/y__.txt': 'two backslashes', // `x\\y.txt` sorts before `x\y.txt`
  'x/y___.txt': 'one backslash',
  'lone/file.txt': 'no twin',
};

const runReport = (p: 'a' | 'b'): RunReport => reports[p]!.runs.find((r) => r.run.endsWith('/twins'))!;
const renames = (p: 'a' | 'b') => Object.fromEntries(runReport(p).notWritten.filter((o) => o.reason === 'renamed').map((o) => [o.subject, o.detail]));

describe('W&B file names that normalise to one Neptune path', () => {
  it('over A: every file is an entry of the file set, with its own bytes', () => {
    expect(runReport('a').status).toBe('migrated');
    const runs = findRuns(emu, 'twins').filter((r) => r.project === 'demo/coll-a');
    expect(runs).toHaveLength(1);
    const set = emu.inspect.fileSet(runs[0].id, 'files');
    expect(Object.fromEntries(Object.entries(set).map(([k, v]) => [k, v.toString()]))).toEqual(LANDS);
    expect(runReport('a').written.files).toBe(7);
  });

  it('over B: every file is a file field, with its own bytes in storage', () => {
    expect(runReport('b').status).toBe('migrated');
    const attrs = emu.b.inspect.attributes('demo/coll-b', 'twins');
    const held = Object.fromEntries(Object.entries(attrs).filter(([p]) => p.startsWith('files/')).map(([p, a]) => {
      const ref = a.value as { path: string };
      return [p.slice('files/'.length), emu.b.inspect.object('demo/coll-b', ref.path)!.data.toString()];
    }));
    expect(held).toEqual(LANDS);
    expect(runReport('b').written.files).toBe(7);
  });

  it('the report lists each file moved aside as renamed, naming the file that kept the path', () => {
    for (const p of ['a', 'b'] as const) {
      const r = renames(p);
      expect(r['back\\slash.txt'], p).toBe('→ back/slash_.txt: "\\" read as a folder separator; back/slash.txt is the path of W&B file back/slash.txt');
      expect(r['x\\\\y.txt'], p).toBe('→ x/y__.txt: "\\" read as a folder separator; empty and "." segments dropped; x/y.txt is the path of W&B file x/y.txt');
      expect(r['x\\y.txt'], p).toBe('→ x/y___.txt: "\\" read as a folder separator; x/y.txt is the path of W&B file x/y.txt');
      expect(r['lone\\file.txt'], p).toBe('→ lone/file.txt: "\\" read as a folder separator');
      expect(Object.keys(r).sort(), p).toEqual(['back\\slash.txt', 'lone\\file.txt', 'x\\\\y.txt', 'x\\y.txt']);
    }
  });

  it('verify finds each file at the path it moved to, over A and B', async () => {
    for (const protocol of ['a', 'b'] as const) {
      const out = await runCli(
        ['verify', '--source', join(tmp, 'proj'), '--workspace', 'demo', '--json', '--protocol', protocol, '--project-map', `coll=coll-${protocol}`, '--ledger', join(tmp, `${protocol}.sqlite`)],
        { NEPTUNE_API_TOKEN: emu.apiToken(), NEPTUNE_PROJECT: 'demo/placeholder' },
        tmp,
      ).done;
      const report = (events(out.stdout).find((e) => e.type === 'report') as unknown as { report: { runs: Array<{ status: string; differences: unknown[]; checked: Record<string, number> }> } }).report;
      expect(report.runs.map((r) => [r.status, r.differences, r.checked.files]), protocol).toEqual([['verified', [], 7]]);
      expect(out.code, protocol).toBe(0);
    }
  }, 60_000);
});
