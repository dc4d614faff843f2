import { describe, expect, it } from 'vitest';
import { RPC_UNAVAILABLE } from './codes.ts';
import type { RequestStatus } from './messages.ts';
import { StatusPoller } from './status-poller.ts';

const OK: RequestStatus = { codes: [{ code: 0, count: 1, detail: 0 }] };
const NOT_YET: RequestStatus = { codes: [{ code: RPC_UNAVAILABLE, count: 1, detail: 0 }] };
const DUPLICATE: RequestStatus = { codes: [{ code: 0, count: 1, detail: 11 }] };

/** A status endpoint whose answers the test releases one call at a time. */
function fakeServer() {
  const calls: Array<{ project: string; ids: readonly string[]; answer: (by: (id: string) => RequestStatus) => void; fail: (e: unknown) => void }> = [];
  let arrived: (() => void) | undefined;
  const ingest = {
    check(project: string, ids: readonly string[], signal?: AbortSignal): Promise<RequestStatus[]> {
      return new Promise((resolve, reject) => {
        signal?.addEventListener('abort', () => reject(signal.reason), { once: true });
        calls.push({ project, ids, answer: (by) => resolve(ids.map(by)), fail: reject });
        arrived?.();
      });
    },
  };
  const nextCall = async () => {
    while (calls.length === 0) await new Promise<void>((r) => (arrived = r));
    return calls.shift()!;
  };
  return { ingest, nextCall, pending: () => calls.length };
}

describe('StatusPoller: the statuses of every run in shared checks', () => {
  it('runs waiting at once share one check; each gets its own statuses', async () => {
    const server = fakeServer();
    const poller = new StatusPoller(server.ingest, { sleep: async () => {} });
    const a = poller.wait('ws/p', ['a1', 'a2']);
    const first = await server.nextCall();
    expect(first.ids).toEqual(['a1', 'a2']);
    // Two more runs ask while the first check is in flight: they go into the next one, together.
    const b = poller.wait('ws/p', ['b1']);
    const c = poller.wait('ws/p', ['c1']);
    first.answer((id) => (id === 'a2' ? DUPLICATE : OK));
    expect(Object.fromEntries(await a)).toEqual({ a1: OK, a2: DUPLICATE });
    const second = await server.nextCall();
    expect(second.ids).toEqual(['b1', 'c1']);
    second.answer(() => OK);
    expect([...(await b).keys()]).toEqual(['b1']);
    expect([...(await c).keys()]).toEqual(['c1']);
    expect(server.pending()).toBe(0);
  });

  it('an id not processed yet is asked again after a pause that grows; a newcomer ends the pause', async () => {
    const server = fakeServer();
    const pauses: number[] = [];
    let endPause: (() => void) | undefined;
    const sleep = (ms: number) => {
      pauses.push(ms);
      return new Promise<void>((r) => (endPause = r));
    };
    const poller = new StatusPoller(server.ingest, { sleep, firstPollMs: 5, maxPollMs: 8 });
    const a = poller.wait('ws/p', ['a1']);
    (await server.nextCall()).answer(() => NOT_YET);
    await new Promise((r) => setImmediate(r));
    expect(pauses).toEqual([5]);
    endPause!();
    (await server.nextCall()).answer(() => NOT_YET);
    await new Promise((r) => setImmediate(r));
    expect(pauses).toEqual([5, 8]);
    // A new run's request is checked now, with the old one, not after the pause.
    const b = poller.wait('ws/p', ['b1']);
    const both = await server.nextCall();
    expect(both.ids).toEqual(['a1', 'b1']);
    both.answer(() => OK);
    expect([...(await a).keys(), ...(await b).keys()]).toEqual(['a1', 'b1']);
  });

  it('a request still unprocessed after the timeout fails that wait only, naming the cause', async () => {
    const server = fakeServer();
    let now = 0;
    const poller = new StatusPoller(server.ingest, { sleep: async () => {}, now: () => now, processingTimeoutMs: 1000 });
    const stuck = poller.wait('ws/p', ['s1']);
    const stuckFailed = stuck.catch((e: unknown) => e);
    (await server.nextCall()).answer(() => NOT_YET);
    now = 500;
    const fine = poller.wait('ws/p', ['f1']);
    (await server.nextCall()).answer((id) => (id === 's1' ? NOT_YET : OK));
    expect([...(await fine).keys()]).toEqual(['f1']);
    now = 1000;
    (await server.nextCall()).answer(() => NOT_YET);
    expect(String(await stuckFailed)).toMatch(/has not processed 1 ingest request\(s\) after 1 s \(status UNAVAILABLE\)/);
  });

  it('a run that stops waiting (abort) leaves the others waiting; a failed check fails the runs that waited on it', async () => {
    const server = fakeServer();
    const poller = new StatusPoller(server.ingest, { sleep: async () => {} });
    const stop = new AbortController();
    const gone = poller.wait('ws/p', ['x1'], stop.signal).catch((e: unknown) => e);
    const kept = poller.wait('ws/p', ['k1'], new AbortController().signal);
    // The check in flight (x1's) is given up with x1's wait; k1 is asked in the next one.
    const first = await server.nextCall();
    expect(first.ids).toEqual(['x1']);
    stop.abort(new Error('stopped'));
    expect(String(await gone)).toMatch(/stopped/);
    const second = await server.nextCall();
    expect(second.ids).toEqual(['k1']);
    second.fail(new Error('HTTP 500 after retries'));
    await expect(kept).rejects.toThrow(/HTTP 500 after retries/);
  });

  it('projects are checked apart (the check names its project)', async () => {
    const server = fakeServer();
    const poller = new StatusPoller(server.ingest, { sleep: async () => {} });
    const p = poller.wait('ws/p', ['p1']);
    const q = poller.wait('ws/q', ['q1']);
    const calls = [await server.nextCall(), await server.nextCall()];
    expect(calls.map((c) => [c.project, c.ids])).toEqual([['ws/p', ['p1']], ['ws/q', ['q1']]]);
    for (const c of calls) c.answer(() => OK);
    expect([...(await p).keys(), ...(await q).keys()]).toEqual(['p1', 'q1']);
  });
});
