import { describe, expect, it } from 'vitest';
import type { RunInfo } from '../core/records.ts';
import { mapConsoleLine } from './console.ts';
import { placeFile, placeFiles } from './files.ts';
import { mapHistoryRow } from './history.ts';
import { defaultMappingOptions, type MappingOptions } from './options.ts';
import { neptuneProjectName, parseProjectMap, planProjectNames } from './project-name.ts';
import { mapMigrationFields, mapProjectFields, mapRunFields, projectDescription } from './run-fields.ts';
import { neptuneCustomRunId } from './run-id.ts';
import { SeriesPathPlanner } from './series-paths.ts';
import { mapSystemSample, monitoringPath, SeriesStepGuard, systemStep } from './system.ts';
import { toAtom } from './values.ts';

const run: RunInfo = {
  key: { entity: 'ent', project: 'my_project', runId: 'abc123' },
  displayName: 'brave-sun-1',
  notes: 'first try',
  tags: ['baseline', 'ü-tag'],
  group: 'sweep-a',
  jobType: 'train',
  state: 'finished',
  createdAt: '2024-03-01T10:00:00',
  heartbeatAt: '2024-03-01T11:00:00Z',
  url: 'https://wandb.ai/ent/my_project/runs/abc123',
  config: { lr: 0.1, epochs: 10, big: 2 ** 40, huge: 2n ** 60n + 1n, exact: 2n ** 60n, e308: 1e308, opt: { name: 'adam', betas: [0.9, 0.99] }, none: null, _wandb: { x: 1 } },
  summary: { acc: 0.9, _runtime: 12, img: { _type: 'image-file', path: 'x.png' } },
};

const fieldsOf = (r: RunInfo, o: MappingOptions = defaultMappingOptions) =>
  Object.fromEntries(mapRunFields(r, o).fields.map((f) => [f.path, f.value]));

describe('mapping.md — Projects', () => {
  it('row "project name": _ becomes -, other invalid characters too, deterministically', () => {
    expect(neptuneProjectName('my_project')).toBe('my-project');
    expect(neptuneProjectName('a b/c_d')).toBe('a-b-c-d');
    expect(neptuneProjectName('my_project')).toBe(neptuneProjectName('my_project'));
  });
  it('row "project name": two W&B projects mapping to one name are an error unless mapped explicitly', () => {
    expect(() => planProjectNames(['a_b', 'a-b'])).toThrow(/would all map to Neptune project "a-b"/);
    const plan = planProjectNames(['a_b', 'a-b'], parseProjectMap('a_b=ab-one'));
    expect(plan.get('a_b')).toBe('ab-one');
    expect(plan.get('a-b')).toBe('a-b');
  });
  it('rows "project URL" and "project missing": wandb_url field and description', () => {
    const p = { entity: 'e', name: 'p', url: 'https://wandb.ai/e/p' };
    expect(mapProjectFields(p)).toEqual([{ path: 'wandb_url', value: { type: 'string', value: 'https://wandb.ai/e/p' } }]);
    expect(projectDescription(p)).toBe('Exported from https://wandb.ai/e/p');
  });
});

