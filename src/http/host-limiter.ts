import { RateBudget, rateLimitHeaders } from './rate-limit.ts';
import { sleep } from './sleep.ts';

/**
 * Bounds concurrent requests to one host, paces them to the budget the host announces in its
 * `RateLimit-*` headers (rate-limit.ts), and pauses every request to that host when the host says
 * "slow down" (429). Separate from the retry policy: the policy decides whether and when *this*
 * request retries; the limiter makes the *other* requests wait too, and lowers concurrency for a while.
 */
export interface HostLimiterOptions {
  /** Requests in flight at once. @default 8 */
  concurrency?: number;
  /** After a 429, concurrency drops to this fraction (at least 1) and climbs back by one per success. @default 0.5 */
  backoffFactor?: number;
}

export class HostLimiter {
  private readonly max: number;
  private current: number;
  private active = 0;
  private pausedUntil = 0;
  private readonly waiters: Array<() => void> = [];
  private readonly factor: number;
  private pauseTimer: NodeJS.Timeout | undefined;
  private readonly budget = new RateBudget();

  constructor(opts: HostLimiterOptions = {}) {
    this.max = Math.max(1, opts.concurrency ?? 8);
    this.current = this.max;
    this.factor = opts.backoffFactor ?? 0.5;
  }

  get inFlight(): number {
    return this.active;
  }

  get limit(): number {
    return this.current;
  }

  /** Waits for a slot (and for any pause to end). Returns the release function. */
  async acquire(signal?: AbortSignal): Promise<() => void> {
    while (this.active >= this.current || Date.now() < this.pausedUntil) {
      signal?.throwIfAborted();
      await new Promise<void>((resolve, reject) => {
        const onAbort = () => {
          const i = this.waiters.indexOf(wake);
          if (i >= 0) this.waiters.splice(i, 1);
          reject(signal?.reason ?? new Error('aborted'));
        };
        const wake = () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        };
        signal?.addEventListener('abort', onAbort, { once: true });
        this.waiters.push(wake);
      });
    }
    this.active++;
    const wait = this.budget.reserve(Date.now());
    if (wait > 0) {
      try {
        await sleep(wait, signal);
      } catch (error) {
        this.active--;
        this.wakeOne();
        throw error;
      }
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.active--;
      this.wakeOne();
    };
  }

  /** The host answered 429: pause everyone for `delayMs` and halve concurrency. */
  rateLimited(delayMs: number): void {
    this.current = Math.max(1, Math.floor(this.current * this.factor));
    const until = Date.now() + delayMs;
    if (until > this.pausedUntil) {
      this.pausedUntil = until;
      clearTimeout(this.pauseTimer);
      this.pauseTimer = setTimeout(() => this.wakeAll(), delayMs + 1);
      this.pauseTimer.unref();
    }
  }

  /** An answer came (any status): learn the host's budget from its `RateLimit-*` headers, if it sends them. */
  answered(headers: Record<string, string | string[] | undefined>): void {
    const h = rateLimitHeaders(headers);
    if (h) this.budget.observe(h, Date.now());
  }

  /** A request succeeded: let concurrency climb back towards its maximum. */
  succeeded(): void {
    if (this.current < this.max) {
      this.current++;
      this.wakeOne();
    }
  }

  private wakeOne(): void {
    if (Date.now() < this.pausedUntil) return;
    this.waiters.shift()?.();
  }

  private wakeAll(): void {
    for (const w of this.waiters.splice(0)) w();
  }
}
