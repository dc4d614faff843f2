import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asyncBufferFromUrl, parquetMetadataAsync, parquetReadObjects, parquetSchema } from 'hyparquet';
import { parseExtJson } from './ext-json.ts';
import { generateEntity } from './generator/generate.ts';
import type { GenRun } from './generator/types.ts';
import { startWandbEmulator, type WandbEmulator } from './server/http.ts';
import { basic, gql, HISTORY_PAGE, KEY, PARQUET_HISTORY, RUN_FILES, RUN_QUERY, RUNS_QUERY } from './test-helpers.ts';

const entity = generateEntity({ seed: 7, preset: 'all-shapes' });
const ENT = entity.name;
const project = (n: string) => entity.projects.find((p) => p.name === n)!;
const run = (p: string, display: string): GenRun => project(p).runs.find((r) => r.displayName === display)!;

let emu: WandbEmulator;
let now = Date.now();
beforeAll(async () => {
  emu = await startWandbEmulator({ apiKeys: [KEY], entity, exportRowsPerFile: 700, clock: () => now, urlTtlSeconds: 60 });
});
afterAll(async () => emu.close());

describe('auth', () => {
  it('answers 401 without or with a wrong key and counts it', async () => {
    const before = emu.stats().authFailures;
    expect((await gql(emu, '{ viewer { id } }', {}, null)).status).toBe(401);
    expect((await gql(emu, '{ viewer { id } }', {}, 'wrong'.repeat(10))).status).toBe(401);
    expect(emu.stats().authFailures).toBe(before + 2);
    const ok = await gql(emu, 'query GetDefaultEntity { viewer { id entity } }');
    expect(ok.body.data?.viewer.entity).toBe(ENT);
  });
});

describe('projects and runs', () => {
  it('lists projects with Relay paging', async () => {
    const q = `query ListProjects($entity: String, $cursor: String, $perPage: Int = 50) {
      models(entityName: $entity, after: $cursor, first: $perPage) {
        edges { node { id name entityName createdAt isBenchmark } cursor } pageInfo { endCursor hasNextPage } } }`;
    const names: string[] = [];
    let cursor: string | null = null;
    for (;;) {
      const r = await gql(emu, q, { entity: ENT, perPage: 2, cursor });
      const m = r.body.data?.models;
      names.push(...m.edges.map((e: { node: { name: string } }) => e.node.name));
      if (!m.pageInfo.hasNextPage) break;
      cursor = m.pageInfo.endCursor;
    }
    expect(names).toEqual(entity.projects.map((p) => p.name));
    expect(emu.stats().byOperation.ListProjects).toBe(2);
  });

  it('pages runs by the last edge cursor, honouring order and runCount', async () => {
    const ids: string[] = [];
    let cursor: string | null = null;
    let count = 0;
    for (;;) {
      const r = await gql(emu, RUNS_QUERY, { project: 'vision-models', entity: ENT, order: '+created_at', filters: '{}', perPage: 4, cursor });
      const p = r.body.data?.project;
      count = p.runCount;
      ids.push(...p.runs.edges.map((e: { node: { name: string } }) => e.node.name));
      if (!p.runs.pageInfo.hasNextPage) break;
      cursor = p.runs.edges[p.runs.edges.length - 1].cursor;
    }
    const expected = [...project('vision-models').runs].sort((a, b) => a.createdAt.localeCompare(b.createdAt)).map((r) => r.id);
    expect(ids).toEqual(expected);
    expect(count).toBe(expected.length);
  });

  it('applies Mongo-style filters', async () => {
    const ids = async (filters: unknown): Promise<string[]> => {
      const r = await gql(emu, RUNS_QUERY, { project: 'vision-models', entity: ENT, filters: JSON.stringify(filters), perPage: 100 });
      return r.body.data?.project.runs.edges.map((e: { node: { name: string } }) => e.node.name).sort();
    };
    const runs = project('vision-models').runs;
    const want = (pred: (r: GenRun) => boolean) => runs.filter(pred).map((r) => r.id).sort();
    expect(await ids({ state: 'finished' })).toEqual(want((r) => r.state === 'finished'));
    expect(await ids({ tags: { $in: ['live', 'empty'] } })).toEqual(want((r) => r.tags.includes('live') || r.tags.includes('empty')));
    const mid = runs[4].createdAt;
    expect(await ids({ $and: [{ createdAt: { $gte: mid } }, { state: { $ne: 'crashed' } }] })).toEqual(want((r) => r.createdAt >= mid && r.state !== 'crashed'));
    expect(await ids({ name: { $in: [runs[1].id] } })).toEqual([runs[1].id]);
    expect(await ids({ displayName: { $regex: '^many' } })).toEqual(want((r) => r.displayName.startsWith('many')));
  });

  it('serves a run with W&B-wrapped config and extended-JSON summary', async () => {
    const r = run('rl-sandbox', 'nan-and-strings');
    const res = await gql(emu, RUN_QUERY, { project: 'rl-sandbox', entity: ENT, name: r.id });
    const node = res.body.data?.project.run;
    expect(node.name).toBe(r.id);
    expect(node.config).toContain('NaN');
    const config = parseExtJson(node.config) as Record<string, { value: unknown; desc?: unknown }>;
    expect(Object.fromEntries(Object.entries(config).map(([k, v]) => [k, v.value]))).toEqual(r.config);
    expect(parseExtJson(node.summaryMetrics)).toEqual(r.summary);
    expect(node.historyKeys.lastStep).toBe(r.lastStep);
    expect(node.historyKeys.keys.reward.typeCounts).toEqual([{ type: 'number', count: r.historyRowCount }]);
  });

  it('returns null (not an error) for an unknown run or project', async () => {
    const res = await gql(emu, RUN_QUERY, { project: 'vision-models', entity: ENT, name: 'nope' });
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data?.project.run).toBeNull();
    const res2 = await gql(emu, RUN_QUERY, { project: 'missing', entity: ENT, name: 'nope' });
    expect(res2.body.data?.project).toBeNull();
  });

  it('rejects a document with an unknown field (schema validation)', async () => {
    const res = await gql(emu, '{ viewer { id bogusField } }');
    expect(res.status).toBe(200);
    expect(res.body.errors?.[0].message).toMatch(/Cannot query field "bogusField"/);
  });
});

