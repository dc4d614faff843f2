/**
 * A lost ledger (or a run migrated again into a target run that holds it) must not keep a file whose
 * size matches but whose bytes do not: W&B resumed the run and rewrote the file since. Through the CLI,
 * over Protocol A and B: migrate, change two files' bytes at the W&B emulator keeping their sizes,
 * delete the ledger, migrate again, and read back the bytes Neptune holds and what the report counts.
 */
import { createHash } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Stack } from '../../emulators/stack.ts';
import type { GenFile, GenRun } from '../../emulators/wandb/index.ts';
import { bufferFile } from '../../emulators/wandb/generator/files.ts';
import { patternFile } from '../../emulators/wandb/generator/artifacts.ts';
import { events, runCli } from '../support/cli.ts';
import { fileBytes } from '../support/expected.ts';
import { neptuneRunId } from '../support/neptune-snapshot.ts';
import { closeStackInTemp, startStackInTemp } from '../support/stack-in-temp.ts';

const CREATED = '2024-03-01T00:00:00';
const PROJECT = 'same_size';
const RUN = 'samesize01';
// Two big files (storage can be asked about them) and two small ones; one of each is rewritten.
const original = (): GenFile[] => [
  patternFile('kept.bin', 300_000, 1),
  patternFile('rewritten.bin', 310_000, 2),
  bufferFile('notes.txt', 'notes kept as they were\n'),
  bufferFile('out.txt', 'output of the first run\n'),
];
const REWRITTEN = ['rewritten.bin', 'out.txt'];

const genRun = (id: string, files: GenFile[], summary: Record<string, unknown> = {}): GenRun => ({
  id, displayName: id, tags: [], state: 'finished', createdAt: CREATED, heartbeatAt: CREATED, user: 'u', config: {}, summary,
  historyRowCount: 0, lastStep: -1, history: () => [], exportedBelowStep: 0,
  systemEvents: () => [], systemEventCount: 0, eventsFileListed: false, consoleLines: [], files,
});
const run = genRun(RUN, original());
// Another project: a run whose summary names two HTML pages (media files); one is rewritten.
const MEDIA_PROJECT = 'same_media';
const MEDIA_RUN = 'samemedia1';
const pages = (): GenFile[] => [bufferFile('media/html/kept_1.html', `<p>${'k'.repeat(300)}</p>`), bufferFile('media/html/page_2.html', `<p>${'a'.repeat(300)}</p>`)];
const mediaRun = genRun(MEDIA_RUN, pages(), { kept: { _type: 'html-file', path: 'media/html/kept_1.html' }, page: { _type: 'html-file', path: 'media/html/page_2.html' } });

/** The same size, other bytes: as a resumed W&B run rewriting the file would leave it. */
function rewrite(file: GenFile): GenFile {
  const bytes = fileBytes(file);
  for (let i = 0; i < bytes.length; i++) bytes[i] = bytes[i] ^ 0x5a;
  return bufferFile(file.name, bytes);
}

let stack: Stack;
let dir: string;

type Report = { runs: Array<{ status: string; written: Record<string, number>; notWritten: Array<{ reason: string }> }> };
const reportOf = (stdout: string) => (events(stdout).find((e) => e.type === 'report') as unknown as { report: Report }).report;
const digests = (files: Record<string, Buffer>) => Object.fromEntries(Object.entries(files).map(([k, b]) => [k, createHash('sha256').update(b).digest('hex')]));
const want = () => digests(Object.fromEntries(run.files.map((f) => [f.name, fileBytes(f)])));
const size = (name: string) => run.files.find((f) => f.name === name)!.sizeBytes;

beforeAll(async () => {
  ({ stack, dir } = await startStackInTemp('w2n-same-size-', {
    entity: { name: 'same-team', projects: [{ name: PROJECT, createdAt: CREATED, runs: [run] }, { name: MEDIA_PROJECT, createdAt: CREATED, runs: [mediaRun] }], artifacts: [] },
    neptune: { protocolB: { statusDelayMs: 5 } },
  }));
}, 60_000);

afterAll(() => closeStackInTemp(stack, dir));

