/**
 * Operations the official 1.x client calls that the emulator used to answer 404: the runs table
 * (searchLeaderboardEntries / searchLeaderboardAttributes), file-set download (prepare → status →
 * download), deleteProject; and the attributes read without the `fields` key.
 */
import { inflateRawSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNeptuneEmulator } from './index.ts';
import type { NeptuneEmulator } from './types.ts';
import { call, session } from './test-client.ts';

let emu: NeptuneEmulator;
let s: Awaited<ReturnType<typeof session>>;
beforeAll(async () => {
  emu = await startNeptuneEmulator();
  s = await session(emu);
});
afterAll(async () => { await emu.close(); });

/** Reads a zip's entries through its central directory (the writer's own reader would prove nothing). */
function unzip(z: Buffer): Record<string, Buffer> {
  const end = z.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  const n = z.readUInt16LE(end + 10);
  let p = z.readUInt32LE(end + 16);
  const out: Record<string, Buffer> = {};
  for (let i = 0; i < n; i++) {
    const method = z.readUInt16LE(p + 10);
    const csize = z.readUInt32LE(p + 20);
    const nameLen = z.readUInt16LE(p + 28);
    const extra = z.readUInt16LE(p + 30) + z.readUInt16LE(p + 32);
    const local = z.readUInt32LE(p + 42);
    const name = z.subarray(p + 46, p + 46 + nameLen).toString('utf8');
    const dataAt = local + 30 + z.readUInt16LE(local + 26) + z.readUInt16LE(local + 28);
    const raw = z.subarray(dataAt, dataAt + csize);
    out[name] = method === 8 ? inflateRawSync(raw) : Buffer.from(raw);
    p += 46 + nameLen + extra;
  }
  return out;
}

describe('runs table', () => {
  it('entries search filters by NQL, sorts, pages, keeps only the asked columns; attribute search gives types', async () => {
    const p = await s.createProject('table');
    const ids: string[] = [];
    for (const [i, acc] of [[1, 0.5], [2, 0.9], [3, 0.7]] as const) {
      const r = await s.createRun(p.id, `run-${i}`);
      ids.push(r.id);
      await s.ops(r.id, [{ path: 'acc', assignFloat: { value: acc } }, { path: 'sys/tags', insertStrings: { values: i === 2 ? ['best'] : ['x'] } }]);
    }
    const search = (params: unknown) => s.api('/api/leaderboard/v1/leaderboard/entries/search', { projectIdentifier: 'demo/table', type: 'run' }, { body: params });
    // What neptune-client 1.x fetch_runs_table sends (api/searching_entries.py get_single_page).
    const r = await search({
      sorting: { dir: 'descending', aggregationMode: 'none', sortBy: { name: 'acc', type: 'float' } },
      attributeFilters: [{ path: 'sys/id' }, { path: 'acc' }],
      query: { query: '((`sys/trashed`:bool = false) AND (`acc`:float > 0.6))' },
      pagination: { limit: 10, offset: 0 },
    });
    expect(r.status).toBe(200);
    expect(r.json.matchingItemCount).toBe(2);
    expect(r.json.entries.map((e: { experimentId: string }) => e.experimentId)).toEqual([ids[1], ids[2]]);
    expect(r.json.entries[0].attributes).toEqual([
      { name: 'acc', type: 'float', floatProperties: { attributeName: 'acc', attributeType: 'float', value: 0.9 } },
      { name: 'sys/id', type: 'string', stringProperties: { attributeName: 'sys/id', attributeType: 'string', value: 'TAB-2' } },
    ]);
    const tagged = await search({ query: { query: '(`sys/tags`:stringSet CONTAINS "best")' }, pagination: { limit: 1, offset: 0 } });
    expect(tagged.json.entries.map((e: { experimentId: string }) => e.experimentId)).toEqual([ids[1]]);
    const second = await search({ sorting: { dir: 'ascending', sortBy: { name: 'acc', type: 'float' } }, pagination: { limit: 1, offset: 1 } });
    expect(second.json.entries.map((e: { experimentId: string }) => e.experimentId)).toEqual([ids[2]]);
    const bad = await search({ query: { query: '(`acc`:float ~~ 1)' } });
    expect(bad.status).toBe(400);
    expect(bad.json.title).toBe('Syntax error');

    const cols = await s.api('/api/leaderboard/v1/leaderboard/attributes/search', { projectIdentifier: p.id, search: 'sys/creation_time', type: 'run' }, { body: {} });
    expect(cols.status).toBe(200);
    expect(cols.json.entries).toEqual([{ name: 'sys/creation_time', type: 'datetime' }]);
    expect((await s.api('/api/leaderboard/v1/leaderboard/entries/search', { projectIdentifier: 'demo/none' }, { body: {} })).status).toBe(404);
  });
});