describe('mapping.md — Runs', () => {
  const f = fieldsOf(run);
  it('row run.id: the custom run id; a user id longer than Neptune keeps is shortened deterministically', () => {
    expect(neptuneCustomRunId('abc123xy')).toBe('abc123xy');
    const long = 'experiment-2024-05-01-resnet50-imagenet-seed-1234';
    const id = neptuneCustomRunId(long);
    expect(id).toHaveLength(36);
    expect(id).toBe(neptuneCustomRunId(long));
    expect(id).not.toBe(neptuneCustomRunId(`${long}5`));
    expect(id.startsWith('experiment-2024-05-01-r')).toBe(true);
  });
  it('rows run.name, notes, tags, group', () => {
    expect(f['sys/name']).toEqual({ type: 'string', value: 'brave-sun-1' });
    expect(f['sys/description']).toEqual({ type: 'string', value: 'first try' });
    expect(f['sys/tags']).toEqual({ type: 'stringSet', values: ['baseline', 'ü-tag'] });
    expect(f['sys/group_tags']).toEqual({ type: 'stringSet', values: ['sweep-a'] });
  });
  it('row run.config: unwrapped, nested dicts namespaces, types kept, int beyond int32 → float or string, lists/null → JSON', () => {
    expect(f['config/lr']).toEqual({ type: 'float', value: 0.1 });
    expect(f['config/epochs']).toEqual({ type: 'int', value: 10 });
    expect(f['config/big']).toEqual({ type: 'float', value: 2 ** 40 });
    expect(f['config/huge']).toEqual({ type: 'string', value: '1152921504606846977' });
    expect(f['config/exact']).toEqual({ type: 'float', value: 2 ** 60 });
    expect(f['config/e308']).toEqual({ type: 'float', value: 1e308 });
    expect(f['config/opt/name']).toEqual({ type: 'string', value: 'adam' });
    expect(f['config/opt/betas']).toEqual({ type: 'string', value: '[0.9,0.99]' });
    expect(f['config/none']).toEqual({ type: 'string', value: 'null' });
    expect(f['config/_wandb/x']).toBeUndefined();
  });
  it('rows job_type, path, url, created_at and other attributes under wandb/', () => {
    expect(f['wandb/job_type']).toEqual({ type: 'string', value: 'train' });
    expect(f['wandb/path']).toEqual({ type: 'string', value: 'ent/my_project/abc123' });
    expect(f['wandb/url']).toEqual({ type: 'string', value: run.url });
    expect(f['wandb/created_at']).toEqual({ type: 'datetime', value: Date.parse('2024-03-01T10:00:00Z') });
    expect(f['wandb/state']).toEqual({ type: 'string', value: 'finished' });
  });
  it('row run.summary: same value rules; _ keys left out by default and counted; media are no atoms (media.ts carries them)', () => {
    const mapped = mapRunFields(run, defaultMappingOptions);
    expect(f['summary/acc']).toEqual({ type: 'float', value: 0.9 });
    expect(f['summary/_runtime']).toBeUndefined();
    expect(f['summary/img']).toBeUndefined();
    expect(mapped.omissions.map((o) => o.subject)).toEqual(expect.arrayContaining(['summary/_runtime', 'config/_wandb']));
    expect(mapped.omissions.map((o) => o.subject)).not.toContain('summary/img');
    const withInternal = fieldsOf(run, { include: new Set(['internal']) });
    expect(withInternal['summary/_runtime']).toEqual({ type: 'int', value: 12 });
  });
  it('row migration bookkeeping: completed_at written as a datetime', () => {
    const m = mapMigrationFields({ toolVersion: '0.1.0', fingerprint: 'abc', completedAtMs: 5 });
    expect(m.at(-1)).toEqual({ path: 'wandb/migration/completed_at', value: { type: 'datetime', value: 5 } });
  });
  it('NaN and Infinity atoms become their JSON text', () => {
    expect(toAtom(Number.NaN)).toEqual({ type: 'string', value: 'NaN' });
    expect(toAtom(-Infinity)).toEqual({ type: 'string', value: '-Infinity' });
  });
});

