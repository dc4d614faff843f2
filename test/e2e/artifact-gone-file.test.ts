/**
 * The README's `download-failed` row for artifact files, over passes: what storage says is gone (404)
 * — a file, or a version's manifest — is a line once and its version is done with the omission
 * recorded; a file storage fails to serve for now (503) keeps the version for the next pass, which
 * copies that file alone. A later pass of the run (changed in W&B since) neither asks for the gone
 * file again nor sends the version's other files again. Through the CLI, over Protocol A and B, comparing the bytes that land, the report lines,
 * the requests the W&B emulator answered for the gone file and the ledger's version status.
 */
import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Stack } from '../../emulators/stack.ts';
import type { GenRun } from '../../emulators/wandb/index.ts';
import { patternFile, type GenArtifact } from '../../emulators/wandb/generator/artifacts.ts';
import { events, runCli } from '../support/cli.ts';
import { fileBytes } from '../support/expected.ts';
import { neptuneRunId } from '../support/neptune-snapshot.ts';
import { closeStackInTemp, startStackInTemp } from '../support/stack-in-temp.ts';

const CREATED = '2024-03-01T00:00:00';
const PROJECT = 'gone_proj';
const LOGGER = 'gonerun01';
const GONE = 'part-1.bin';
const FAILING = 'part-2.bin';
const logger: GenRun = {
  id: LOGGER, displayName: LOGGER, tags: [], state: 'finished', createdAt: CREATED, heartbeatAt: CREATED, user: 'u', config: {}, summary: { pass: 1 },
  historyRowCount: 0, lastStep: -1, history: () => [], exportedBelowStep: 0,
  systemEvents: () => [], systemEventCount: 0, eventsFileListed: false, consoleLines: [], files: [],
};
const ARTIFACT: GenArtifact = {
  project: PROJECT, name: 'data', type: 'dataset', versionIndex: 0, aliases: ['latest'], createdAt: CREATED,
  entries: Array.from({ length: 4 }, (_, i) => ({ path: `part-${i}.bin`, file: patternFile(`part-${i}.bin`, 200_000 + i, i + 11) })),
  loggedBy: LOGGER, usedBy: [],
};
const FILES_PATH = 'artifacts/data/v0/files';
// Another version of the run, whose manifest storage says is gone: nothing of it can be copied.
const NO_MANIFEST: GenArtifact = {
  project: PROJECT, name: 'model', type: 'model', versionIndex: 0, aliases: [], createdAt: CREATED,
  entries: [{ path: 'w.bin', file: patternFile('w.bin', 1000, 21) }], loggedBy: LOGGER, usedBy: [],
};
const GONE_FAULTS = { [`data:v0/${GONE}`]: 404, 'model:v0': 404 };

let stack: Stack;
let dir: string;

type Line = { reason: string; subject: string; count: number; detail?: string };
type Report = { runs: Array<{ status: string; error?: string; written: Record<string, number>; notWritten: Line[] }> };
const reportOf = (stdout: string) => (events(stdout).find((e) => e.type === 'report') as unknown as { report: Report }).report;
const digests = (files: Record<string, Buffer>) => Object.fromEntries(Object.entries(files).map(([k, b]) => [k, createHash('sha256').update(b).digest('hex')]));
const want = (except: string[]) =>
  digests(Object.fromEntries(ARTIFACT.entries.filter((e) => !except.includes(e.path)).map((e) => [e.path, fileBytes(e.file!)])));
const asked = (name: string) => stack.wandb.stats().storageFaults[name] ?? 0;

beforeAll(async () => {
  ({ stack, dir } = await startStackInTemp('w2n-artifact-gone-', {
    entity: { name: 'gone-team', projects: [{ name: PROJECT, createdAt: CREATED, runs: [logger] }], artifacts: [ARTIFACT, NO_MANIFEST] },
    neptune: { protocolB: { statusDelayMs: 5 } },
  }));
}, 60_000);

afterAll(() => closeStackInTemp(stack, dir));

