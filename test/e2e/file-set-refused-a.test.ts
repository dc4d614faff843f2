/**
 * Protocol A refusing a file-set upload: its answer's errors name the set (`files`), not a file
 * (neptune-api.md §2.5: `{errors: [{errorType, errorDescription}]}` per upload call). The run's Neptune
 * run already holds `files` as a string field (another tool wrote it), so the server refuses every
 * upload to that set (and the writer, which read the run's fields, does not send them). Through the
 * CLI: the report counts as written only the files the emulator holds, with their bytes, and says of
 * each refused file that it was not written — not "written" and "not written" at once. And the server's
 * own refusal of a package names each of its files.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Stack } from '../../emulators/stack.ts';
import type { GenRun } from '../../emulators/wandb/index.ts';
import { bufferFile } from '../../emulators/wandb/generator/files.ts';
import type { MigrationReport } from '../../src/pipeline/report.ts';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { NeptuneTarget } from '../../src/sinks/neptune/target.ts';
import { events, runCli } from '../support/cli.ts';
import { fileBytes } from '../support/expected.ts';
import { neptuneRunId } from '../support/neptune-snapshot.ts';
import { closeStackInTemp, startStackInTemp } from '../support/stack-in-temp.ts';

const CREATED = '2024-03-01T00:00:00';
const PROJECT = 'refused_sets';
const TARGET = 'demo/refused-sets';
const RUN = 'refusedset01';
const FILES = [bufferFile('out.log', 'output of the run\n'), bufferFile('notes.txt', 'notes\n'), bufferFile('code/train.py', 'print("train")\n')];
const run: GenRun = {
  id: RUN, displayName: RUN, tags: [], state: 'finished', createdAt: CREATED, heartbeatAt: CREATED, user: 'u', config: {}, summary: {},
  historyRowCount: 0, lastStep: -1, history: () => [], exportedBelowStep: 0,
  systemEvents: () => [], systemEventCount: 0, eventsFileListed: false, consoleLines: [], files: FILES,
};

let stack: Stack;
let dir: string;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

beforeAll(async () => {
  ({ stack, dir } = await startStackInTemp('w2n-set-refused-', {
    entity: { name: 'refuse-team', projects: [{ name: PROJECT, createdAt: CREATED, runs: [run] }], artifacts: [] },
  }));
}, 60_000);

afterAll(() => closeStackInTemp(stack, dir));

describe('a file-set upload Protocol A refuses', () => {
  it('counts as written only what the server holds; each refused file is a line', async () => {
    // Another tool made the run and wrote `files` as a string.
    const other = new NeptuneTarget({ env: stack.env });
    try {
      const project = await other.ensureProject('demo', 'refused-sets', { description: '', fields: [] });
      const r = await other.openRun(project, RUN);
      r.assign([{ path: 'files', value: { type: 'string', value: 'not a file set' } }]);
      expect(await r.flush()).toEqual([]);
    } finally {
      await other.close();
    }

    const out = await runCli(['migrate', '--workspace', 'demo', '--projects', PROJECT, '--protocol', 'a', '--yes', '--json', '--ledger', join(dir, 'ledger.sqlite')], stack.env, dir).done;
    const report = (events(out.stdout).find((e) => e.type === 'report') as unknown as { report: MigrationReport } | undefined)?.report;
    expect(report, out.stderr.slice(-2000)).toBeDefined();
    const r = report!.runs[0];

    const id = neptuneRunId(stack.neptune, TARGET, RUN)!;
    const i = stack.neptune.inspect;
    expect(i.attributes(id).files).toMatchObject({ type: 'string', value: 'not a file set' });
    const code = i.fileSet(id, 'source_code/files');
    expect(Object.fromEntries(Object.entries(code).map(([k, b]) => [k, sha(b)]))).toEqual({ 'code/train.py': sha(fileBytes(FILES[2])) });
    // The report: the one file the server holds, its bytes; a line for each refused file.
    expect(r.written.files).toBe(1);
    expect(r.written.bytes).toBe(FILES[2].sizeBytes);
    // The writer knew the field's type from the run's state, and did not send them.
    const refused = r.notWritten.map((o) => ({ reason: o.reason, subject: o.subject, count: o.count, detail: o.detail }));
    expect(refused.sort((x, y) => x.subject.localeCompare(y.subject))).toEqual(['notes.txt', 'out.log'].map((subject) => ({
      reason: 'invalid-path', subject, count: 1, detail: expect.stringMatching(/^files: field already holds type string, not fileSet/),
    })));
    expect(report!.totals.files).toBe(1);
  }, 120_000);

  it('the server refusing a package: its answer names the set, the target names each file of the package', async () => {
    const t = new NeptuneTarget({ env: stack.env });
    const other = new NeptuneTarget({ env: stack.env });
    const local = mkdtempSync(join(tmpdir(), 'w2n-set-refused-files-'));
    try {
      const project = await t.ensureProject('demo', 'refused-server', { description: '', fields: [] });
      // Opened before another writer makes `files` a string: this writer does not know, and sends.
      const r = await t.openRun(project, 'refusedset02');
      const o = await other.openRun(await other.ensureProject('demo', 'refused-server', { description: '', fields: [] }), 'refusedset02');
      o.assign([{ path: 'files', value: { type: 'string', value: 'taken' } }]);
      expect(await o.flush()).toEqual([]);
      for (const f of ['a.txt', 'b.txt', 'c.txt']) writeFileSync(join(local, f), `${f}\n`);
      const answer = await r.uploadFileSet('files', ['a.txt', 'b.txt', 'c.txt'].map((f) => ({ localPath: join(local, f), relativePath: f, sizeBytes: f.length + 1 })));
      expect(answer.alreadyPresent).toEqual([]);
      expect(answer.refused.map((x) => [x.reason, x.subject, x.count])).toEqual([['upload-failed', 'files/a.txt', 1], ['upload-failed', 'files/b.txt', 1], ['upload-failed', 'files/c.txt', 1]]);
      expect(answer.refused[0].detail).toMatch(/type string/);
    } finally {
      await t.close();
      await other.close();
      rmSync(local, { recursive: true, force: true });
    }
  }, 60_000);
});
