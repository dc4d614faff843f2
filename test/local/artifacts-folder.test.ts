/**
 * Issue 11: the artifact records of a run folder's `.wandb` log, through the CLI with
 * `--include artifacts`. What is on disk under the manifest's local paths (or the SDK's artifact cache)
 * is carried and checked against its MD5; every entry that is not on disk, or that changed since, is a
 * report line; reference entries are a report line with the manifest kept as a file; `use_artifact`
 * records become `artifacts/used`. Before, these records were neither written nor reported.
 */
import { BinaryWriter, WireType } from '@bufbuild/protobuf/wire';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNeptuneEmulator, type NeptuneEmulator } from '../../emulators/neptune/index.ts';
import { encodeLog, rec } from '../../src/sources/local/wandb-log/test-log-writer.ts';
import { events, runCli } from '../support/cli.ts';
import { findRuns } from './helpers.ts';

const T0 = 1_717_200_000;
const b64md5 = (b: Buffer | string) => createHash('md5').update(b).digest('base64');

interface Entry { path: string; bytes?: Buffer; localPath?: string; ref?: string; digest?: string; size?: number }

/** An `ArtifactRecord` (Record field 8; wandb_internal.proto, written out here independently of the reader). */
function artifactRecord(num: number, a: { name: string; type: string; digest: string; description?: string; metadata?: string; aliases: string[]; entries: Entry[] }): Uint8Array {
  const w = new BinaryWriter();
  w.tag(1, WireType.Varint).int64(num);
  w.tag(8, WireType.LengthDelimited).fork();
  w.tag(4, WireType.LengthDelimited).string(a.type);
  w.tag(5, WireType.LengthDelimited).string(a.name);
  w.tag(6, WireType.LengthDelimited).string(a.digest);
  if (a.description) w.tag(7, WireType.LengthDelimited).string(a.description);
  if (a.metadata) w.tag(8, WireType.LengthDelimited).string(a.metadata);
  for (const al of a.aliases) w.tag(11, WireType.LengthDelimited).string(al);
  w.tag(12, WireType.LengthDelimited).fork();
  w.tag(1, WireType.Varint).int32(1);
  w.tag(2, WireType.LengthDelimited).string('wandb-storage-policy-v1');
  for (const e of a.entries) {
    w.tag(4, WireType.LengthDelimited).fork();
    w.tag(1, WireType.LengthDelimited).string(e.path);
    w.tag(2, WireType.LengthDelimited).string(e.digest ?? b64md5(e.bytes!));
    if (e.ref) w.tag(3, WireType.LengthDelimited).string(e.ref);
    w.tag(4, WireType.Varint).int64(e.size ?? e.bytes!.length);
    if (e.localPath) w.tag(6, WireType.LengthDelimited).string(e.localPath);
    w.join();
  }
  w.join();
  w.join();
  return w.finish();
}

function useArtifactRecord(num: number, name: string, type: string): Uint8Array {
  const w = new BinaryWriter();
  w.tag(1, WireType.Varint).int64(num);
  w.tag(25, WireType.LengthDelimited).fork().tag(1, WireType.LengthDelimited).string('QXJ0aWZhY3Q6MQ==').tag(2, WireType.LengthDelimited).string(type)
    .tag(3, WireType.LengthDelimited).string(name).join();
  return w.finish();
}

let emu: NeptuneEmulator;
let tmp: string;
let report: { runs: Array<{ run: string; written: Record<string, number>; notWritten: Array<{ reason: string; subject: string; count: number; detail?: string }> }> };
let code: number | null;
const WEIGHTS = Buffer.from('weights '.repeat(500));
const CACHED = Buffer.from('from the artifact cache\n');
const DIGEST = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';
const BASE = `artifacts/model/local-${DIGEST.slice(0, 8)}`;