describe('mapping.md — Series', () => {
  it('row "every history key": float series, step = _step, timestamp s → ms, _ keys left out', () => {
    const planner = new SeriesPathPlanner();
    const out = mapHistoryRow({ step: 7, timestamp: 1700000000.5, values: { loss: 0.5, _runtime: 3, 'train/acc': 1 } }, planner, defaultMappingOptions, 0);
    expect(out.floats).toEqual([
      { path: 'loss', point: { step: 7, timestampMs: 1700000000500, value: 0.5 } },
      { path: 'train/acc', point: { step: 7, timestampMs: 1700000000500, value: 1 } },
    ]);
  });
  it('row "strings": string series', () => {
    const out = mapHistoryRow({ step: 1, timestamp: 1, values: { phase: 'warmup' } }, new SeriesPathPlanner(), defaultMappingOptions, 0);
    expect(out.strings).toEqual([{ path: 'phase', point: { step: 1, timestampMs: 1000, value: 'warmup' } }]);
  });
  it('row "NaN / ±Infinity": dropped under A and counted', () => {
    const out = mapHistoryRow({ step: 1, values: { a: Number.NaN, b: Infinity, c: -Infinity } }, new SeriesPathPlanner(), defaultMappingOptions, 0);
    expect(out.floats).toEqual([]);
    expect(out.omissions.map((o) => [o.reason, o.subject])).toEqual([['non-finite', 'a'], ['non-finite', 'b'], ['non-finite', 'c']]);
  });
  it('row "history media": a value naming no file is a line naming the key; --exclude media leaves them out by key', () => {
    const row = { step: 1, values: { img: { _type: 'image-file' }, img2: { _type: 'image-file' }, h: { _type: 'histogram' } } };
    const out = mapHistoryRow(row, new SeriesPathPlanner(), defaultMappingOptions, 0);
    expect(out.omissions.map((o) => [o.reason, o.subject])).toEqual([['unsupported-value', 'img'], ['unsupported-value', 'img2'], ['unsupported-value', 'h']]);
    const off = mapHistoryRow(row, new SeriesPathPlanner(), { include: new Set(), exclude: new Set(['media', 'histograms']) }, 0);
    expect(off.omissions.map((o) => [o.reason, o.subject, o.detail])).toEqual([
      ['excluded-by-default', 'img', 'image-file value (--exclude media)'],
      ['excluded-by-default', 'img2', 'image-file value (--exclude media)'],
      ['excluded-by-default', 'h', 'histogram value (--exclude histograms)'],
    ]);
  });
  it('row "system metrics": monitoring/<key without system.>, deterministic steps', () => {
    expect(monitoringPath('system.gpu.0.gpu')).toBe('monitoring/gpu.0.gpu');
    const s = { timestamp: 100.25, runtime: 5.5, values: { 'system.cpu': 12, 'system.bad': Number.NaN } };
    expect(systemStep(s, 90)).toBe(5.5);
    expect(systemStep({ timestamp: 100.25, values: {} }, 90)).toBe(10.25);
    expect(mapSystemSample(s, 5.5)).toEqual({ points: [{ path: 'monitoring/cpu', point: { step: 5.5, timestampMs: 100250, value: 12 } }], nonFinite: 1, unsupported: [] });
    // A value that is not a number has no series: it is handed back by monitoring path, for a report line.
    expect(mapSystemSample({ ...s, unsupported: { 'system.gpu.0.name': '"T4"' } }, 5.5).unsupported).toEqual([{ path: 'monitoring/gpu.0.name', value: '"T4"' }]);
  });
  it('row "system metrics": steps increase per series, not across series', () => {
    const guard = new SeriesStepGuard();
    const pt = (path: string, step: number) => ({ path, point: { step, timestampMs: 0, value: 1 } });
    expect(guard.accept([pt('monitoring/cpu', 15), pt('monitoring/gpu', 15)]).kept).toHaveLength(2);
    expect(guard.accept([pt('monitoring/mem', 14.999)]).kept).toEqual([pt('monitoring/mem', 14.999)]);
    const back = guard.accept([pt('monitoring/cpu', 15), pt('monitoring/mem', 30)]);
    expect(back.kept).toEqual([pt('monitoring/mem', 30)]);
    expect([...back.backward]).toEqual([['monitoring/cpu', 1]]);
  });
  it('row "output.log": step = line number; long lines split, never truncated', () => {
    const long = 'x'.repeat(2500);
    const pts = mapConsoleLine({ index: 4, text: long }, 0).points;
    expect(pts.map((p) => p.value).join('')).toBe(long);
    expect(pts.map((p) => p.step)).toEqual([4, 4 + 1 / 3, 4 + 2 / 3]);
    expect(pts.every((p) => p.value.length <= 1000)).toBe(true);
  });
  it('row "output.log": a line is what the terminal showed; overwritten states counted, or kept with --include console-raw', () => {
    const line = { index: 2, text: 'XYcdef', overwritten: ['abcdef'], timestamp: 1.5 };
    expect(mapConsoleLine(line, 0)).toEqual({
      points: [{ step: 2, timestampMs: 1500, value: 'XYcdef' }],
      omission: { reason: 'console-overwritten', subject: 'monitoring/stdout', count: 1, detail: expect.stringContaining('console-raw') },
    });
    const raw = mapConsoleLine({ ...line, overwritten: ['ab', 'x'.repeat(1500)] }, 0, { include: new Set(['console-raw']) });
    expect(raw.omission).toBeUndefined();
    expect(raw.points.map((p) => [p.step, p.value.length])).toEqual([[2, 2], [2.25, 1000], [2.5, 500], [2.75, 6]]);
  });
  it('collisions with a key namespace or a reserved namespace are renamed deterministically and listed', () => {
    const planner = new SeriesPathPlanner();
    expect(planner.assign('loss', 'float').path).toBe('loss');
    expect(planner.assign('loss/val', 'float').path).toBe('loss_/val');
    expect(planner.assign('config/lr', 'float').path).toBe('config_/lr');
    expect(planner.assign('a/b', 'float').path).toBe('a/b');
    expect(planner.assign('a', 'float').path).toBe('a_');
    expect(planner.renames.map((r) => r.key)).toEqual(['loss/val', 'config/lr', 'a']);
    // A resumed planner, seeded with what was assigned, maps every key the same way.
    const resumed = new SeriesPathPlanner(planner.added);
    expect(resumed.assign('loss/val', 'float').path).toBe('loss_/val');
  });
});

