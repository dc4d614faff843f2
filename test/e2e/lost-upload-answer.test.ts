import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../../emulators/stack.ts';
import { generateEntity } from '../../emulators/wandb/index.ts';
import { streamFile } from '../../emulators/wandb/generator/files.ts';
import { events, runCli } from '../support/cli.ts';
import { fileBytes } from '../support/expected.ts';
import { neptuneRunId } from '../support/neptune-snapshot.ts';

/**
 * Issue 8 (b), for files: the server completes a multipart file-set upload (`finish`) and the answer
 * is lost. The upload session is gone, so the resent `finish` cannot succeed; the file is stored all
 * the same. The report must say it landed, not `upload-failed`, and the run must not fail.
 */
const MiB = 1024 * 1024;
let stack: Stack;
let dir: string;
let out: { code: number | null; stdout: string; stderr: string };

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'w2n-lostup-'));
  const entity = generateEntity({ seed: 17, preset: 'all-shapes', entity: 'upload-team' });
  entity.projects = entity.projects.slice(0, 1);
  entity.projects[0].runs = entity.projects[0].runs.slice(0, 1);
  entity.projects[0].runs[0].files.push(
    streamFile('checkpoints/final.ckpt', function* () {
      for (let c = 0; c < 96; c++) yield Buffer.alloc(65536, c);
    }),
  );
  stack = await startStack({
    entity, workDir: join(dir, 'export'),
    neptune: { limits: { minChunkSize: 2 * MiB }, faults: { forceDropAfterApply: { count: 1 }, dropAfterApplyOps: ['fileSetFileMultipartUploadFinish'] } },
  });
  out = await runCli(['migrate', '--workspace', 'demo', '--projects', 'all', '--yes', '--json', '--ledger', join(dir, 'ledger.sqlite')], stack.env, dir).done;
}, 120_000);

afterAll(async () => {
  await stack?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('a multipart upload whose finish answer was lost', () => {
  it('is reported as landed, and it has', () => {
    expect(stack.neptune.stats().droppedResponses).toBe(1);
    expect(out.code, out.stderr).toBe(0);
    const project = stack.entity.projects[0];
    const run = project.runs[0];
    const id = neptuneRunId(stack.neptune, `demo/${project.name.replace(/_/g, '-')}`, run.id)!;
    const file = run.files.find((f) => f.name === 'checkpoints/final.ckpt')!;
    expect(stack.neptune.inspect.fileSet(id, 'checkpoints')['checkpoints/final.ckpt']?.equals(fileBytes(file))).toBe(true);
    const report = (events(out.stdout).find((e) => e.type === 'report') as unknown as { report: { runs: Array<{ notWritten: Array<{ reason: string }> }> } }).report;
    expect(report.runs[0].notWritten.filter((o) => o.reason === 'upload-failed')).toEqual([]);
  });
});
