/**
 * Protocol B refusing a FileRef without saying which: a server without the ingest details endpoint
 * (or details without a path) only counts refused fields (status.ts: "(path not given by the
 * server)"). Before, every file of that upload was counted as written. Now the run's fields are read
 * back and a file counts as written only when its FileRef is there; the refused one is a line of its
 * own. Through the CLI: another writer made `files/notes.txt` a string in the run after a first pass;
 * W&B then has two more files, `notes.txt` (which the server refuses, FIELD_TYPE_CONFLICTING) and
 * `eval.txt`; the second pass goes through a proxy answering `checkDetails` with 404.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Stack } from '../../emulators/stack.ts';
import type { GenRun } from '../../emulators/wandb/index.ts';
import { bufferFile } from '../../emulators/wandb/generator/files.ts';
import type { MigrationReport } from '../../src/pipeline/report.ts';
import { NeptuneBTarget } from '../../src/sinks/neptune-b/target.ts';
import { startNeptuneProxy, type NeptuneProxy } from '../neptune/proxy.ts';
import { events, runCli } from '../support/cli.ts';
import { closeStackInTemp, startStackInTemp } from '../support/stack-in-temp.ts';

const CREATED = '2024-03-01T00:00:00';
const PROJECT = 'unnamed_refusal';
const TARGET = 'demo/unnamed-refusal';
const RUN = 'unnamedref01';
const OUT = bufferFile('out.log', 'output of the run\n');
const NOTES = bufferFile('notes.txt', 'notes written later\n');
const EVAL = bufferFile('eval.txt', 'evaluated after the run\n');
const run: GenRun = {
  id: RUN, displayName: RUN, tags: [], state: 'finished', createdAt: CREATED, heartbeatAt: CREATED, user: 'u', config: {}, summary: {},
  historyRowCount: 0, lastStep: -1, history: () => [], exportedBelowStep: 0,
  systemEvents: () => [], systemEventCount: 0, eventsFileListed: false, consoleLines: [], files: [OUT],
};

let stack: Stack;
let dir: string;
let proxy: NeptuneProxy;

beforeAll(async () => {
  ({ stack, dir } = await startStackInTemp('w2n-unnamed-refusal-', {
    entity: { name: 'unnamed-team', projects: [{ name: PROJECT, createdAt: CREATED, runs: [run] }], artifacts: [] },
  }));
  proxy = await startNeptuneProxy(stack.neptune);
}, 60_000);

afterAll(async () => {
  await proxy?.close();
  await closeStackInTemp(stack, dir);
});

async function migrate(): Promise<{ code: number; report: MigrationReport }> {
  const env = { ...stack.env, NEPTUNE_API_TOKEN: proxy.apiToken() };
  const out = await runCli(['migrate', '--workspace', 'demo', '--projects', PROJECT, '--protocol', 'b', '--yes', '--json', '--ledger', join(dir, 'ledger.sqlite')], env, dir).done;
  const report = (events(out.stdout).find((e) => e.type === 'report') as unknown as { report: MigrationReport } | undefined)?.report;
  expect(report, out.stderr.slice(-2000)).toBeDefined();
  return { code: out.code ?? -1, report: report! };
}

function heldFile(name: string): Buffer | undefined {
  const b = stack.neptune.b.inspect;
  const ref = b.attributes(TARGET, RUN)[`files/${name}`];
  if (ref?.type !== 'fileRef') return undefined;
  return b.object(TARGET, (ref.value as { path: string }).path)?.data;
}

describe('Protocol B: a FileRef refusal that names no file', () => {
  it('counts as written only the files whose FileRef the run holds; the refused one is a line', async () => {
    const first = await migrate();
    expect(first.code).toBe(0);
    expect(heldFile('out.log')).toEqual(OUT.content());

    // Another tool wrote `files/notes.txt` as a string into the run.
    const other = new NeptuneBTarget({ token: stack.neptune.apiToken(), ingest: { sleep: async () => {} } });
    try {
      const project = await other.ensureProject('demo', 'unnamed-refusal', { description: '', fields: [] });
      const r = await other.openRun(project, RUN);
      r.assign([{ path: 'files/notes.txt', value: { type: 'string', value: 'not a file' } }]);
      expect(await r.flush()).toEqual([]);
    } finally {
      await other.close();
    }
    run.files.push(NOTES, EVAL);
    // A server without the details endpoint: refused fields are counted, not named.
    proxy.decide = (r) => (r.path === '/api/client/v1/ingest/checkDetails' ? { kind: 'respond', status: 404, json: { message: 'not found' } } : { kind: 'forward' });

    const second = await migrate();
    const r = second.report.runs[0];
    // What the run holds: eval.txt with its bytes; notes.txt is still the other tool's string.
    expect(heldFile('eval.txt')).toEqual(EVAL.content());
    expect(stack.neptune.b.inspect.attributes(TARGET, RUN)['files/notes.txt']).toMatchObject({ type: 'string', value: 'not a file' });
    // The report (over both passes) equals what the run holds: the FileRefs under files/ and their bytes; notes.txt a line of its own.
    const attrs = stack.neptune.b.inspect.attributes(TARGET, RUN);
    const held = Object.keys(attrs).filter((k) => k.startsWith('files/') && attrs[k].type === 'fileRef').map((k) => k.slice('files/'.length)).sort();
    expect(held).toEqual(['eval.txt', 'out.log']);
    expect(r.written.files).toBe(held.length);
    expect(r.written.bytes).toBe(held.reduce((n, name) => n + heldFile(name)!.length, 0));
    expect(r.notWritten.map((o) => ({ reason: o.reason, subject: o.subject, count: o.count }))).toEqual([{ reason: 'upload-failed', subject: 'notes.txt', count: 1 }]);
    expect(r.notWritten[0].detail).toMatch(/FIELD_TYPE_CONFLICTING.*without naming them; the run does not hold this one/);
    expect(second.report.totals.files).toBe(held.length);
  }, 120_000);
});