describe.each(['a', 'b'])('a file rewritten in W&B with the same size, the ledger lost, over Protocol %s', (protocol) => {
  const target = `same-${protocol}`;
  const ledger = () => join(dir, `${target}.sqlite`);
  const migrate = (project = PROJECT) =>
    runCli(['migrate', '--workspace', 'demo', '--projects', project, '--project-map', `${project}=${target}`, '--protocol', protocol, '--yes', '--json', '--ledger', ledger()], stack.env, dir).done;
  const landed = (runId = RUN, set = 'files'): Record<string, string> => {
    if (protocol === 'a') {
      const id = neptuneRunId(stack.neptune, `demo/${target}`, runId);
      return digests(id ? stack.neptune.inspect.fileSet(id, set) : {});
    }
    const b = stack.neptune.b!.inspect;
    const held: Record<string, Buffer> = {};
    for (const [path, a] of Object.entries(b.attributes(`demo/${target}`, runId))) {
      if (path.startsWith(`${set}/`) && a.type === 'fileRef') held[path.slice(set.length + 1)] = b.object(`demo/${target}`, (a.value as { path: string }).path)!.data;
    }
    return digests(held);
  };
  const forgetLedger = () => {
    for (const suffix of ['', '-wal', '-shm']) rmSync(ledger() + suffix, { force: true });
  };

  it('the rewritten files are sent again and land with their new bytes; only files proven the same are kept', async () => {
    run.files = original();
    const first = await migrate();
    expect(first.code, first.stderr).toBe(0);
    expect(landed()).toEqual(want());

    run.files = run.files.map((f) => (REWRITTEN.includes(f.name) ? rewrite(f) : f));
    for (const name of REWRITTEN) expect(size(name)).toBe(original().find((f) => f.name === name)!.sizeBytes);
    forgetLedger();
    const before = stack.neptune.stats().bodyBytes;
    const again = await migrate();
    expect(again.code, again.stderr).toBe(0);
    expect(landed()).toEqual(want());

    const received = stack.neptune.stats().bodyBytes - before;
    const r = reportOf(again.stdout).runs[0];
    expect(r.status).toBe('migrated');
    expect(r.notWritten).toEqual([]);
    const rewrittenBytes = REWRITTEN.reduce((n, f) => n + size(f), 0);
    if (protocol === 'b') {
      // Storage's MD5 of each object equals W&B's for the two files not rewritten: kept, not sent again
      // (storage took in the rewritten files' bytes, and not the kept big file's).
      expect(r.written).toMatchObject({ files: 2, filesAlreadyPresent: 2, bytes: rewrittenBytes });
      expect(received).toBeGreaterThanOrEqual(rewrittenBytes);
      expect(received).toBeLessThan(rewrittenBytes + size('kept.bin'));
    } else {
      // Protocol A lists a file set's entries with their sizes only: nothing proves the bytes, so every file is sent again.
      const all = run.files.reduce((n, f) => n + f.sizeBytes, 0);
      expect(r.written).toMatchObject({ files: 4, bytes: all });
      expect(r.written.filesAlreadyPresent ?? 0).toBe(0);
    }
  }, 120_000);

  it('a summary media file rewritten at the same size is sent again; the one proven the same is kept', async () => {
    mediaRun.files = pages();
    const first = await migrate(MEDIA_PROJECT);
    expect(first.code, first.stderr).toBe(0);
    const page = (name: string) => digests({ 'summary.html': fileBytes(mediaRun.files.find((f) => f.name === name)!) });
    expect(landed(MEDIA_RUN, 'summary/media/html/kept')).toEqual(page('media/html/kept_1.html'));
    expect(landed(MEDIA_RUN, 'summary/media/html/page')).toEqual(page('media/html/page_2.html'));

    mediaRun.files = [mediaRun.files[0], bufferFile('media/html/page_2.html', `<p>${'b'.repeat(300)}</p>`)];
    forgetLedger();
    const again = await migrate(MEDIA_PROJECT);
    expect(again.code, again.stderr).toBe(0);
    expect(landed(MEDIA_RUN, 'summary/media/html/kept')).toEqual(page('media/html/kept_1.html'));
    expect(landed(MEDIA_RUN, 'summary/media/html/page')).toEqual(page('media/html/page_2.html'));
    const r = reportOf(again.stdout).runs[0];
    expect(r.status).toBe('migrated');
    // The raw `media/` run files are left out by default (their pages land through the summary).
    expect(r.notWritten.filter((o) => o.reason !== 'excluded-by-default')).toEqual([]);
    // Over B storage proves the kept page; Protocol A cannot prove either, and sends both again.
    expect(r.written).toMatchObject(protocol === 'b' ? { mediaFiles: 1, filesAlreadyPresent: 1 } : { mediaFiles: 2 });
    if (protocol === 'a') expect(r.written.filesAlreadyPresent ?? 0).toBe(0);
  }, 120_000);
});