describe('history', () => {
  it('serves a HistoryPage with bare NaN/Infinity tokens that round-trip to the generator rows', async () => {
    const r = run('rl-sandbox', 'nan-and-strings');
    const res = await gql(emu, HISTORY_PAGE, { entity: ENT, project: 'rl-sandbox', run: r.id, minStep: 0, maxStep: 1000, pageSize: 1000 });
    const rows: string[] = res.body.data?.project.run.history;
    expect(rows).toHaveLength(r.historyRowCount);
    expect(rows[0]).toMatch(/"reward": NaN/);
    expect(rows[1]).toMatch(/"reward": Infinity/);
    expect(rows[2]).toMatch(/"reward": -Infinity/);
    expect(rows.map((s) => parseExtJson(s))).toEqual([...r.history()]);
  });

  it('pages by step window with an exclusive maxStep on runs with gaps', async () => {
    const r = run('vision-models', 'sparse-and-gaps');
    const seen: number[] = [];
    for (let min = 0; min < r.lastStep + 1; min += 1000) {
      const res = await gql(emu, HISTORY_PAGE, { entity: ENT, project: 'vision-models', run: r.id, minStep: min, maxStep: min + 1000, pageSize: 1000 });
      seen.push(...res.body.data?.project.run.history.map((s: string) => (parseExtJson(s) as { _step: number })._step));
    }
    expect(seen).toEqual([...r.history()].map((x) => x._step));
  });

  it('parquetHistory URLs download without auth and parse to the exported rows; liveData holds the tail', async () => {
    const r = run('vision-models', 'running-live-tail');
    const res = await gql(emu, PARQUET_HISTORY, { entity: ENT, project: 'vision-models', runName: r.id, liveKeys: ['_step'] });
    const ph = res.body.data?.project.run.parquetHistory;
    const rows = [...r.history()];
    const exported = rows.filter((x) => (x._step as number) < r.exportedBelowStep);
    expect(ph.parquetUrls.length).toBe(Math.ceil(exported.length / 700));
    expect(ph.liveData).toEqual(rows.filter((x) => (x._step as number) >= r.exportedBelowStep).map((x) => ({ _step: x._step })));
    const got: Record<string, unknown>[] = [];
    for (const url of ph.parquetUrls) {
      const file = await asyncBufferFromUrl({ url });
      got.push(...(await parquetReadObjects({ file })));
    }
    expect(got).toHaveLength(exported.length);
    expect(got.map((g) => ({ ...g, _step: Number(g._step) }))).toEqual(exported);
    expect(emu.stats().downloadsWithAuth).toBe(0);
  });

  it('stores media dicts, lists and nested values as nested parquet columns (Struct, List)', async () => {
    const r = run('vision-models', 'finished-full-export');
    const res = await gql(emu, PARQUET_HISTORY, { entity: ENT, project: 'vision-models', runName: r.id, liveKeys: ['_step'] });
    const ph = res.body.data?.project.run.parquetHistory;
    expect(ph.liveData).toEqual([]);
    const file = await asyncBufferFromUrl({ url: ph.parquetUrls[0] });
    const schema = parquetSchema(await parquetMetadataAsync(file));
    const col = (name: string) => schema.children.find((c) => c.element.name === name)!;
    // a media dict is a Struct of its fields; a histogram's lists are Lists of DOUBLE
    expect(col('samples').children.map((c) => c.element.name)).toEqual(expect.arrayContaining(['_type', 'path', 'sha256', 'size', 'width', 'height']));
    const values = col('weights').children.find((c) => c.element.name === 'values')!;
    expect(values.element.converted_type).toBe('LIST');
    expect(values.children[0].children[0].element.type).toBe('DOUBLE');
    expect(col('nested').children.find((c) => c.element.name === 'inner')!.children.map((c) => c.element.name).sort()).toEqual(['tag', 'v']);
    const got = await parquetReadObjects({ file, rowEnd: 200 });
    const want = [...r.history()].slice(0, 200);
    // struct fields a row does not have read back as null
    const dropNulls = (v: unknown): unknown => Array.isArray(v) ? v.map(dropNulls)
      : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).filter(([, x]) => x !== null).map(([k, x]) => [k, dropNulls(typeof x === 'bigint' ? Number(x) : x)])) : v;
    expect(dropNulls(got[199].samples)).toEqual(want[199].samples);
    expect(dropNulls(got[0].weights)).toEqual(want[0].weights);
    expect(dropNulls(got[0].nested)).toEqual(want[0].nested);
    expect(got[1].nested).toBeNull();
    expect(got[0].is_best).toBe(want[0].is_best);
  });

  it('samples events evenly and reports eventsLineCount', async () => {
    const r = run('vision-models', 'finished-full-export');
    const q = `query RunEvents($project: String!, $entity: String!, $name: String!, $samples: Int) {
      project(name: $project, entityName: $entity) { run(name: $name) { eventsLineCount events(samples: $samples) } } }`;
    const res = await gql(emu, q, { project: 'vision-models', entity: ENT, name: r.id, samples: 5 });
    const node = res.body.data?.project.run;
    expect(node.eventsLineCount).toBe(r.systemEventCount);
    const all = [...r.systemEvents()];
    expect(node.events.map((s: string) => parseExtJson(s))).toEqual([0, 50, 100, 149, 199].map((i) => all[i]));
  });
});