describe('file-set download', () => {
  it('prepare → status with downloadUrl → a zip holding every entry byte for byte', async () => {
    const p = await s.createProject('zips');
    const run = await s.createRun(p.id, 'z');
    const files: Record<string, Buffer> = { 'a.txt': Buffer.from('alpha'), 'dir/b.bin': Buffer.from([0, 1, 2, 255, 254]) };
    for (const [sub, data] of Object.entries(files)) {
      const up = await s.api('/api/leaderboard/v1/attributes/storage/fileset/upload', { experimentIdentifier: run.id, attribute: 'src', subPath: sub }, { raw: data });
      expect(up.json).toEqual({ errors: [] });
    }
    const prep = await s.api('/api/leaderboard/v1/attributes/downloadFileSetZipRequest', { experimentId: run.id, attribute: 'src' }, { method: 'POST' });
    expect(prep.status).toBe(200);
    expect(Object.keys(prep.json)).toEqual(['id']);
    const st = await s.api('/api/leaderboard/v1/download/downloadRequest', { id: prep.json.id });
    expect(st.json.downloadUrl).toBe(`${emu.url}/api/leaderboard/v1/download/downloadFile?id=${prep.json.id}`);
    const z = await call(st.json.downloadUrl, { headers: { authorization: `Bearer ${s.accessToken}`, accept: 'application/zip' } });
    expect(z.status).toBe(200);
    expect(z.headers.get('content-type')).toBe('application/zip');
    expect(unzip(z.bytes)).toEqual(files);
    expect((await s.api('/api/leaderboard/v1/download/downloadRequest', { id: 'not-a-uuid' })).status).toBe(400);
    expect((await s.api('/api/leaderboard/v1/download/downloadRequest', { id: '00000000-0000-4000-8000-000000000000' })).status).toBe(404);
    expect((await s.api('/api/leaderboard/v1/attributes/downloadFileSetZipRequest', { experimentId: run.id, attribute: 'nope' }, { method: 'POST' })).status).toBe(404);
  });
});

describe('deleteProject and attributes', () => {
  it('deletes a project with its runs; 404 after', async () => {
    const p = await s.createProject('doomed');
    const run = await s.createRun(p.id, 'd');
    await s.ops(run.id, [{ path: 'x', logFloats: { entries: [{ step: 1, value: 1, timestampMilliseconds: 1 }] } }]);
    const attrs = await s.api('/api/leaderboard/v1/attributes', { experimentId: run.id });
    expect(Object.keys(attrs.json)).not.toContain('fields');
    expect(attrs.json.attributes.map((a: { name: string }) => a.name)).toContain('x');
    const del = await s.api('/api/backend/v1/projects', { projectIdentifier: 'demo/doomed' }, { method: 'DELETE' });
    expect(del.status).toBe(200);
    expect(emu.inspect.projects().map((x) => x.name)).not.toContain('doomed');
    expect(emu.inspect.floatSeries(run.id, 'x')).toEqual([]);
    expect((await s.api('/api/backend/v1/projects/get', { projectIdentifier: 'demo/doomed' })).status).toBe(404);
    expect((await s.api('/api/backend/v1/projects', { projectIdentifier: 'demo/doomed' }, { method: 'DELETE' })).status).toBe(404);
  });
});
