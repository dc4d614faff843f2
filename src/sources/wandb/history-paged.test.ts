import { describe, expect, it } from 'vitest';
import { SourceDataError } from '../../core/errors.ts';
import type { GraphqlTransport } from './graphql.ts';
import { pagedHistoryScan } from './history-paged.ts';

/** A transport answering HistoryPage windows from fixed row texts. */
function transport(rows: string[]): GraphqlTransport {
  return {
    async graphql(_q: string, vars: { minStep: number; maxStep: number }) {
      const inWindow = rows.filter((t) => {
        const step = Number(/"_step":\s*(\d+)/.exec(t)?.[1]);
        return step >= vars.minStep && step < vars.maxStep;
      });
      return { project: { run: { history: inWindow } } };
    },
  } as unknown as GraphqlTransport;
}

const key = { entity: 'e', project: 'p', runId: 'r' };
const rows = ['{"_step": 0, "loss": NaN}', '{"_step": 1, "loss": oops}', '{"_step": 2, "loss": Infinity}'];

async function collect(o: Parameters<typeof pagedHistoryScan>[0]) {
  const out: unknown[] = [];
  for await (const r of pagedHistoryScan(o)) out.push(r);
  return out;
}

describe('paged history scan', () => {
  it('skips a row that is not valid JSON and reports it, naming the run and the step, when asked to', async () => {
    const bad: SourceDataError[] = [];
    const got = await collect({ gql: transport(rows), key, from: 0, stop: 3, pageSize: 2, onBadRow: (e) => bad.push(e) });
    expect(got).toEqual([{ _step: 0, loss: NaN }, { _step: 2, loss: Infinity }]);
    expect(bad.map((e) => e.message)).toEqual([expect.stringMatching(/^history of e\/p\/r: the history row at step 1 is not valid JSON/)]);
  });

  it('otherwise fails with that error', async () => {
    await expect(collect({ gql: transport(rows), key, from: 0, stop: 3, pageSize: 2 })).rejects.toThrow(/history of e\/p\/r: the history row at step 1/);
  });
});