describe('files and storage', () => {
  it('lists files with paging and serves exact bytes at signed URLs', async () => {
    const r = run('vision-models', 'many-files');
    const names: string[] = [];
    const nodes: { name: string; url: string; directUrl: string; sizeBytes: number; md5: string }[] = [];
    let cursor: string | null = null;
    for (;;) {
      const res = await gql(emu, RUN_FILES, { project: 'vision-models', entity: ENT, name: r.id, fileNames: [], upload: false, pattern: null, fileLimit: 25, fileCursor: cursor });
      const f = res.body.data?.project.run.files;
      expect(res.body.data?.project.run.fileCount).toBe(r.files.length);
      for (const e of f.edges) { names.push(e.node.name); nodes.push(e.node); }
      if (!f.pageInfo.hasNextPage) break;
      cursor = f.edges[f.edges.length - 1].cursor;
    }
    expect(names).toEqual(r.files.map((f) => f.name));
    const { createHash } = await import('node:crypto');
    for (const name of ['checkpoints/epoch1.pt', 'empty.txt', 'code/_session_history.ipynb']) {
      const node = nodes.find((n) => n.name === name)!;
      const bytes = Buffer.from(await (await fetch(node.directUrl)).arrayBuffer());
      expect(bytes.length).toBe(node.sizeBytes);
      expect(createHash('md5').update(bytes).digest('base64')).toBe(node.md5);
    }
    // a download carrying the key is served but counted, so tests can prove the key never goes to storage
    const before = emu.stats().downloadsWithAuth;
    await (await fetch(nodes[0].directUrl, { headers: { Authorization: basic(KEY) } })).arrayBuffer();
    expect(emu.stats().downloadsWithAuth).toBe(before + 1);
  });

  it('answers HEAD and Range requests on storage URLs', async () => {
    const r = run('vision-models', 'many-files');
    const res = await gql(emu, RUN_FILES, { project: 'vision-models', entity: ENT, name: r.id, fileNames: ['model.ckpt'] });
    const url = res.body.data?.project.run.files.edges[0].node.directUrl;
    const head = await fetch(url, { method: 'HEAD' });
    expect(head.headers.get('content-length')).toBe(String(256 * 1024));
    const part = await fetch(url, { headers: { Range: 'bytes=10-19' } });
    expect(part.status).toBe(206);
    const whole = r.files.find((f) => f.name === 'model.ckpt')!.content() as Buffer;
    expect(Buffer.from(await part.arrayBuffer())).toEqual(whole.subarray(10, 20));
  });

  it('rejects expired and tampered signed URLs with 403', async () => {
    const r = run('vision-models', 'many-files');
    const res = await gql(emu, RUN_FILES, { project: 'vision-models', entity: ENT, name: r.id, fileNames: ['empty.txt'] });
    const url: string = res.body.data?.project.run.files.edges[0].node.directUrl;
    expect((await fetch(url.replace(/sig=(.)/, (_, c: string) => `sig=${c === 'A' ? 'B' : 'A'}`))).status).toBe(403);
    now += 61_000;
    try {
      const expired = await fetch(url);
      expect(expired.status).toBe(403);
      expect(await expired.text()).toContain('Request has expired');
      // the W&B-hosted URL signs a fresh one at every request
      const hosted: string = res.body.data?.project.run.files.edges[0].node.url;
      const redirect = await fetch(hosted, { headers: { Authorization: basic(KEY) }, redirect: 'manual' });
      expect(redirect.status).toBe(302);
      expect((await fetch(redirect.headers.get('location')!)).status).toBe(200);
    } finally {
      now -= 61_000;
    }
  });
});