describe.each(['a', 'b'])('an artifact version with a gone file and a failing one, over Protocol %s', (protocol) => {
  const target = `gone-${protocol}`;
  const ledger = () => join(dir, `${target}.sqlite`);
  const migrate = () =>
    runCli(['migrate', '--workspace', 'demo', '--projects', PROJECT, '--project-map', `${PROJECT}=${target}`, '--protocol', protocol, '--include', 'artifacts',
      '--retries', '0', '--yes', '--json', '--ledger', ledger()], stack.env, dir).done;
  const landed = (): Record<string, string> => {
    if (protocol === 'a') {
      const id = neptuneRunId(stack.neptune, `demo/${target}`, LOGGER);
      return digests(id ? stack.neptune.inspect.fileSet(id, FILES_PATH) : {});
    }
    const b = stack.neptune.b!.inspect;
    const held: Record<string, Buffer> = {};
    for (const [path, a] of Object.entries(b.attributes(`demo/${target}`, LOGGER))) {
      if (path.startsWith(`${FILES_PATH}/`) && a.type === 'fileRef') held[path.slice(FILES_PATH.length + 1)] = b.object(`demo/${target}`, (a.value as { path: string }).path)!.data;
    }
    return digests(held);
  };
  /** What the Neptune emulator took in: A request bodies, B storage objects' bytes. */
  const received = () => stack.neptune.stats().bodyBytes;
  const versionStatus = (version = 'data:v0') => {
    const db = new Database(ledger(), { readonly: true });
    try {
      return (db.prepare('SELECT status FROM artifact_versions WHERE artifact LIKE ?').get(`%/${version}`) as { status: string } | undefined)?.status;
    } finally {
      db.close();
    }
  };
  const goneLines = [
    { reason: 'download-failed', subject: `${FILES_PATH}/${GONE}`, count: 1, detail: expect.stringMatching(/file part-1\.bin of artifact .*HTTP 404/) },
    { reason: 'download-failed', subject: 'artifacts/model/v0', count: 1, detail: expect.stringMatching(/manifest is gone .*HTTP 404/) },
  ];
  const bySubject = (lines: Line[]) => [...lines].sort((x, y) => x.subject.localeCompare(y.subject));
  /** The storage requests for the gone file and the gone manifest. */
  const goneAsked = () => [asked(`data:v0/${GONE}`), asked('model:v0')];

  it('the gone file is a line once and the version done; the failing one is copied by the next pass alone; a later pass asks nothing of the version again', async () => {
    logger.summary = { pass: 1 };
    stack.wandb.setFaults({ fileStatus: { ...GONE_FAULTS, [`data:v0/${FAILING}`]: 503 } });
    try {
      const first = await migrate();
      expect(first.code, first.stderr).toBe(3);
      const r1 = reportOf(first.stdout).runs[0];
      expect(r1.status).toBe('failed');
      expect(r1.error).toContain(`${FILES_PATH}/${FAILING}`);
      expect(r1.error).not.toContain(GONE);
      expect(bySubject(r1.notWritten)).toEqual(bySubject([
        ...goneLines,
        { reason: 'download-failed', subject: `${FILES_PATH}/${FAILING}`, count: 1, detail: expect.stringMatching(/HTTP 503/) },
      ]));
      expect(landed()).toEqual(want([GONE, FAILING]));
      expect(versionStatus()).toBe('copying');
      expect(versionStatus('model:v0')).toBe('done');

      // Storage serves the failing file again; the gone one stays gone.
      stack.wandb.setFaults({ fileStatus: GONE_FAULTS });
      const askedBefore = goneAsked();
      const before = received();
      const second = await migrate();
      expect(second.code, second.stderr).toBe(0);
      const r2 = reportOf(second.stdout).runs[0];
      expect(r2.status).toBe('migrated');
      expect(bySubject(r2.notWritten)).toEqual(bySubject(goneLines));
      expect(r2.written.artifactFiles).toBe(ARTIFACT.entries.length - 1);
      expect(landed()).toEqual(want([GONE]));
      // The failing file alone was sent; the gone one was not asked for again.
      const sent = received() - before;
      const size = (name: string) => ARTIFACT.entries.find((e) => e.path === name)!.file!.sizeBytes;
      expect(sent).toBeLessThan(size(FAILING) + size('part-0.bin'));
      if (protocol === 'b') expect(sent).toBeGreaterThanOrEqual(size(FAILING));
      expect(goneAsked()).toEqual(askedBefore);
      expect(versionStatus()).toBe('done');
      expect(versionStatus('model:v0')).toBe('done');

      // The run changes in W&B: the next pass reads it again, and nothing of the done version.
      logger.summary = { pass: 3 };
      const downloads = stack.wandb.stats().downloads;
      const third = await migrate();
      expect(third.code, third.stderr).toBe(0);
      const r3 = reportOf(third.stdout).runs[0];
      expect(r3.status).toBe('migrated');
      expect(bySubject(r3.notWritten)).toEqual(bySubject(goneLines));
      expect(r3.written.artifactFiles).toBe(ARTIFACT.entries.length - 1);
      expect(landed()).toEqual(want([GONE]));
      expect(goneAsked()).toEqual(askedBefore);
      expect(stack.wandb.stats().downloads).toBe(downloads);
      expect(versionStatus()).toBe('done');
      expect(versionStatus('model:v0')).toBe('done');
    } finally {
      stack.wandb.setFaults(undefined);
    }
  }, 120_000);
});
