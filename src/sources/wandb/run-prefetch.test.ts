import { describe, expect, it } from 'vitest';
import type { RunInfo } from '../../core/records.ts';
import { silentLogger } from '../../core/logger.ts';
import { GraphQLError } from '../../core/errors.ts';
import type { GraphqlErrorEntry } from './graphql.ts';
import { RunPrefetch } from './run-prefetch.ts';

const run = (id: string): RunInfo => ({ key: { entity: 'e', project: 'p', runId: id }, tags: [], config: {}, summary: {}, url: 'u', state: 'finished', lastStep: 2 });
const rows = (id: string) => [`{"_step":0,"run":"${id}"}`];

/** A server for batched documents: answers each alias from the run name in its variables. */
function fakeGql(opts: { failAlias?: (runId: string) => boolean; refuse?: boolean; transportError?: boolean } = {}) {
  const documents: string[][] = [];
  return {
    documents,
    async graphqlPartial<T>(query: string, variables: Record<string, unknown>): Promise<{ data?: T; errors: GraphqlErrorEntry[] }> {
      const names = Object.keys(variables).filter((k) => k.startsWith('n')).sort((a, b) => Number(a.slice(1)) - Number(b.slice(1))).map((k) => String(variables[k]));
      documents.push(names);
      expect(query).toContain('query RunBatch');
      if (opts.transportError) throw new Error('socket hang up');
      if (opts.refuse) return { errors: [{ message: 'Cannot query field "x"' }] };
      const data: Record<string, unknown> = {};
      const errors: GraphqlErrorEntry[] = [];
      names.forEach((n, i) => {
        if (opts.failAlias?.(n)) {
          data[`r${i}`] = null;
          errors.push({ message: 'query cost too high', path: [`r${i}`, 'run'] });
        } else data[`r${i}`] = { run: { history: rows(n) } };
      });
      return { data: data as T, errors };
    },
  };
}

function listed(p: RunPrefetch, ids: string[]): RunInfo[] {
  const add = p.listing();
  return ids.map((id) => {
    const r = run(id);
    add(r, { fileCount: 0, eventsLineCount: 0 });
    return r;
  });
}

const limits = { pageSize: 1000, filesFirst: 50, eventsMax: 2000 };