describe('other read paths', () => {
  it('redirects /files/<entity>/<project>/<run>/<name> to a signed URL on the storage origin, only with Basic auth', async () => {
    const r = run('vision-models', 'many-files');
    const url = `${emu.url}/files/${ENT}/vision-models/${r.id}/code/train.py`;
    expect((await fetch(url)).status).toBe(401);
    expect((await fetch(`${url}.nosuch`, { headers: { Authorization: basic(KEY) }, redirect: 'manual' })).status).toBe(404);
    const redirect = await fetch(url, { headers: { Authorization: basic(KEY) }, redirect: 'manual' });
    expect(redirect.status).toBe(302);
    const location = redirect.headers.get('location')!;
    expect(location.startsWith(`${emu.storageUrl}/_storage/files/`)).toBe(true);
    expect(emu.storageUrl).not.toBe(emu.url);
    expect(await (await fetch(location)).text()).toBe('import wandb\nrun = wandb.init()\n');
    // the storage origin serves nothing but signed URLs
    expect((await fetch(`${emu.storageUrl}/graphql`, { method: 'POST' })).status).toBe(404);
  });

  it('pages console lines with logLines and reports logLineCount', async () => {
    const r = run('vision-models', 'many-files');
    const q = `query RunConsoleLogPage($entity: String!, $project: String!, $runName: String!, $first: Int, $after: String) {
      project(name: $project, entityName: $entity) { run(name: $runName) { logLineCount
        logLines(first: $first, after: $after, useImprovedPagination: true) {
          edges { node { number timestamp level label line } } pageInfo { endCursor hasNextPage } } } } }`;
    const lines: string[] = [];
    let after: string | null = null;
    for (;;) {
      const res = await gql(emu, q, { entity: ENT, project: 'vision-models', runName: r.id, first: 50, after });
      const ll = res.body.data?.project.run.logLines;
      lines.push(...ll.edges.map((e: { node: { line: string } }) => e.node.line));
      if (!ll.pageInfo.hasNextPage) break;
      after = ll.pageInfo.endCursor;
    }
    const want = [...(r.consoleLines as () => Iterable<string>)()];
    expect(lines).toEqual(want);
  });

  it('sampledHistory returns rows holding all requested keys, maxStep exclusive, NaN as a string', async () => {
    const r = run('vision-models', 'sparse-and-gaps');
    const q = `query SampledHistoryPage($entity: String!, $project: String!, $run: String!, $spec: JSONString!) {
      project(name: $project, entityName: $entity) { run(name: $run) { sampledHistory(specs: [$spec]) } } }`;
    const all = [...r.history()].filter((x) => 'every7' in x);
    const maxStep = all[9]._step as number;
    const spec = JSON.stringify({ keys: ['_step', 'every7'], minStep: 0, maxStep, samples: 1000 });
    const res = await gql(emu, q, { entity: ENT, project: 'vision-models', run: r.id, spec });
    expect(res.body.data?.project.run.sampledHistory[0]).toEqual(all.slice(0, 9).map((x) => ({ _step: x._step, every7: x.every7 })));
    const nan = run('rl-sandbox', 'nan-and-strings');
    const res2 = await gql(emu, q, { entity: ENT, project: 'rl-sandbox', run: nan.id, spec: JSON.stringify({ keys: ['_step', 'reward'], maxStep: 3, samples: 10 }) });
    expect(res2.body.data?.project.run.sampledHistory[0].map((x: { reward: unknown }) => x.reward)).toEqual(['NaN', 'Infinity', '-Infinity']);
  });
});

