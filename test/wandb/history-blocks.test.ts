/**
 * The W&B source's column path (`historyBlocks`) gives exactly the rows of its row path (`history`):
 * every all-shapes run, through the parquet export (with its live tail) and through the paged scan,
 * from the start and from a step in the middle of the export.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HistoryRow, RunInfo } from '../../src/core/records.ts';
import type { RunSource } from '../../src/core/source.ts';
import { blockRows } from '../../src/sources/history-block.ts';
import { collect, runsOf, startEnv, type Env } from './helpers.ts';

let env: Env;
beforeAll(async () => {
  env = await startEnv();
});
afterAll(async () => {
  await env.close();
});

async function viaBlocks(s: RunSource, info: RunInfo, fromStep?: number): Promise<HistoryRow[]> {
  const rows: HistoryRow[] = [];
  for await (const b of s.historyBlocks!(info, { fromStep })) rows.push(...blockRows(b));
  return rows;
}

function expectSame(actual: HistoryRow[], expected: HistoryRow[], what: string): void {
  expect(actual, what).toEqual(expected);
  expect(actual.map((r) => Object.keys(r.values)), what).toEqual(expected.map((r) => Object.keys(r.values)));
}

describe('W&B historyBlocks equals history', () => {
  it('for every all-shapes run, through the export and through the paged scan, from the start and mid-export', async () => {
    const viaParquet = env.source({ historyPageSize: 10 });
    const viaScan = env.source({ preferParquet: false, historyPageSize: 97 });
    let rows = 0;
    for (const project of env.gen.projects) {
      for (const info of (await runsOf(viaParquet, project.name)).values()) {
        for (const s of [viaParquet, viaScan]) {
          const expected = await collect(s.history(info, {}));
          expectSame(await viaBlocks(s, info), expected, `${info.displayName}`);
          rows += expected.length;
          const mid = expected[Math.floor(expected.length / 2)]?.step;
          if (mid !== undefined) expectSame(await viaBlocks(s, info, mid), await collect(s.history(info, { fromStep: mid })), `${info.displayName} from ${mid}`);
        }
      }
    }
    expect(rows).toBeGreaterThan(1000);
  });

  it('a running run’s live tail after the export comes in blocks too', async () => {
    const s = env.source({ historyPageSize: 10 });
    const project = env.gen.projects.find((p) => p.runs.some((r) => r.displayName === 'running-live-tail'))!;
    const run = project.runs.find((r) => r.displayName === 'running-live-tail')!;
    const info = (await runsOf(s, project.name)).get(run.id)!;
    const from = run.exportedBelowStep - 5;
    const rows = await viaBlocks(s, info, from);
    expectSame(rows, await collect(s.history(info, { fromStep: from })), 'live tail');
    expect(rows.some((r) => r.step >= run.exportedBelowStep)).toBe(true);
  });
});