beforeAll(async () => {
  emu = await startNeptuneEmulator({ workspaces: ['demo'] });
  tmp = mkdtempSync(join(tmpdir(), 'w2n-local-artifacts-'));
  const staging = join(tmp, 'staging');
  mkdirSync(staging);
  writeFileSync(join(staging, 'weights.bin'), WEIGHTS);
  writeFileSync(join(staging, 'changed.txt'), 'not what was logged');
  // The SDK's artifact cache, keyed by the entry's MD5 (hex): cache/artifacts/obj/md5/<2>/<30>.
  const hex = createHash('md5').update(CACHED).digest('hex');
  mkdirSync(join(tmp, 'cache', 'artifacts', 'obj', 'md5', hex.slice(0, 2)), { recursive: true });
  writeFileSync(join(tmp, 'cache', 'artifacts', 'obj', 'md5', hex.slice(0, 2), hex.slice(2)), CACHED);
  const run = join(tmp, 'proj', 'wandb', 'offline-run-20240601_000000-artrun01');
  mkdirSync(join(run, 'files'), { recursive: true });
  writeFileSync(join(run, 'run-artrun01.wandb'), encodeLog([
    rec.header('0.19.8'), rec.run({ runId: 'artrun01', project: 'local-art', startTime: T0 }),
    useArtifactRecord(50, 'someone/local-art/training-data:v2', 'dataset'),
    artifactRecord(51, {
      name: 'model', type: 'model', digest: DIGEST, description: 'offline model', metadata: '{"epochs": 3}', aliases: ['latest', 'best'],
      entries: [
        { path: 'weights.bin', bytes: WEIGHTS, localPath: join(staging, 'weights.bin') },
        { path: 'cached.txt', bytes: CACHED, localPath: join(staging, 'gone-from-staging.txt') },
        { path: 'gone.txt', bytes: Buffer.from('gone'), localPath: join(staging, 'gone.txt') },
        { path: 'changed.txt', bytes: Buffer.from('what was logged'), localPath: join(staging, 'changed.txt') },
        { path: 'remote/data.csv', ref: 's3://bucket/data.csv', digest: '"etag"', size: 10 },
      ],
    }),
    rec.exit(0),
  ]).bytes);
  const out = await runCli(
    ['migrate', '--source', join(tmp, 'proj'), '--workspace', 'demo', '--projects', 'all', '--include', 'artifacts', '--yes', '--json', '--ledger', join(tmp, 'l.sqlite')],
    { NEPTUNE_API_TOKEN: emu.apiToken(), NEPTUNE_PROJECT: 'demo/placeholder', WANDB_CACHE_DIR: join(tmp, 'cache') },
    tmp,
  ).done;
  code = out.code;
  report = (events(out.stdout).find((e) => e.type === 'report') as unknown as { report: typeof report }).report;
}, 120_000);

afterAll(async () => {
  await emu?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('artifact records of a run folder (issue 11)', () => {
  it('carries the files on disk (staging path or artifact cache), byte for byte', () => {
    expect(code).toBe(0);
    const [r] = findRuns(emu, 'artrun01');
    expect(emu.inspect.fileSet(r.id, `${BASE}/files`)).toEqual({ 'weights.bin': WEIGHTS, 'cached.txt': CACHED });
    expect(report.runs[0].written.artifactFiles).toBe(2);
  });

  it('writes the version\'s fields and the used artifact', () => {
    const [r] = findRuns(emu, 'artrun01');
    const a = emu.inspect.attributes(r.id);
    expect([a[`${BASE}/type`]?.value, a[`${BASE}/digest`]?.value, a[`${BASE}/description`]?.value, a[`${BASE}/metadata`]?.value, a[`${BASE}/size`]?.value])
      .toEqual(['model', DIGEST, 'offline model', '{"epochs": 3}', WEIGHTS.length + CACHED.length + 4 + 15 + 10]);
    expect(emu.inspect.stringSet(r.id, `${BASE}/aliases`).sort()).toEqual(['best', 'latest']);
    expect(emu.inspect.stringSet(r.id, 'artifacts/used')).toEqual(['training-data:v2']);
  });

  it('every entry that is not carried is a report line: not on disk, changed since, references', () => {
    const lines = report.runs[0].notWritten.filter((o) => o.subject.startsWith('artifacts/')).map((o) => [o.reason, o.subject, o.count]);
    expect(lines.sort()).toEqual([
      ['download-failed', `${BASE}/files/changed.txt`, 1],
      ['download-failed', `${BASE}/files/gone.txt`, 1],
      ['unsupported-value', `${BASE}/references`, 1],
    ]);
    const detail = (s: string) => report.runs[0].notWritten.find((o) => o.subject.endsWith(s))?.detail;
    expect(detail('gone.txt')).toMatch(/not on disk/);
    expect(detail('changed.txt')).toMatch(/no longer matches/);
    const [r] = findRuns(emu, 'artrun01');
    expect(JSON.parse(emu.inspect.fileSet(r.id, `${BASE}/manifest`)['wandb_manifest.json'].toString()).contents['remote/data.csv']).toEqual({ digest: '"etag"', size: 10, ref: 's3://bucket/data.csv' });
  });
});