describe('faults', () => {
  it('rate limits per second with 429 + Retry-After and RateLimit headers', async () => {
    emu.setFaults({ rateLimitPerSecond: 2 });
    try {
      const a = await gql(emu, '{ viewer { id } }');
      expect(a.status).toBe(200);
      expect(a.headers.get('ratelimit-remaining')).toBe('500');
      expect((await gql(emu, '{ viewer { id } }')).status).toBe(200);
      const c = await gql(emu, '{ viewer { id } }');
      expect(c.status).toBe(429);
      expect(c.headers.get('retry-after')).toBe('1');
      expect(c.headers.get('ratelimit-reset')).toBe('1');
      now += 1000;
      expect((await gql(emu, '{ viewer { id } }')).status).toBe(200);
    } finally {
      emu.setFaults(undefined);
    }
  });

  it('force429 answers exactly N GraphQL requests with Retry-After and RateLimit headers', async () => {
    emu.setFaults({ force429: { count: 2, retryAfterSeconds: 7 } });
    try {
      for (let i = 0; i < 2; i++) {
        const r = await gql(emu, '{ viewer { id } }');
        expect(r.status).toBe(429);
        expect(r.headers.get('retry-after')).toBe('7');
        expect(r.headers.get('ratelimit-limit')).toBe('1000');
        expect(r.headers.get('ratelimit-remaining')).toBe('0');
        expect(r.headers.get('ratelimit-reset')).toBe('7');
      }
      expect((await gql(emu, '{ viewer { id } }')).status).toBe(200);
    } finally {
      emu.setFaults(undefined);
    }
  });

  it('draws 5xx faults from a seeded PRNG: same seed, same sequence', async () => {
    const seq = async (): Promise<number[]> => {
      emu.setFaults({ seed: 42, status5xxRate: 0.5 });
      const out: number[] = [];
      for (let i = 0; i < 12; i++) out.push((await gql(emu, '{ viewer { id } }')).status);
      return out;
    };
    const a = await seq();
    const b = await seq();
    emu.setFaults(undefined);
    expect(a).toEqual(b);
    expect(a.some((s) => s >= 500)).toBe(true);
    expect(a.some((s) => s === 200)).toBe(true);
  });

  it('truncates downloads: Content-Length promises more than arrives', async () => {
    const r = run('vision-models', 'many-files');
    const res = await gql(emu, RUN_FILES, { project: 'vision-models', entity: ENT, name: r.id, fileNames: ['model.ckpt'] });
    const url = res.body.data?.project.run.files.edges[0].node.directUrl;
    emu.setFaults({ truncateRate: 1 });
    try {
      await expect((async () => (await fetch(url)).arrayBuffer())()).rejects.toThrow();
    } finally {
      emu.setFaults(undefined);
    }
  });
});
