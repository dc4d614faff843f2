import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../../emulators/stack.ts';
import { generateEntity } from '../../emulators/wandb/index.ts';
import { streamFile } from '../../emulators/wandb/generator/files.ts';
import { runCli } from '../support/cli.ts';
import { fileBytes } from '../support/expected.ts';
import { neptuneRunId } from '../support/neptune-snapshot.ts';
import { sharedPath } from '../support/shared.ts';
import { startNeptuneProxy, type NeptuneProxy } from './proxy.ts';
import { checkRequest, loadSpecSet } from './served-spec.ts';

/**
 * Issue 8 (e): every request the product sends during a real CLI migration — the generated
 * all-shapes entity plus files above the single-part size in two file sets — checked against BOTH
 * served spec sets (2023 hosted, minfx): the operation exists, required parameters are present,
 * query values and JSON bodies validate against the models. Issue 8 (a): those big files land byte
 * for byte (their multipart `part`/`finish` calls carry `subPath`).
 */
const SPECS = sharedPath('reference/neptune-served-swagger');
const MiB = 1024 * 1024;
let stack: Stack;
let proxy: NeptuneProxy;
let dir: string;
let exitCode: number | null = null;
let stderr = '';

function bigFile(name: string, seed: number, mib: number) {
  return streamFile(name, function* () {
    for (let c = 0; c < mib * 16; c++) {
      const b = Buffer.alloc(65536);
      for (let i = 0; i < b.length; i += 4) b.writeUInt32LE((seed * 2654435761 + c * 65536 + i) >>> 0, i);
      yield b;
    }
  });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'w2n-spec-'));
  const entity = generateEntity({ seed: 11, preset: 'all-shapes', entity: 'spec-team' });
  const run = entity.projects[0].runs.find((r) => r.files.length > 0) ?? entity.projects[0].runs[0];
  run.files.push(bigFile('checkpoints/big-model.ckpt', 1, 6), bigFile('outputs/big-table.bin', 2, 6));
  // Small chunks so each big file takes several parts.
  stack = await startStack({ entity, workDir: join(dir, 'export'), neptune: { limits: { minChunkSize: 2 * MiB } } });
  proxy = await startNeptuneProxy(stack.neptune);
  // The rarer paths send requests too: a write the server refuses for one point (read back, re-sent
  // point by point), a write whose answer is lost (state read back), a second pass with a lost ledger
  // (artifact file sets listed, existing project and runs).
  let writes = 0;
  proxy.decide = (r) => {
    if (!r.path.endsWith('/attributes/operations') || !r.body.includes('"logFloats"')) return { kind: 'forward' };
    writes++;
    if (writes === 1) {
      const ops = JSON.parse(r.body.toString('utf8')) as Array<{ logFloats?: { entries: Array<{ timestampMilliseconds: number }> } }>;
      ops.find((op) => op.logFloats)!.logFloats!.entries[0].timestampMilliseconds = 1.5;
      return { kind: 'forward', body: Buffer.from(JSON.stringify(ops)) };
    }
    return writes === 2 ? { kind: 'drop-response' } : { kind: 'forward' };
  };
  const env = { ...stack.env, NEPTUNE_API_TOKEN: proxy.apiToken() };
  const args = (ledger: string) => ['migrate', '--workspace', 'demo', '--projects', 'all', '--include', 'artifacts', '--yes', '--json', '--ledger', join(dir, ledger)];
  const first = await runCli(args('ledger.sqlite'), env, dir).done;
  proxy.decide = undefined;
  const second = await runCli(args('lost-ledger.sqlite'), env, dir).done;
  exitCode = first.code === 0 ? second.code : first.code;
  stderr = first.stderr + second.stderr;
}, 240_000);

afterAll(async () => {
  await proxy?.close();
  await stack?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('every request the product sends conforms to the served specs', () => {
  it('the migration completes, and again with a lost ledger', () => {
    expect(exitCode, stderr).toBe(0);
  });

  it('files above the single-part size land byte for byte, through start/part/finish', () => {
    const project = stack.entity.projects[0];
    const run = project.runs.find((r) => r.files.some((f) => f.name === 'checkpoints/big-model.ckpt'))!;
    const id = neptuneRunId(stack.neptune, `demo/${project.name.replace(/_/g, '-')}`, run.id)!;
    const ckpt = run.files.find((f) => f.name === 'checkpoints/big-model.ckpt')!;
    const out = run.files.find((f) => f.name === 'outputs/big-table.bin')!;
    expect(stack.neptune.inspect.fileSet(id, 'checkpoints')['checkpoints/big-model.ckpt']?.equals(fileBytes(ckpt))).toBe(true);
    expect(stack.neptune.inspect.fileSet(id, 'files')['outputs/big-table.bin']?.equals(fileBytes(out))).toBe(true);
    const parts = proxy.recorded.filter((r) => r.path.endsWith('/fileset/upload/part'));
    expect(parts.length).toBeGreaterThanOrEqual(6);
  });

  for (const set of ['2023', 'minfx']) {
    it(`against the ${set} specs: operations exist, required parameters present, bodies valid`, () => {
      const specs = loadSpecSet(join(SPECS, set), set);
      // The Keycloak token endpoint is OAuth, not part of the Neptune API specs.
      const api = proxy.recorded.filter((r) => !r.path.startsWith('/auth/'));
      const paths = new Set(api.map((r) => `${r.method} ${r.path}`));
      for (const kind of ['POST /api/backend/v1/projects', 'POST /api/leaderboard/v1/experiments', 'GET /api/leaderboard/v1/attributes/ls', 'GET /api/leaderboard/v1/attributes/series/float', 'POST /api/leaderboard/v1/attributes/storage/fileset/upload/finish', 'POST /api/leaderboard/v1/attributes/uploadFileSetTar']) {
        expect(paths, kind).toContain(kind);
      }
      const problems = [...new Set(api.flatMap((r) => checkRequest(specs, r)))];
      expect(problems).toEqual([]);
    });
  }
});
