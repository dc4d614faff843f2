/**
 * The README's `download-failed` row, for a history row's media files, with the rule run files and
 * artifact files follow: a file W&B says does not exist (404) is a report line naming the key, and the
 * run is done; a file W&B failed to serve past the retries (503) leaves the run not done (exit 3), the
 * history stopped at that row, so the next pass reads the row again and lands the file — in step order,
 * with every byte, counted once. Through the CLI, over Protocol A and B; and `verify` meeting the same
 * failure cannot call the run verified without the file.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Stack } from '../../emulators/stack.ts';
import { session } from '../../emulators/neptune/test-client.ts';
import type { GenRun } from '../../emulators/wandb/index.ts';
import { bufferFile } from '../../emulators/wandb/generator/files.ts';
import { events, runCli } from '../support/cli.ts';
import { neptuneRunId } from '../support/neptune-snapshot.ts';
import { closeStackInTemp, startStackInTemp } from '../support/stack-in-temp.ts';

const T0 = 1_704_067_200; // 2024-01-01T00:00:00Z
const CREATED = '2024-01-01T00:00:00';
const PROJECT = 'hmedia_proj';
const RUN = 'hmedia01';
const STEPS = [0, 1, 2, 3];
const FAILING = 'media/images/img_2_a.png';

const png = (n: number) => Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(40 + n, n)]);
const imageName = (step: number) => `media/images/img_${step}_a.png`;
const pageName = (step: number) => `media/html/page_${step}_c.html`;
const tableName = (step: number) => `media/table/preds_${step}_b.table.json`;
const FILES: Record<string, Buffer> = Object.fromEntries(STEPS.flatMap((s) => [
  [imageName(s), png(s)], [pageName(s), Buffer.from(`<p>${s}</p>`)], [tableName(s), Buffer.from(JSON.stringify({ columns: ['id'], data: [[s]] }))],
]));
const ROWS = STEPS.map((step) => ({
  _step: step, _timestamp: T0 + step + 0.5, _runtime: step + 0.5, loss: 1 / (step + 1),
  img: { _type: 'image-file', path: imageName(step), caption: `step ${step}`, format: 'png', width: 8, height: 8, size: 48 + step },
  page: { _type: 'html-file', path: pageName(step) },
  preds: { _type: 'table-file', path: tableName(step), ncols: 1, nrows: 1 },
}));

const run: GenRun = {
  id: RUN, displayName: RUN, tags: [], state: 'finished', createdAt: CREATED, heartbeatAt: CREATED, user: 'u', config: {}, summary: { loss: 0.25 },
  historyRowCount: ROWS.length, lastStep: ROWS.length - 1, history: () => ROWS, exportedBelowStep: 2,
  systemEvents: () => [], systemEventCount: 0, eventsFileListed: false, consoleLines: [],
  files: Object.entries(FILES).map(([n, b]) => bufferFile(n, b)),
};

let stack: Stack;
let dir: string;

type Line = { reason: string; subject: string; count: number; detail?: string };
type Report = { runs: Array<{ status: string; error?: string; written: Record<string, number>; notWritten: Line[] }> };
const reportOf = (stdout: string) => (events(stdout).find((e) => e.type === 'report') as unknown as { report: Report }).report;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

beforeAll(async () => {
  ({ stack, dir } = await startStackInTemp('w2n-history-media-', {
    entity: { name: 'hmedia-team', projects: [{ name: PROJECT, createdAt: CREATED, runs: [run] }], artifacts: [] },
    neptune: { protocolB: { statusDelayMs: 5 } },
  }));
}, 60_000);

afterAll(() => closeStackInTemp(stack, dir));

describe.each(['a', 'b'])('a history row\'s media file W&B cannot serve, over Protocol %s', (protocol) => {
  const migrate = (target: string) =>
    runCli(['migrate', '--workspace', 'demo', '--projects', PROJECT, '--project-map', `${PROJECT}=${target}`, '--protocol', protocol, '--retries', '0', '--yes', '--json',
      '--ledger', join(dir, `${target}.sqlite`)], stack.env, dir).done;

  /** The images of series `img` Neptune holds: step, timestamp and the SHA-256 of the bytes. */
  const images = async (target: string): Promise<Array<[number, number, string]>> => {
    if (protocol === 'b') {
      const b = stack.neptune.b.inspect;
      return b.fileRefSeries(`demo/${target}`, RUN, 'img').map((p) => [p.step, p.timestampMs, sha(b.object(`demo/${target}`, p.value.path)!.data)]);
    }
    const id = neptuneRunId(stack.neptune, `demo/${target}`, RUN);
    if (!id) return [];
    const neptune = await session(stack.neptune);
    const out: Array<[number, number, string]> = [];
    for (const [i, e] of stack.neptune.inspect.stringSeries(id, 'img').entries()) {
      const one = await neptune.api('/api/leaderboard/v1/attributes/series/image/single', { experimentId: id, attribute: 'img', index: i });
      out.push([e.step, e.timestampMs, sha(one.bytes)]);
    }
    return out;
  };
  /** The html files Neptune holds under `media/html/page`: name → SHA-256. */
  const pages = (target: string): Record<string, string> => {
    const set = 'media/html/page';
    if (protocol === 'a') {
      const id = neptuneRunId(stack.neptune, `demo/${target}`, RUN);
      return Object.fromEntries(Object.entries(id ? stack.neptune.inspect.fileSet(id, set) : {}).map(([k, v]) => [k, sha(v)]));
    }
    const b = stack.neptune.b.inspect;
    return Object.fromEntries(Object.entries(b.attributes(`demo/${target}`, RUN)).filter(([p, a]) => p.startsWith(`${set}/`) && a.type === 'fileRef')
      .map(([p, a]) => [p.slice(set.length + 1), sha(b.object(`demo/${target}`, (a.value as { path: string }).path)!.data)]));
  };
  const wantImages = (steps: number[]): Array<[number, number, string]> => steps.map((s) => [s, (T0 + s + 0.5) * 1000, sha(FILES[imageName(s)])]);
  const wantPages = (steps: number[]) => Object.fromEntries(steps.map((s) => [`${s}.html`, sha(FILES[pageName(s)])]));

  it('storage failing past the retries (503): the run not done (exit 3), nothing at or after that row landed; the next pass lands every image and file once, in step order', async () => {
    const target = `hm-retry-${protocol}`;
    stack.wandb.setFaults({ fileStatus: { [FAILING]: 503 } });
    const out = await migrate(target);
    stack.wandb.setFaults(undefined);
    expect(out.code, out.stderr).toBe(3);
    const first = reportOf(out.stdout).runs[0];
    expect(first.status).toBe('failed');
    expect(first.error).toContain(FAILING);
    // Not a line the next pass would leave behind: the row is read again.
    expect(first.notWritten.filter((o) => o.reason === 'download-failed')).toEqual([]);
    expect((await images(target)).filter(([step]) => step >= 2)).toEqual([]);

    const again = await migrate(target);
    expect(again.code, again.stderr).toBe(0);
    const second = reportOf(again.stdout).runs[0];
    expect(second.status).toBe('migrated');
    expect(second.notWritten.filter((o) => o.reason === 'download-failed')).toEqual([]);
    expect(await images(target)).toEqual(wantImages(STEPS));
    expect(pages(target)).toEqual(wantPages(STEPS));
    // Counted once: what the two passes wrote, and what the second found already there, is each image once.
    expect((second.written.images ?? 0) + (second.written.imagesAlreadyPresent ?? 0)).toBe(STEPS.length);
  }, 120_000);

  it('a file W&B says is gone (404): a download-failed line naming the key, the run done (exit 0), every other row\'s media landed', async () => {
    const target = `hm-gone-${protocol}`;
    stack.wandb.setFaults({ fileStatus: { [FAILING]: 404 } });
    try {
      const out = await migrate(target);
      expect(out.code, out.stderr).toBe(0);
      const first = reportOf(out.stdout).runs[0];
      expect(first.status).toBe('migrated');
      expect(first.notWritten.filter((o) => o.reason === 'download-failed')).toEqual([{ reason: 'download-failed', subject: 'img', count: 1, detail: expect.stringMatching(/media file media\/images\/img_2_a\.png: .*HTTP 404/) }]);
      expect(await images(target)).toEqual(wantImages([0, 1, 3]));
      expect(pages(target)).toEqual(wantPages(STEPS));
      const again = await migrate(target);
      expect(again.code, again.stderr).toBe(0);
      expect(reportOf(again.stdout).runs[0]).toMatchObject({ status: 'skipped', notWritten: first.notWritten });

      // verify, without the ledger that explains the missing image: W&B failing to serve a table whose
      // CSV rendering it must compare (503) leaves the run unverifiable (exit 5, the error names the
      // file), rather than the CSV Neptune holds called a file the W&B run does not give (or, were it
      // missing too, the run verified without it); W&B serving it shows only the image missing.
      const verify = () => runCli(['verify', '--workspace', 'demo', '--projects', PROJECT, '--project-map', `${PROJECT}=${target}`, '--protocol', protocol,
        '--retries', '0', '--json'], stack.env, dir).done;
      type V = { runs: Array<{ status: string; error?: string; differences: Array<{ scope: string; subject: string; explainedBy?: unknown }> }> };
      const verifyOf = (stdout: string) => (events(stdout).find((e) => e.type === 'report') as unknown as { report: V }).report;
      stack.wandb.setFaults({ fileStatus: { [tableName(1)]: 503 } });
      const failing = await verify();
      expect(failing.code, failing.stderr).toBe(5);
      expect(verifyOf(failing.stdout).runs[0]).toMatchObject({ status: 'mismatch', error: expect.stringContaining(tableName(1)) });
      stack.wandb.setFaults(undefined);
      const served = await verify();
      expect(served.code, served.stderr).toBe(5);
      expect(verifyOf(served.stdout).runs[0]).toMatchObject({ status: 'mismatch', differences: [expect.objectContaining({ scope: 'image', subject: 'img' })] });
    } finally {
      stack.wandb.setFaults(undefined);
    }
  }, 120_000);
});
