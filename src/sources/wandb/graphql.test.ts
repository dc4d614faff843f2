import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GraphQLError, HttpError } from '../../core/errors.ts';
import { createWandbSource } from './source.ts';

const KEY = 'secretkey-0123456789abcdef0123456789abcdef';

/** A tiny stand-in for the API host and for a storage host (two servers = two hosts). */
interface Seen {
  path: string;
  auth?: string;
  body?: string;
}
let api: Server;
let storage: Server;
let apiUrl = '';
let storageUrl = '';
const seenApi: Seen[] = [];
const seenStorage: Seen[] = [];
let graphqlAnswer: (body: { query: string; variables: Record<string, unknown> }) => { status?: number; json: unknown };

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

beforeAll(async () => {
  api = createServer(async (req, res) => {
    const body = await readBody(req);
    seenApi.push({ path: req.url ?? '', auth: req.headers.authorization, body });
    if (req.url === '/graphql') {
      const a = graphqlAnswer(JSON.parse(body));
      res.writeHead(a.status ?? 200, { 'content-type': 'application/json' }).end(JSON.stringify(a.json));
    } else res.writeHead(200).end('api-file-bytes');
  });
  storage = createServer(async (req, res) => {
    seenStorage.push({ path: req.url ?? '', auth: req.headers.authorization });
    res.writeHead(200).end('hello');
  });
  await Promise.all([new Promise<void>((r) => api.listen(0, '127.0.0.1', r)), new Promise<void>((r) => storage.listen(0, '127.0.0.1', r))]);
  apiUrl = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
  storageUrl = `http://127.0.0.1:${(storage.address() as AddressInfo).port}`;
});
afterAll(() => {
  api.close();
  storage.close();
});

const source = (entity: string | null = 'acme') => createWandbSource({ baseUrl: apiUrl, apiKey: KEY, entity: entity ?? undefined, env: {}, http: { retry: { retries: 1, baseDelayMs: 10 } } });
const run = { key: { entity: 'acme', project: 'vision', runId: 'ab12cd34' }, tags: [], config: {}, summary: {} };

describe('W&B GraphQL transport', () => {
  it('sends Basic api:<key> to the API host and none to storage URLs', async () => {
    const md5 = (await import('node:crypto')).createHash('md5').update('hello').digest('base64');
    graphqlAnswer = () => ({
      json: {
        data: {
          project: {
            internalId: '1',
            run: {
              fileCount: 1,
              files: {
                edges: [{ cursor: 'c1', node: { id: 'f1', name: 'a.txt', url: `${apiUrl}/files/acme/vision/ab12cd34/a.txt`, directUrl: `${storageUrl}/bucket/a.txt?sig=xyz`, sizeBytes: 5, md5 } }],
                pageInfo: { endCursor: 'c1', hasNextPage: false },
              },
            },
          },
        },
      },
    });
    const s = source();
    const files = [];
    for await (const f of s.files(run)) files.push(f);
    expect(files).toEqual([{ name: 'a.txt', sizeBytes: 5, md5 }]);
    const local = await s.fetchFile(run, files[0]);
    expect(local.sizeBytes).toBe(5);
    await local.release();
    await s.close();
    expect(seenApi.at(-1)!.auth).toBe(`Basic ${Buffer.from(`api:${KEY}`).toString('base64')}`);
    expect(seenStorage.length).toBeGreaterThan(0);
    for (const r of seenStorage) expect(r.auth).toBeUndefined();
    expect(JSON.parse(seenApi.at(-1)!.body!).variables).toMatchObject({ entity: 'acme', project: 'vision', name: 'ab12cd34', fileCursor: null });
  });

  it('sends no key with a presigned directUrl, even one under the API host (single-origin servers)', async () => {
    const md5 = (await import('node:crypto')).createHash('md5').update('api-file-bytes').digest('base64');
    graphqlAnswer = () => ({
      json: { data: { project: { internalId: '1', run: { fileCount: 1, files: {
        edges: [{ cursor: 'c1', node: { id: 'f1', name: 'b.txt', url: `${apiUrl}/files/acme/vision/ab12cd34/b.txt`, directUrl: `${apiUrl}/local-files/b.txt?sig=xyz`, sizeBytes: 14, md5 } }],
        pageInfo: { endCursor: 'c1', hasNextPage: false } } } } } },
    });
    const s = source();
    const files = [];
    for await (const f of s.files(run)) files.push(f);
    const local = await s.fetchFile(run, files[0]);
    await local.release();
    await s.close();
    const download = seenApi.filter((r) => r.path.startsWith('/local-files/'));
    expect(download).toHaveLength(1);
    expect(download[0].auth).toBeUndefined();
  });

  it('turns errors in a 200 answer into GraphQLError naming the subject', async () => {
    graphqlAnswer = () => ({ json: { data: null, errors: [{ message: 'project not found' }, 'second'] } });
    const s = source();
    const it = s.listRuns('vision', {})[Symbol.asyncIterator]();
    await expect(it.next()).rejects.toThrow(GraphQLError);
    await expect(s.listRuns('vision', {})[Symbol.asyncIterator]().next()).rejects.toThrow(/runs of .*\/vision: project not found; second/);
    await s.close();
  });

  it('never puts the key in an error message, even when the server echoes it', async () => {
    graphqlAnswer = () => ({ status: 400, json: { errors: [{ message: `bad key ${KEY}` }] } });
    const s = source(null);
    let err: unknown;
    try {
      await s.entity();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(HttpError);
    expect(String((err as Error).message)).not.toContain(KEY);
    expect(String((err as Error).message)).toContain('***');
    await s.close();
  });

  it('asks the viewer for the default entity when none is configured', async () => {
    graphqlAnswer = (b) => ({ json: { data: b.query.includes('viewer') ? { viewer: { id: 'u1', entity: 'alice-team' } } : null } });
    const s = source(null);
    expect(await s.entity()).toBe('alice-team');
    await s.close();
  });

  it('sends runs filters as a JSON string in the SDK variables, 200 runs a page', async () => {
    graphqlAnswer = () => ({ json: { data: { project: { internalId: '1', runCount: 0, readOnly: false, runs: { edges: [], pageInfo: { endCursor: null, hasNextPage: false } } } } } });
    const s = createWandbSource({ baseUrl: apiUrl, apiKey: KEY, entity: 'acme', env: {} });
    for await (const _ of s.listRuns('vision', { runIds: ['x1'] })) void _;
    const vars = JSON.parse(seenApi.at(-1)!.body!).variables;
    expect(vars).toMatchObject({ project: 'vision', entity: 'acme', order: '+created_at', perPage: 200, cursor: null });
    expect(JSON.parse(vars.filters)).toEqual({ name: { $in: ['x1'] } });
    await s.close();
  });
});
