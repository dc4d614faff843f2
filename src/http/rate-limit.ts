/**
 * The server's request budget, learned from its `RateLimit-*` answer headers, spent evenly instead of
 * found by 429s. W&B sends `RateLimit-Limit` and `RateLimit-Remaining` in an opaque unit scaled to
 * 0–1000, and `RateLimit-Reset` in seconds until the window resets (wandb-api.md §1.6, from
 * wandb/docs content/en/guides/models/track/limits.md). The unit a request costs is not said: it is
 * estimated from how far `Remaining` drops per answer (wandb-core estimates it the same way for its
 * upload path: core/internal/api/ratelimittracker.go). Pure: the clock is passed in.
 */
export interface RateLimitHeaders {
  limit?: number;
  remaining: number;
  /** Seconds until the window resets. */
  resetSeconds: number;
}

function header(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const v = headers[name] ?? headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

/** The `RateLimit-*` headers of an answer, when it has usable ones. */
export function rateLimitHeaders(headers: Record<string, string | string[] | undefined>): RateLimitHeaders | undefined {
  const remaining = Number(header(headers, 'ratelimit-remaining'));
  const reset = Number(header(headers, 'ratelimit-reset'));
  if (!Number.isFinite(remaining) || !Number.isFinite(reset) || remaining < 0 || reset < 0) return undefined;
  const limit = Number(header(headers, 'ratelimit-limit'));
  return Number.isFinite(limit) && limit > 0 ? { limit, remaining, resetSeconds: reset } : { remaining, resetSeconds: reset };
}

/** Weight of the newest drop in the running estimate of units per request. */
const SMOOTHING = 0.5;

export class RateBudget {
  private unitsPerRequest: number | undefined;
  private lastRemaining: number | undefined;
  private windowEndsAt = 0;
  /** Earliest time the next request may start. */
  private nextAt = 0;
  private intervalMs = 0;

  /** Learns from one answer's headers, received at `now` (ms). */
  observe(h: RateLimitHeaders, now: number): void {
    const endsAt = now + h.resetSeconds * 1000;
    const sameWindow = this.lastRemaining !== undefined && now < this.windowEndsAt && h.remaining <= this.lastRemaining;
    if (sameWindow) {
      const drop = this.lastRemaining! - h.remaining;
      // Answers overtake each other; only a drop says what one request cost.
      if (drop > 0) this.unitsPerRequest = this.unitsPerRequest === undefined ? drop : SMOOTHING * drop + (1 - SMOOTHING) * this.unitsPerRequest;
    }
    if (!sameWindow) {
      this.lastRemaining = h.remaining;
      this.windowEndsAt = endsAt;
    } else {
      this.lastRemaining = h.remaining;
      // `Reset` is whole seconds rounded up: the earliest end any answer implied is the closest to the truth.
      this.windowEndsAt = Math.min(this.windowEndsAt, endsAt);
    }
    // What is left, spread evenly over the time left.
    const left = this.unitsPerRequest === undefined ? undefined : this.lastRemaining! / this.unitsPerRequest;
    const ms = Math.max(0, this.windowEndsAt - now);
    if (left === undefined) this.intervalMs = this.lastRemaining! <= 0 ? ms : 0;
    else this.intervalMs = left < 1 ? ms : ms / left;
    if (this.lastRemaining! <= 0) this.nextAt = Math.max(this.nextAt, this.windowEndsAt);
  }

  /** Reserves the next request's start; returns how long to wait from `now` (0 = go). */
  reserve(now: number): number {
    const at = Math.max(now, this.nextAt);
    // Past the window's end the budget is whole again and nothing is known of it: no pacing until an answer says.
    this.nextAt = at + (at < this.windowEndsAt ? this.intervalMs : 0);
    return at - now;
  }

  /** Requests per second the budget currently allows (Infinity before anything was learned). */
  get ratePerSecond(): number {
    return this.intervalMs > 0 ? 1000 / this.intervalMs : Infinity;
  }
}
