import { TargetError } from '../../core/errors.ts';
import { sleep as realSleep } from '../../http/sleep.ts';
import { RPC_UNAVAILABLE } from './codes.ts';
import { MAX_STATUS_IDS, type IngestClient, type IngestOptions } from './ingest.ts';
import type { RequestStatus } from './messages.ts';

interface Waiter {
  ids: readonly string[];
  done: Map<string, RequestStatus>;
  deadline: number;
  signal?: AbortSignal;
  resolve: (statuses: Map<string, RequestStatus>) => void;
  reject: (error: unknown) => void;
}

/**
 * Waits for ingest requests of every run at once: the request ids all runs of a project wait for go
 * into shared `/ingest/check` calls (up to 1000 ids each, neptune-api.md §3.5; neptune-scale too
 * checks the statuses of all its pending requests together, `sync/sync_process.py
 * StatusTrackingThread`), one round at a time per project. Each run waiting on its own cost a check
 * per write: 4 of a small run's 12 requests over B (bench (b)). Same rules as
 * `IngestClient.waitProcessed`: a request is waited for until no status says UNAVAILABLE; polls back
 * off from `firstPollMs` to `maxPollMs`; a wait fails after `processingTimeoutMs`.
 */
export class StatusPoller {
  private readonly waiting = new Map<string, Waiter[]>();
  /** Ends a project's backoff pause early (a new waiter came). */
  private readonly wake = new Map<string, () => void>();
  /** The check in flight per project. */
  private readonly rounds = new Map<string, AbortController>();
  private readonly sleep: NonNullable<IngestOptions['sleep']>;
  private readonly now: () => number;

  constructor(
    private readonly ingest: Pick<IngestClient, 'check'>,
    private readonly opts: IngestOptions = {},
  ) {
    this.sleep = opts.sleep ?? realSleep;
    this.now = opts.now ?? Date.now;
  }

  /** Resolves with every id's status once the server processed them all. */
  wait(project: string, ids: readonly string[], signal?: AbortSignal): Promise<Map<string, RequestStatus>> {
    if (ids.length === 0) return Promise.resolve(new Map());
    signal?.throwIfAborted();
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        this.settle(project, [w], () => reject(signal!.reason));
        // The round in flight may be this run's: it is asked again without it.
        this.rounds.get(project)?.abort(signal!.reason);
      };
      const w: Waiter = {
        ids,
        done: new Map(),
        deadline: this.now() + this.timeoutMs,
        signal,
        resolve: (v) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(v);
        },
        reject: (e) => {
          signal?.removeEventListener('abort', onAbort);
          reject(e);
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      const list = this.waiting.get(project);
      if (list) {
        list.push(w);
        // A round waiting out its backoff starts now: a new request is not held back by older ones.
        this.wake.get(project)?.();
      } else {
        this.waiting.set(project, [w]);
        void this.poll(project);
      }
    });
  }

  private get timeoutMs(): number {
    return this.opts.processingTimeoutMs ?? 600_000;
  }

  /** Rounds of checks for one project while anyone waits on it. */
  private async poll(project: string): Promise<void> {
    let pause = this.opts.firstPollMs ?? 5;
    for (;;) {
      const waiters = this.waiting.get(project) ?? [];
      if (waiters.length === 0) {
        this.waiting.delete(project);
        this.rounds.delete(project);
        return;
      }
      const round = [...waiters];
      const pending = [...new Set(round.flatMap((w) => w.ids.filter((id) => !w.done.has(id))))];
      // Ended when a run of the round stops waiting (not AbortSignal.any: one per round would pile up
      // on the migration's signal).
      const roundStop = new AbortController();
      this.rounds.set(project, roundStop);
      let statuses: Map<string, RequestStatus>;
      try {
        statuses = await this.check(project, pending, roundStop.signal);
      } catch (error) {
        // A run that stopped waiting aborted the round: the others go on.
        if (roundStop.signal.aborted) continue;
        // The check itself failed (after the HTTP client's retries): every run of this round learns it.
        this.settle(project, round, (w) => w.reject(error));
        continue;
      }
      const finished = new Set<Waiter>();
      for (const w of round) {
        for (const id of w.ids) {
          const s = statuses.get(id);
          if (s) w.done.set(id, s);
        }
        if (w.done.size === new Set(w.ids).size) finished.add(w);
      }
      this.settle(project, [...finished], (w) => w.resolve(new Map(w.ids.map((id) => [id, w.done.get(id)!]))));
      const left = (this.waiting.get(project) ?? []).filter((w) => !finished.has(w));
      if (left.length === 0) {
        pause = this.opts.firstPollMs ?? 5;
        continue;
      }
      const late = left.filter((w) => this.now() >= w.deadline);
      this.settle(project, late, (w) => {
        const still = new Set(w.ids.filter((id) => !w.done.has(id))).size;
        w.reject(new TargetError(`Neptune has not processed ${still} ingest request(s) after ${Math.round(this.timeoutMs / 1000)} s (status UNAVAILABLE); run the migration again to resume`));
      });
      // Someone came after this round: their first check is not held back by the others' backoff.
      if (left.some((w) => !round.includes(w))) continue;
      const pauseEnds = new AbortController();
      const woken = new Promise<void>((r) => this.wake.set(project, r));
      await Promise.race([this.sleep(pause, pauseEnds.signal).catch(() => {}), woken]);
      pauseEnds.abort();
      this.wake.delete(project);
      pause = Math.min(pause * 2, this.opts.maxPollMs ?? 1000);
    }
  }

  /** One round: statuses of the processed ids (UNAVAILABLE ones left out). */
  private async check(project: string, ids: readonly string[], signal?: AbortSignal): Promise<Map<string, RequestStatus>> {
    const out = new Map<string, RequestStatus>();
    for (let i = 0; i < ids.length; i += MAX_STATUS_IDS) {
      const chunk = ids.slice(i, i + MAX_STATUS_IDS);
      const statuses = await this.ingest.check(project, chunk, signal);
      chunk.forEach((id, k) => {
        if (!statuses[k].codes.some((c) => c.code === RPC_UNAVAILABLE)) out.set(id, statuses[k]);
      });
    }
    return out;
  }

  private settle(project: string, ws: readonly Waiter[], how: (w: Waiter) => void): void {
    if (ws.length === 0) return;
    const list = this.waiting.get(project) ?? [];
    for (const w of ws) {
      const i = list.indexOf(w);
      if (i >= 0) list.splice(i, 1);
      how(w);
    }
  }
}
