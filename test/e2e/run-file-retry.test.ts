/**
 * The README's `download-failed` row, for run files: a file W&B could not serve after the download
 * retries (5xx) is a report line and the run is left not done (exit 3), so the next pass downloads the
 * file — and only it — and completes the run; a file W&B says does not exist (404) is a line and the
 * run is done, so a re-run does not fail forever on it. Through the CLI, over Protocol A and B,
 * comparing the bytes that land, the report lines and the bytes the Neptune emulator received.
 */
import { createHash } from 'node:crypto';
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
const PROJECT = 'files_proj';
const RUN = 'filerun01';
// Above the prefetch size, so each is downloaded once, by the file migration.
const FILES = [patternFile('a.txt', 300_000, 1), patternFile('data/b.bin', 310_000, 2), patternFile('c.bin', 320_000, 3)];
const FAILING = 'data/b.bin';

const genRun = (id: string, summary: Record<string, unknown>, files: GenFile[]): GenRun => ({
  id, displayName: id, tags: [], state: 'finished', createdAt: CREATED, heartbeatAt: CREATED, user: 'u', config: {}, summary,
  historyRowCount: 0, lastStep: -1, history: () => [], exportedBelowStep: 0,
  systemEvents: () => [], systemEventCount: 0, eventsFileListed: false, consoleLines: [], files,
});
const run = genRun(RUN, {}, FILES);
// Another project: a run whose summary holds an image (a media file the summary names, carried by every pass).
const MEDIA_PROJECT = 'media_proj';
const MEDIA_RUN = 'mediarun01';
const BEST = bufferFile('media/images/best_x.png', Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(300, 7)]));
const mediaRun = genRun(MEDIA_RUN, { best: { _type: 'image-file', path: BEST.name } }, [BEST]);

let stack: Stack;
let dir: string;

type Line = { reason: string; subject: string; count: number; detail?: string };
type Report = { runs: Array<{ status: string; error?: string; notWritten: Line[] }> };
const reportOf = (stdout: string) => (events(stdout).find((e) => e.type === 'report') as unknown as { report: Report }).report;
/** Each file's bytes, as their SHA-256 (a failure shows names, not buffers). */
const digests = (files: Record<string, Buffer>) => Object.fromEntries(Object.entries(files).map(([k, b]) => [k, createHash('sha256').update(b).digest('hex')]));
const want = (names: string[]) => digests(Object.fromEntries(FILES.filter((f) => names.includes(f.name)).map((f) => [f.name, fileBytes(f)])));
const ALL = FILES.map((f) => f.name);
const size = (name: string) => FILES.find((f) => f.name === name)!.sizeBytes;

beforeAll(async () => {
  ({ stack, dir } = await startStackInTemp('w2n-file-retry-', {
    entity: { name: 'retry-team', projects: [{ name: PROJECT, createdAt: CREATED, runs: [run] }, { name: MEDIA_PROJECT, createdAt: CREATED, runs: [mediaRun] }], artifacts: [] },
    neptune: { protocolB: { statusDelayMs: 5 } },
  }));
}, 60_000);

afterAll(() => closeStackInTemp(stack, dir));

