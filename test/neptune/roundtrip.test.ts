import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TargetError } from '../../src/core/errors.ts';
import { points, rig, type Rig } from './helpers.ts';

let r: Rig;
beforeAll(async () => {
  r = await rig({ limits: { maxSinglePartSize: 64 * 1024, minChunkSize: 16 * 1024 } });
});
afterAll(() => r.close());

describe('Neptune writer round trip (emulator)', () => {
  it('creates the project once and writes project-level fields', async () => {
    const p = await r.client.ensureProject('demo', 'round-trip', { description: 'Exported from W&B' });
    expect(p.info.created).toBe(true);
    const again = await r.client.ensureProject('demo', 'round-trip');
    expect(again.info).toMatchObject({ id: p.info.id, created: false });
    expect(r.emu.inspect.projects().filter((x) => x.name === 'round-trip')).toMatchObject([{ visibility: 'priv', description: 'Exported from W&B' }]);
    p.assign('migration/source', { type: 'string', value: 'wandb://team/proj' });
    const res = await p.flush();
    expect(res.errors).toEqual([]);
    expect(r.emu.inspect.attributes(p.info.id)['migration/source']).toEqual({ type: 'string', value: 'wandb://team/proj' });
  });

  it('writes every value kind and reads it back identically', async () => {
    const p = await r.client.ensureProject('demo', 'round-trip');
    const run = await r.client.openRun(p, 'wandb-run-1');
    const atoms = {
      'config/name': { type: 'string', value: 'résumé ✓' },
      'config/epochs': { type: 'int', value: -2147483648 },
      'config/lr': { type: 'float', value: 0.000125 },
      'config/amp': { type: 'bool', value: true },
      'wandb/created_at': { type: 'datetime', value: 1_700_000_123_456 },
    } as const;
    for (const [path, value] of Object.entries(atoms)) expect(run.assign(path, value).accepted).toBe(1);
    run.assign('sys/tags', { type: 'stringSet', values: ['a', 'b'] });
    run.assign('sys/tags', { type: 'stringSet', values: ['b', 'c'] });
    run.assign('sys/group_tags', { type: 'stringSet', values: ['grp'] });
    const loss = points(1234);
    run.logFloats('train/loss', loss);
    const lines = Array.from({ length: 37 }, (_, i) => ({ step: i * 2, timestampMs: 1_700_000_000_000 + i, value: `line ${i} \u00e9 "quoted"` }));
    run.logStrings('monitoring/stdout', lines);
    const res = await run.flush();
    expect(res.errors).toEqual([]);
    expect(res.points).toBe(1234 + 37);

    const got = r.emu.inspect.attributes(run.info.id);
    for (const [path, v] of Object.entries(atoms)) expect(got[path]).toEqual({ type: v.type, value: v.value });
    expect(r.emu.inspect.stringSet(run.info.id, 'sys/tags').sort()).toEqual(['a', 'b', 'c']);
    expect(r.emu.inspect.stringSet(run.info.id, 'sys/group_tags')).toEqual(['grp']);
    expect(r.emu.inspect.floatSeries(run.info.id, 'train/loss')).toEqual(loss);
    expect(r.emu.inspect.stringSeries(run.info.id, 'monitoring/stdout')).toEqual(lines);
    expect(await run.flush()).toEqual({ requests: 0, operations: 0, points: 0, errors: [] });
  });

  it('uploads small and multipart files and a large file set', async () => {
    const p = await r.client.ensureProject('demo', 'round-trip');
    const run = await r.client.openRun(p, 'wandb-run-files');
    const small = Buffer.from('{"a": 1}\n');
    const big = Buffer.from(Array.from({ length: 200_000 }, (_, i) => (i * 7) % 256));
    expect(await run.uploadFile('files/config.json', r.file('config.json', small))).toMatchObject({ uploaded: true, errors: [] });
    expect(await run.uploadFile('checkpoints/model', r.file('model.bin', big))).toMatchObject({ uploaded: true, errors: [] });
    expect(r.emu.inspect.file(run.info.id, 'files/config.json')?.equals(small)).toBe(true);
    expect(r.emu.inspect.file(run.info.id, 'checkpoints/model')?.equals(big)).toBe(true);
    expect(r.emu.inspect.attributes(run.info.id)['checkpoints/model']).toMatchObject({ type: 'file' });

    const entries = Array.from({ length: 620 }, (_, i) => {
      const data = `file ${i}\n`.repeat(i % 5);
      return { localPath: r.file(`s${i}.py`, data), relativePath: `src/pkg${i % 7}/m${i}.py`, sizeBytes: Buffer.byteLength(data) };
    });
    entries.push({ localPath: r.file('alone.bin', big), relativePath: 'data/alone.bin', sizeBytes: big.length });
    const up = await run.uploadFileSet('source_code/files', entries);
    expect(up).toMatchObject({ uploaded: true, errors: [], omissions: [] });
    const set = r.emu.inspect.fileSet(run.info.id, 'source_code/files');
    expect(Object.keys(set)).toHaveLength(621);
    expect(set['src/pkg3/m10.py']?.toString()).toBe('file 10\n'.repeat(0));
    // Listing the set walks its directories and gives every entry with its size (used without a ledger).
    const listed = await run.listFileSet('source_code/files');
    expect(listed.size).toBe(621);
    for (const e of entries) expect(listed.get(e.relativePath), e.relativePath).toBe(e.sizeBytes);
    expect(set['src/pkg4/m4.py']?.toString()).toBe('file 4\n'.repeat(4));
    expect(set['data/alone.bin']?.equals(big)).toBe(true);
    const byEndpoint = r.emu.stats().byEndpoint;
    expect(byEndpoint.uploadFileSetAttributeTar).toBeGreaterThanOrEqual(2);
    expect(byEndpoint.fileAtomMultipartUploadPart).toBeGreaterThanOrEqual(2);
  });

  it('refuses rule violations before sending, with precise outcomes', async () => {
    const p = await r.client.ensureProject('demo', 'round-trip');
    const run = await r.client.openRun(p, 'wandb-run-rules');
    expect(run.assign('config/big', { type: 'int', value: 2 ** 31 }).omissions).toMatchObject([{ reason: 'int-out-of-range', subject: 'config/big' }]);
    expect(run.assign('sys/id', { type: 'string', value: 'X' }).omissions[0].reason).toBe('invalid-path');
    const out = run.logFloats('m', [
      { step: 1, timestampMs: 1, value: 1 },
      { step: 2, timestampMs: 2, value: NaN },
      { step: 2, timestampMs: 2, value: 2 },
      { step: 2, timestampMs: 3, value: 3 },
      { step: 1, timestampMs: 4, value: 4 },
    ]);
    expect(out.accepted).toBe(2);
    expect(out.omissions).toEqual([
      { reason: 'non-finite', subject: 'm', count: 1, detail: expect.any(String) },
      { reason: 'step-not-increasing', subject: 'm', count: 2, detail: expect.any(String) },
    ]);
    expect(run.logStrings('out', [{ step: 0, timestampMs: 0, value: 'x'.repeat(1001) }]).omissions[0].reason).toBe('too-large');
    expect(run.assign('m', { type: 'float', value: 1 }).omissions[0].detail).toMatch(/floatSeries/);
    expect((await run.flush()).errors).toEqual([]);
    await expect(r.client.openRun(p, 'x'.repeat(37))).rejects.toBeInstanceOf(TargetError);
  });

  it('counts existing fields toward the field cap', async () => {
    const small = await rig({}, { limits: { maxFieldsPerRun: 20 } });
    try {
      const p = await small.client.ensureProject('demo', 'cap');
      const run = await small.client.openRun(p, 'cap-run');
      const existing = run.fieldCount; // sys/* fields of a fresh run
      expect(existing).toBeGreaterThan(5);
      const outcomes = Array.from({ length: 25 }, (_, i) => run.assign(`f/${i}`, { type: 'int', value: i }));
      expect(outcomes.filter((o) => o.accepted === 1)).toHaveLength(20 - existing);
      expect(outcomes.at(-1)?.omissions[0]).toMatchObject({ reason: 'field-limit', subject: 'f/24' });
      expect((await run.flush()).errors).toEqual([]);
    } finally {
      await small.close();
    }
  });
});