describe('mapping.md — Files', () => {
  const place = (name: string, sizeBytes = 10, include: MappingOptions = defaultMappingOptions) => placeFile({ name, sizeBytes }, include);
  it('code/ and requirements.txt → source_code/files', () => {
    expect(place('code/_session_history.ipynb')).toEqual({ kind: 'upload', target: 'source_code/files', relativePath: 'code/_session_history.ipynb' });
    expect(place('requirements.txt')).toMatchObject({ target: 'source_code/files' });
  });
  it('names containing ckpt or checkpoint → checkpoints', () => {
    expect(place('model.ckpt')).toMatchObject({ target: 'checkpoints' });
    expect(place('checkpoints/epoch1.pt')).toMatchObject({ target: 'checkpoints' });
  });
  it('every other file → files; zero-byte files skipped', () => {
    expect(place('output.log')).toMatchObject({ target: 'files' });
    expect(place('empty.txt', 0)).toMatchObject({ kind: 'skip', reason: 'empty-file' });
  });
  it('names that normalise to one path in one set are made distinct, the same whatever the listing order', () => {
    const names = ['/tmp/a.txt', 'tmp/a.txt', 'tmp\\a.txt', 'tmp/a_.txt', 'code/x.py', 'code\\x.py', '.env', '/.env'];
    const paths = (order: string[]) => Object.fromEntries([...placeFiles(order.map((name) => ({ name, sizeBytes: 1 })), defaultMappingOptions)]
      .map(([n, p]) => [n, p.kind === 'upload' ? `${p.target}:${p.relativePath}` : p.kind]));
    const want = {
      'tmp/a.txt': 'files:tmp/a.txt', 'tmp/a_.txt': 'files:tmp/a_.txt', '/tmp/a.txt': 'files:tmp/a__.txt', 'tmp\\a.txt': 'files:tmp/a___.txt',
      'code/x.py': 'source_code/files:code/x.py', 'code\\x.py': 'source_code/files:code/x_.py', '.env': 'files:.env', '/.env': 'files:.env_',
    };
    expect(paths(names)).toEqual(want);
    expect(paths([...names].reverse())).toEqual(want);
    expect(placeFiles([{ name: 'b\\c', sizeBytes: 1 }, { name: '/b/c', sizeBytes: 1 }], defaultMappingOptions).get('b\\c')).toEqual({
      kind: 'upload', target: 'files', relativePath: 'b/c_', renamed: '"\\" read as a folder separator; b/c is the path of W&B file /b/c',
    });
  });
  it('names that are not a clean relative path are renamed (with the reason) or, with "..", not placed', () => {
    expect(place('back\\slash.txt')).toEqual({ kind: 'upload', target: 'files', relativePath: 'back/slash.txt', renamed: '"\\" read as a folder separator' });
    expect(place('/tmp/X.txt')).toMatchObject({ relativePath: 'tmp/X.txt', renamed: 'leading "/" dropped (a file saved by absolute path)' });
    expect(place('//double.txt')).toMatchObject({ relativePath: 'double.txt', renamed: expect.stringMatching(/^leading "\/" dropped.*; empty and "\." segments dropped$/) });
    expect(place('code/./a.py')).toMatchObject({ target: 'source_code/files', relativePath: 'code/a.py', renamed: 'empty and "." segments dropped' });
    expect(place('plain.txt')).toEqual({ kind: 'upload', target: 'files', relativePath: 'plain.txt' });
    for (const n of ['../x.txt', 'a/../../x', '..\\x']) expect(place(n)).toMatchObject({ kind: 'skip', reason: 'invalid-path', detail: expect.stringContaining('..') });
  });
  it('left out by default: media/ (--include media-files, or its old name media), artifact/, config.yaml, wandb-* — each with its switch', () => {
    for (const n of ['media/images/a.png', 'artifact/x', 'config.yaml', 'wandb-summary.json', 'wandb-metadata.json']) {
      expect(place(n)).toMatchObject({ kind: 'skip', reason: 'excluded-by-default' });
    }
    expect(place('media/images/a.png', 10, { include: new Set(['media']) })).toMatchObject({ kind: 'upload', target: 'files' });
    expect(place('media/images/a.png', 10, { include: new Set(['media-files']) })).toMatchObject({ kind: 'upload', target: 'files' });
    expect(place('config.yaml', 10, { include: new Set(['wandb-files']) })).toMatchObject({ kind: 'upload', target: 'files' });
  });
});
