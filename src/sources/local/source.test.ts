/** createLocalSource over synthetic run folders built with the test log writer. */
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SourceNotice } from '../../core/records.ts';
import { createLocalSource } from './source.ts';
import { dumpOne, dumpRuns } from './sample-helpers.ts';
import { encodeLog, rec } from './wandb-log/test-log-writer.ts';

let root: string;
const T0 = 1_700_000_000;

async function runFolder(parent: string, name: string, runId: string, records: Uint8Array[], files: Record<string, string> = {}): Promise<string> {
  const dir = join(parent, name);
  await mkdir(join(dir, 'files'), { recursive: true });
  await writeFile(join(dir, `run-${runId}.wandb`), encodeLog(records).bytes);
  for (const [n, content] of Object.entries(files)) {
    await mkdir(join(dir, 'files', n, '..'), { recursive: true });
    await writeFile(join(dir, 'files', n), content);
  }
  return dir;
}

const j = (v: unknown): string => JSON.stringify(v);

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'w2n-local-'));
  const wandb = join(root, 'proj', 'wandb');
  await mkdir(wandb, { recursive: true });
  // A core-style run: nested_key items, media flattened to leaves, summary per step, split stats.
  const main = await runFolder(wandb, 'run-20231114_221320-abc-12_x', 'abc-12_x', [
    rec.header('0.19.8+deadbeef'),
    rec.run({ runId: 'abc-12_x', entity: 'team', project: 'vision', displayName: 'bright-run', tags: ['a', 'b'], startTime: T0, host: 'box', notes: 'hello',
      config: [{ key: 'lr', value: '0.1' }, { key: '_wandb', value: '{}' }] }),
    rec.config([{ key: 'epochs', value: '3' }, { nestedKey: ['opt', 'beta'], value: '0.9' }]),
    rec.config([{ key: 'lr', value: '0.01' }], [{ key: 'epochs', value: '' }]),
    rec.history([{ nestedKey: ['train/loss'], value: '1.5' }, { nestedKey: ['_step'], value: '0' }, { nestedKey: ['_timestamp'], value: `${T0 + 1}` },
      { nestedKey: ['img', '_type'], value: '"image-file"' }, { nestedKey: ['img', 'path'], value: '"media/images/img_0_x.png"' }], 0),
    rec.summary([{ nestedKey: ['train/loss'], value: '1.5' }]),
    rec.output('Epoch 1:  10%|#\r'),
    rec.output('Epoch 1:  50%|#####\r'),
    rec.output('Epoch 1: 100%|##########\n'),
    rec.output('warn: x\n', 'stderr'),
    rec.stats(T0 + 15, [{ key: 'cpu', value: '12.5' }, { key: 'gpu.0.gpu', value: '90' }]),
    rec.stats(T0 + 15, [{ key: 'memory_percent', value: '40' }, { key: 'network', value: '{"sent": 1, "recv": 2}' }]),
    rec.stats(T0 + 30, [{ key: 'cpu', value: 'NaN' }]),
    rec.history([{ nestedKey: ['train/loss'], value: 'NaN' }, { nestedKey: ['_step'], value: '1' }], 1),
    rec.history([{ nestedKey: ['train/loss'], value: '9' }, { nestedKey: ['_step'], value: '1' }], 1), // duplicate step: dropped
    rec.history([{ nestedKey: ['train/loss'], value: 'Infinity' }, { nestedKey: ['_step'], value: '5' }], 5),
    rec.summary([{ nestedKey: ['train/loss'], value: '0.5' }, { nestedKey: ['_wandb', 'runtime'], value: '12' }]),
    rec.output('no newline at end'),
    rec.exit(0, 12),
  ], { 'output.log': 'ignored: the log has console records\n', 'media/images/img_0_x.png': 'PNG', 'wandb-summary.json': '{"train/loss": 0.5}' });
  await symlink('/nonexistent/file/on/origin/machine', join(main, 'files', 'saved.txt'));
  await symlink(main, join(wandb, 'latest-run')); // must not list the run twice
  // A second, unfinished run with an intact log in another project of the default entity.
  await runFolder(wandb, 'offline-run-20231115_000000-run2', 'run2', [
    rec.run({ runId: 'run2', startTime: T0 + 86400 }),
    rec.telemetry('0.17.0'),
    rec.history([{ key: 'acc', value: '0.5' }, { key: '_step', value: '0' }], 0),
  ]);
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('createLocalSource', () => {
  it('lists projects and runs found under a project root, with identity from the run record or the defaults', async () => {
    const notices: SourceNotice[] = [];
    const src = createLocalSource({ path: join(root, 'proj'), project: 'fallback', onNotice: (n) => notices.push(n) });
    expect(src.kind).toBe('wandb-local');
    const projects = [];
    for await (const p of src.listProjects()) projects.push(p);
    expect(projects.map((p) => [p.entity, p.name]).sort()).toEqual([['local', 'fallback'], ['team', 'vision']]);
    expect(await src.entity()).toBe('team');
    const runs = [];
    for await (const r of src.listRuns('vision', {})) runs.push(r);
    expect(runs.map((r) => r.key)).toEqual([{ entity: 'team', project: 'vision', runId: 'abc-12_x' }]);
    const r = runs[0];
    expect(r).toMatchObject({
      displayName: 'bright-run', tags: ['a', 'b'], notes: 'hello', host: 'box', state: 'finished',
      createdAt: new Date(T0 * 1000).toISOString(), historyLineCount: 3, lastStep: 5,
    });
    expect(r.config).toEqual({ lr: 0.01, _wandb: {}, opt: { beta: 0.9 } }); // run config, then updates and removes in order
    expect(r.summary).toEqual({ 'train/loss': 0.5, _wandb: { runtime: 12 } });
    expect(r.extra).toMatchObject({ sdkVersion: '0.19.8', writer: 'wandb-core', exitCode: 0, runtime: 12 });
    expect(notices.find((n) => n.stream === 'history' && n.kind === 'skipped')?.count).toBe(1);
  });

  it('streams history in step order with nesting rebuilt, NaN/Infinity decoded, fromStep honoured', async () => {
    const d = (await dumpRuns(join(root, 'proj'), {})).find((x) => x.info.key.runId === 'abc-12_x')!;
    expect(d.rows.map((r) => r.step)).toEqual([0, 1, 5]);
    expect(d.rows[0]).toEqual({ step: 0, timestamp: T0 + 1, values: { 'train/loss': 1.5, img: { _type: 'image-file', path: 'media/images/img_0_x.png' } } });
    expect(Number.isNaN(d.rows[1].values['train/loss'])).toBe(true);
    expect(d.rows[2].values['train/loss']).toBe(Infinity);
    const from = [];
    for await (const r of d.source.history(d.info, { fromStep: 1 })) from.push(r.step);
    expect(from).toEqual([1, 5]);
  });

  it('assembles console lines with \\r handling and numbers them densely; fromLine skips', async () => {
    const d = (await dumpRuns(join(root, 'proj'), {})).find((x) => x.info.key.runId === 'abc-12_x')!;
    expect(d.lines.map((l) => [l.index, l.stream, l.text])).toEqual([
      [0, 'stdout', 'Epoch 1: 100%|##########'],
      [1, 'stderr', 'warn: x'],
      [2, 'stdout', 'no newline at end'],
    ]);
    expect(d.lines[0].timestamp).toBeCloseTo(1700000000.5, 3);
    const from = [];
    for await (const l of d.source.console(d.info, { fromLine: 2 })) from.push(l.index);
    expect(from).toEqual([2]);
  });

  it('merges stats records sharing a timestamp into one system sample with system.-prefixed keys', async () => {
    const d = (await dumpRuns(join(root, 'proj'), {})).find((x) => x.info.key.runId === 'abc-12_x')!;
    const sm = await d.source.systemMetrics(d.info);
    expect(sm.sampled).toBe(false);
    expect(sm.totalAvailable).toBe(2);
    expect(d.samples).toHaveLength(2);
    expect(d.samples[0]).toEqual({
      timestamp: T0 + 15, runtime: 15,
      values: { 'system.cpu': 12.5, 'system.gpu.0.gpu': 90, 'system.memory_percent': 40, 'system.network.sent': 1, 'system.network.recv': 2 },
    });
    expect(Number.isNaN(d.samples[1].values['system.cpu'])).toBe(true);
  });

  it('lists files under files/ with md5, reports a dangling symlink, and fetches real paths', async () => {
    const notices: SourceNotice[] = [];
    const src = createLocalSource({ path: join(root, 'proj', 'wandb'), onNotice: (n) => notices.push(n) });
    let info;
    for await (const r of src.listRuns('vision', {})) info = r;
    const files = [];
    for await (const f of src.files(info!)) files.push(f);
    expect(files.map((f) => f.name)).toEqual(['media/images/img_0_x.png', 'output.log', 'wandb-summary.json']);
    expect(files[0]).toMatchObject({ sizeBytes: 3, md5: createHash('md5').update('PNG').digest('base64') });
    expect(notices.some((n) => n.stream === 'files' && n.kind === 'skipped' && n.message.includes('saved.txt'))).toBe(true);
    const local = await src.fetchFile(info!, files[0]);
    expect(local.path).toBe(join(root, 'proj', 'wandb', 'run-20231114_221320-abc-12_x', 'files', 'media', 'images', 'img_0_x.png'));
    expect(local.sizeBytes).toBe(3);
    await expect(src.fetchFile(info!, { name: '../run-abc-12_x.wandb', sizeBytes: 1 })).rejects.toThrow(/not on disk/);
    await expect(src.fetchFile(info!, { ...files[0], sizeBytes: 99 })).rejects.toThrow(/changed on disk/);
  });

  it('an unfinished run with an intact log is running; filters narrow runs', async () => {
    const src = createLocalSource({ path: join(root, 'proj', 'wandb'), entity: 'me', project: 'p' });
    const list = async (project: string, filter: object): Promise<string[]> => {
      const ids: string[] = [];
      for await (const r of src.listRuns(project, filter)) ids.push(r.key.runId);
      return ids;
    };
    const all = [];
    for await (const r of src.listRuns('p', {})) all.push(r);
    expect(all).toHaveLength(1);
    expect(all[0]).toMatchObject({ key: { entity: 'me', project: 'p', runId: 'run2' }, state: 'running', displayName: 'run2' });
    expect(all[0].extra).toMatchObject({ sdkVersion: '0.17.0', offline: true });
    expect(await list('vision', { states: ['finished'] })).toEqual(['abc-12_x']);
    expect(await list('vision', { states: ['running'] })).toEqual([]);
    expect(await list('vision', { tags: ['b', 'zzz'] })).toEqual(['abc-12_x']);
    expect(await list('vision', { tags: ['zzz'] })).toEqual([]);
    expect(await list('vision', { runIds: ['nope'] })).toEqual([]);
    expect(await list('vision', { createdAfter: new Date(T0 * 1000 + 1).toISOString() })).toEqual([]);
    expect(await list('p', { createdAfter: new Date(T0 * 1000).toISOString(), createdBefore: '2100-01-01T00:00:00Z' })).toEqual(['run2']);
  });

  it('folders sharing a run id (a resume) form one run: history and console continue across them', async () => {
    const parent = join(root, 'resumed');
    await mkdir(parent);
    await runFolder(parent, 'run-20240101_000000-rr', 'rr', [
      rec.run({ runId: 'rr', project: 'p', startTime: T0 }),
      rec.history([{ key: 'x', value: '1' }], 0),
      rec.history([{ key: 'x', value: '2' }], 1),
      rec.output('first\n'),
      rec.exit(1),
    ]);
    await runFolder(parent, 'run-20240102_000000-rr', 'rr', [
      rec.run({ runId: 'rr', project: 'p', startTime: T0 + 100, displayName: 'renamed' }),
      rec.history([{ key: 'x', value: '3' }], 2),
      rec.output('second\n'),
      rec.exit(0),
    ]);
    const d = await dumpOne(parent);
    expect(d.rows.map((r) => [r.step, r.values['x']])).toEqual([[0, 1], [1, 2], [2, 3]]);
    expect(d.lines.map((l) => [l.index, l.text])).toEqual([[0, 'first'], [1, 'second']]);
    expect(d.info).toMatchObject({ state: 'finished', displayName: 'renamed', historyLineCount: 3, lastStep: 2, createdAt: new Date(T0 * 1000).toISOString() });
  });

  it('a run folder with a damaged log: intact records kept, damage noticed, state crashed', async () => {
    const parent = join(root, 'damaged');
    await mkdir(parent);
    const records = [rec.run({ runId: 'dd', startTime: T0 }), ...Array.from({ length: 20 }, (_, i) => rec.history([{ key: 'x', value: `${i}` }], i))];
    const { bytes, offsets } = encodeLog(records);
    const dir = join(parent, 'run-20240101_000000-dd');
    await mkdir(dir);
    await writeFile(join(dir, 'run-dd.wandb'), bytes.subarray(0, offsets[15] + 10)); // cut inside record 15
    const d = await dumpOne(parent);
    expect(d.rows.map((r) => r.step)).toEqual(Array.from({ length: 14 }, (_, i) => i));
    expect(d.info.state).toBe('crashed');
    expect(d.notices.filter((n) => n.stream === 'log' && n.kind === 'damaged')).toEqual([
      expect.objectContaining({ run: { entity: 'local', project: 'uncategorized', runId: 'dd' }, count: 1 }),
    ]);
  });
});