describe('RunPrefetch', () => {
  it('the first run to ask brings the runs listed after it in one document; they find their bundles waiting', async () => {
    const gql = fakeGql();
    const p = new RunPrefetch({ gql, limits, maxRuns: 3, log: silentLogger });
    const runs = listed(p, ['a', 'b', 'c', 'd', 'e']);
    expect((await p.bundle(runs[0]))?.history?.rows).toEqual(rows('a'));
    expect((await p.bundle(runs[2]))?.history?.rows).toEqual(rows('c'));
    expect((await p.bundle(runs[1]))?.history?.rows).toEqual(rows('b'));
    expect((await p.bundle(runs[3]))?.history?.rows).toEqual(rows('d'));
    expect(gql.documents).toEqual([['a', 'b', 'c'], ['d', 'e']]);
  });

  it('once the server takes documents, the next one goes before its runs ask (one document ahead)', async () => {
    const gql = fakeGql();
    const p = new RunPrefetch({ gql, limits, maxRuns: 2, log: silentLogger });
    const runs = listed(p, ['a', 'b', 'c', 'd', 'e', 'f']);
    await p.bundle(runs[0]);
    // Not ahead of the first answer: a server that refuses documents gets one.
    expect(gql.documents).toEqual([['a', 'b']]);
    await p.bundle(runs[1]);
    expect(gql.documents).toEqual([['a', 'b'], ['c', 'd']]);
    expect((await p.bundle(runs[2]))?.history?.rows).toEqual(rows('c'));
    expect(gql.documents).toEqual([['a', 'b'], ['c', 'd'], ['e', 'f']]);
    for (const r of runs.slice(3)) expect((await p.bundle(r))?.history?.rows).toEqual(rows(r.key.runId));
    expect(gql.documents).toHaveLength(3);
  });

  it('several listings at once (projects migrated side by side): each keeps its own document ahead', async () => {
    const gql = fakeGql();
    const p = new RunPrefetch({ gql, limits, maxRuns: 2, log: silentLogger });
    const x = listed(p, ['a', 'b', 'c', 'd']);
    const y = listed(p, ['p', 'q', 'r', 's']);
    await p.bundle(x[0]);
    await p.bundle(y[0]);
    await p.bundle(x[1]);
    await p.bundle(y[1]);
    // Before: x's unasked c, d kept y from fetching ahead, so r waited for a round trip of its own.
    expect(gql.documents).toEqual([['a', 'b'], ['p', 'q'], ['r', 's'], ['c', 'd']]);
    for (const r of [x[2], y[2], x[3], y[3]]) expect((await p.bundle(r))?.history?.rows).toEqual(rows(r.key.runId));
    expect(gql.documents).toHaveLength(4);
  });

  it('runs listed before the asking one and never asked for (skipped by the migration) are not fetched', async () => {
    const gql = fakeGql();
    const p = new RunPrefetch({ gql, limits, maxRuns: 2, log: silentLogger });
    const runs = listed(p, ['a', 'b', 'c', 'd']);
    await p.bundle(runs[2]);
    await p.bundle(runs[0]);
    expect(gql.documents).toEqual([['c', 'd'], ['a']]);
  });

  it('keeps each document under its weight', async () => {
    const gql = fakeGql();
    // each plan weighs 1 + 3 history rows = 4
    const p = new RunPrefetch({ gql, limits, maxRuns: 10, maxWeight: 9, log: silentLogger });
    const runs = listed(p, ['a', 'b', 'c', 'd']);
    await p.bundle(runs[0]);
    await p.bundle(runs[2]);
    expect(gql.documents).toEqual([['a', 'b'], ['c', 'd']]);
  });

  it('an error naming one alias leaves only that run to its own queries', async () => {
    const gql = fakeGql({ failAlias: (id) => id === 'b' });
    const p = new RunPrefetch({ gql, limits, maxRuns: 3, log: silentLogger });
    const runs = listed(p, ['a', 'b', 'c']);
    expect(await p.bundle(runs[0])).toBeDefined();
    expect(await p.bundle(runs[1])).toBeUndefined();
    expect((await p.bundle(runs[2]))?.history?.rows).toEqual(rows('c'));
    expect(gql.documents).toHaveLength(1);
  });

  it('a document refused as a whole turns batching off: no further documents', async () => {
    const gql = fakeGql({ refuse: true });
    const p = new RunPrefetch({ gql, limits, maxRuns: 2, log: silentLogger });
    const runs = listed(p, ['a', 'b', 'c', 'd']);
    expect(await p.bundle(runs[0])).toBeUndefined();
    expect(await p.bundle(runs[1])).toBeUndefined();
    expect(await p.bundle(runs[2])).toBeUndefined();
    expect(gql.documents).toEqual([['a', 'b']]);
  });

  it('a document that fails in transport leaves its runs to their own queries, and batching on', async () => {
    const gql = fakeGql({ transportError: true });
    const p = new RunPrefetch({ gql, limits, maxRuns: 2, log: silentLogger });
    const runs = listed(p, ['a', 'b', 'c']);
    expect(await p.bundle(runs[0])).toBeUndefined();
    expect(await p.bundle(runs[2])).toBeUndefined();
    expect(gql.documents).toEqual([['a', 'b'], ['c']]);
  });

  it('maxRuns 0: no documents at all', async () => {
    const gql = fakeGql();
    const p = new RunPrefetch({ gql, limits, maxRuns: 0, log: silentLogger });
    const runs = listed(p, ['a']);
    expect(await p.bundle(runs[0])).toBeUndefined();
    expect(gql.documents).toEqual([]);
    // what the listing said is still known
    expect(p.countsOf(runs[0])).toEqual({ fileCount: 0, eventsLineCount: 0 });
  });

  it('an abort reaches the runs waiting for the document', async () => {
    const p = new RunPrefetch({
      gql: { graphqlPartial: async () => { throw new GraphQLError('x', 'aborted'); } },
      limits, maxRuns: 2, log: silentLogger,
    });
    const runs = listed(p, ['a', 'b']);
    const ac = new AbortController();
    ac.abort();
    await expect(p.bundle(runs[0], ac.signal)).rejects.toThrow();
  });
});