describe.each(['a', 'b'])('a run file W&B cannot serve, over Protocol %s', (protocol) => {
  const migrate = (target: string, project = PROJECT) =>
    runCli(['migrate', '--workspace', 'demo', '--projects', project, '--project-map', `${project}=${target}`, '--protocol', protocol, '--retries', '0', '--yes', '--json',
      '--ledger', join(dir, `${target}.sqlite`)], stack.env, dir).done;
  const landed = (target: string, runId = RUN, set = 'files'): Record<string, string> => {
    if (protocol === 'a') {
      const id = neptuneRunId(stack.neptune, `demo/${target}`, runId);
      return digests(id ? stack.neptune.inspect.fileSet(id, set) : {});
    }
    // Over B each file is a FileRef field `<set>/<name>` pointing at the bytes storage holds.
    const b = stack.neptune.b!.inspect;
    const attrs = b.attributes(`demo/${target}`, runId);
    const held: Record<string, Buffer> = {};
    for (const [path, a] of Object.entries(attrs)) {
      if (!path.startsWith(`${set}/`) || a.type !== 'fileRef') continue;
      held[path.slice(set.length + 1)] = b.object(`demo/${target}`, (a.value as { path: string }).path)!.data;
    }
    return digests(held);
  };
  /** What the Neptune emulator took in: A request bodies, B storage objects' bytes. */
  const received = () => stack.neptune.stats().bodyBytes;

  it('storage failing past the retries (503): a download-failed line, the run not done (exit 3); the next pass sends only that file and completes the run', async () => {
    const target = `retry-${protocol}`;
    stack.wandb.setFaults({ fileStatus: { [FAILING]: 503 } });
    const out = await migrate(target);
    stack.wandb.setFaults(undefined);
    expect(out.code, out.stderr).toBe(3);
    const report = reportOf(out.stdout);
    expect(report.runs[0].status).toBe('failed');
    expect(report.runs[0].error).toContain(FAILING);
    expect(report.runs[0].notWritten).toEqual([{ reason: 'download-failed', subject: FAILING, count: 1, detail: expect.stringMatching(/file data\/b\.bin of .*HTTP 503/) }]);
    expect(landed(target)).toEqual(want(['a.txt', 'c.bin']));

    // Still failing: the same one line (not a second), the run still not done, nothing landed sent again.
    stack.wandb.setFaults({ fileStatus: { [FAILING]: 503 } });
    const still = received();
    const twice = await migrate(target);
    stack.wandb.setFaults(undefined);
    expect(twice.code, twice.stderr).toBe(3);
    expect(reportOf(twice.stdout).runs[0].notWritten).toEqual([{ reason: 'download-failed', subject: FAILING, count: 1, detail: expect.stringMatching(/HTTP 503/) }]);
    expect(received() - still).toBeLessThan(size('a.txt'));

    const before = received();
    const again = await migrate(target);
    expect(again.code, again.stderr).toBe(0);
    expect(landed(target)).toEqual(want(ALL));
    // The file left, once; not the two that landed before (each is bigger than all the rest this pass sends).
    const sent = received() - before;
    expect(sent).toBeGreaterThanOrEqual(size(FAILING));
    expect(sent).toBeLessThan(size(FAILING) + size('a.txt'));
    expect(reportOf(again.stdout).runs[0]).toMatchObject({ status: 'migrated', notWritten: [] });
  }, 120_000);

  it('a file W&B says is gone (404): a download-failed line and the run done (exit 0); a re-run does not try it again', async () => {
    const target = `gone-${protocol}`;
    stack.wandb.setFaults({ fileStatus: { [FAILING]: 404 } });
    const out = await migrate(target);
    expect(out.code, out.stderr).toBe(0);
    expect(reportOf(out.stdout).runs[0]).toMatchObject({
      status: 'migrated',
      notWritten: [{ reason: 'download-failed', subject: FAILING, count: 1, detail: expect.stringMatching(/file data\/b\.bin of .*HTTP 404/) }],
    });
    expect(landed(target)).toEqual(want(['a.txt', 'c.bin']));
    const before = received();
    const again = await migrate(target);
    stack.wandb.setFaults(undefined);
    expect(again.code, again.stderr).toBe(0);
    expect(landed(target)).toEqual(want(['a.txt', 'c.bin']));
    expect(received() - before).toBeLessThan(size('a.txt'));
  }, 120_000);

  it('a summary image storage fails past the retries: a download-failed line for its key, the run not done; the next pass lands it and the line goes', async () => {
    const target = `media-${protocol}`;
    const SET = 'summary/media/images/best';
    stack.wandb.setFaults({ fileStatus: { [BEST.name]: 503 } });
    const out = await migrate(target, MEDIA_PROJECT);
    stack.wandb.setFaults(undefined);
    expect(out.code, out.stderr).toBe(3);
    const report = reportOf(out.stdout);
    expect(report.runs[0].status).toBe('failed');
    expect(report.runs[0].notWritten.filter((o) => o.reason === 'download-failed')).toEqual([
      { reason: 'download-failed', subject: 'best', count: 1, detail: expect.stringMatching(/media file media\/images\/best_x\.png: .*HTTP 503/) },
    ]);
    expect(landed(target, MEDIA_RUN, SET)).toEqual({});

    const again = await migrate(target, MEDIA_PROJECT);
    expect(again.code, again.stderr).toBe(0);
    expect(landed(target, MEDIA_RUN, SET)).toEqual(digests({ 'summary.png': fileBytes(BEST) }));
    const after = reportOf(again.stdout).runs[0];
    expect(after.status).toBe('migrated');
    expect(after.notWritten.filter((o) => o.reason === 'download-failed')).toEqual([]);
  }, 120_000);
});
