import { describe, expect, it } from 'vitest';
import { runPath, type RunKey } from '../../core/records.ts';
import type { GraphqlTransport } from './graphql.ts';
import { listRuns } from './listing.ts';
import { LIST_RUNS } from './queries.ts';

const node = (name: string, extra: Record<string, unknown> = {}) => ({ id: `id-${name}`, name, createdAt: '2024-01-01T00:00:00', historyKeys: { lastStep: 4 }, ...extra });

/** Two pages; the second repeats a run of the first (wandb#7666). */
function fakeGql() {
  const cursors: unknown[] = [];
  const gql = {
    async graphql<T>(query: string, vars: Record<string, unknown>): Promise<T> {
      expect(query).toBe(LIST_RUNS);
      cursors.push(vars.cursor);
      const page = vars.cursor === null
        ? { edges: [{ node: node('a', { fileCount: 3, eventsLineCount: 0 }), cursor: 'c1' }], pageInfo: { endCursor: 'c1', hasNextPage: true } }
        : { edges: [{ node: node('a'), cursor: 'c1' }, { node: node('b', { fileCount: null }), cursor: 'c2' }], pageInfo: { endCursor: 'c2', hasNextPage: false } };
      return { project: { runs: page } } as T;
    },
  };
  return { gql: gql as unknown as GraphqlTransport, cursors };
}

describe('listRuns', () => {
  it('pages by the last cursor, lists each run once, and hands over the counts the listing carries', async () => {
    const { gql, cursors } = fakeGql();
    const out = [];
    for await (const x of listRuns(gql, { entity: 'e', project: 'p', filter: {}, appUrl: 'https://app', pageSize: 50 })) out.push(x);
    expect(cursors).toEqual([null, 'c1']);
    expect(out.map((x) => [x.run.key.runId, x.run.lastStep, x.counts])).toEqual([
      ['a', 4, { fileCount: 3, eventsLineCount: 0 }],
      ['b', 4, {}],
    ]);
  });

  it("de-duplicates by the caller's record when given one, keeping none of its own (issue 13 (c): no set of every run id)", async () => {
    const list = async (listed: (runId: string) => boolean) => {
      const asked: string[] = [];
      const out: string[] = [];
      const o = { entity: 'e', project: 'p', filter: {}, appUrl: 'https://app', pageSize: 50, listed: (k: RunKey) => (asked.push(runPath(k)), listed(k.runId)) };
      for await (const x of listRuns(fakeGql().gql, o)) out.push(x.run.key.runId);
      return { out, asked };
    };
    // The caller records each run as it takes it (the migration's ledger does): the repeat is dropped.
    const taken: string[] = [];
    const recorded = await list((id) => taken.includes(id) || (taken.push(id), false));
    expect(recorded).toEqual({ out: ['a', 'b'], asked: ['e/p/a', 'e/p/a', 'e/p/b'] });
    // A caller whose record says "not listed": the listing hands the repeat over, having kept no record itself.
    expect(await list(() => false)).toEqual({ out: ['a', 'a', 'b'], asked: ['e/p/a', 'e/p/a', 'e/p/b'] });
  });
});
