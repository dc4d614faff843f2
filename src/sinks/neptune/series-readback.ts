import type { NeptuneApi } from './api.ts';

const PAGE = 1000;

/**
 * Steps among the last `n` points a series holds (`getFloatSeriesValues` / `getStringSeriesValues`,
 * paged with `offset`/`limit` as every 1.x client does). After a write the server partly refused,
 * the points of that write it kept are all among its last `n`, where `n` is how many were sent.
 * A series the server never created holds nothing.
 */
export async function lastStepsHeld(
  api: NeptuneApi, containerId: string, path: string, kind: 'float' | 'string', n: number, signal?: AbortSignal,
): Promise<number[]> {
  const read = (offset: number, limit: number) =>
    api.json<{ totalItemCount?: unknown; values?: Array<{ step?: unknown }> }>({
      method: 'GET',
      path: `/api/leaderboard/v1/attributes/series/${kind}`,
      query: { experimentId: containerId, attribute: path, offset, limit },
      acceptStatus: [404],
      signal,
      what: `points of ${path}`,
    });
  const head = await read(0, 1);
  const total = head.status === 404 || typeof head.data?.totalItemCount !== 'number' ? 0 : head.data.totalItemCount;
  const steps: number[] = [];
  for (let offset = Math.max(0, total - n); offset < total; offset += PAGE) {
    const { data } = await read(offset, Math.min(PAGE, total - offset));
    for (const v of data?.values ?? []) if (typeof v.step === 'number') steps.push(v.step);
  }
  return steps;
}
