/**
 * Seeded fault injection: latency, rate limiting with W&B's 429 headers, 5xx, connection resets
 * and truncated downloads. Same seed and same request order → same faults.
 */
import { mulberry32 } from '../generator/prng.ts';

export interface FaultConfig {
  latencyMs?: number;
  rateLimitPerSecond?: number;
  status5xxRate?: number;
  resetRate?: number;
  truncateRate?: number;
  downloadBytesPerSecond?: number;
  seed?: number;
  /**
   * The first answer that carries signed URLs for each run and field (`files`, `parquetHistory`) hands
   * out URLs that have already expired, as a listing made longer ago than the URL lifetime would (on
   * W&B signed URLs expire, and the SDK refetches them: wandb/sdk/artifacts/storage_policies/_multipart.py
   * `_download_chunk_with_refresh`). Later answers, and `/files/…` redirects, sign fresh ones.
   */
  staleFirstUrls?: boolean;
  /**
   * Storage answers this status for these run files (by name), whoever asks: 404 as for a file deleted
   * after it was listed, 403 as for a URL the bucket no longer honours, 5xx for a failing bucket.
   * An artifact file goes by `<artifact name>:<version>/<path>` (`model:v1/model.bin`), a version's
   * manifest by `<artifact name>:<version>` alone (`model:v1`).
   */
  fileStatus?: Record<string, number>;
  /** Fixed one-shot: the next N GraphQL requests get 429 with this Retry-After (seconds). */
  force429?: { count: number; retryAfterSeconds: number };
}

export type FaultDecision =
  | { kind: 'none'; rateHeaders?: Record<string, string> }
  | { kind: 'reset' }
  | { kind: 'status'; status: number }
  | { kind: '429'; headers: Record<string, string> };

/** Which limits apply: GraphQL and authenticated /files are rate limited; storage URLs are not. */
export type RequestClass = 'graphql' | 'files' | 'storage';

export class FaultInjector {
  private cfg: FaultConfig = {};
  private rand: () => number = mulberry32(0);
  private forced = 0;
  private windowStart = 0;
  private windowCount = 0;

  constructor(cfg: FaultConfig | undefined, private readonly now: () => number) {
    this.set(cfg);
  }

  set(cfg: FaultConfig | undefined): void {
    this.cfg = { ...(cfg ?? {}) };
    this.rand = mulberry32(this.cfg.seed ?? 0);
    this.forced = this.cfg.force429?.count ?? 0;
    this.windowStart = 0;
    this.windowCount = 0;
  }

  private staleServed = new Set<string>();

  /** Whether URLs signed for this answer (`<field>:<entity>/<project>/<run>`) are stale; true once per key. */
  staleUrls(key: string): boolean {
    if (!this.cfg.staleFirstUrls || this.staleServed.has(key)) return false;
    this.staleServed.add(key);
    return true;
  }

  /** The status storage answers for this run file, when a fault makes it fail. */
  fileStatus(name: string): number | undefined {
    return this.cfg.fileStatus?.[name];
  }

  get latencyMs(): number {
    return this.cfg.latencyMs ?? 0;
  }

  get downloadBytesPerSecond(): number | undefined {
    return this.cfg.downloadBytesPerSecond;
  }

  private draw(rate: number | undefined): boolean {
    return rate !== undefined && rate > 0 && this.rand() < rate;
  }

  decide(cls: RequestClass): FaultDecision {
    if (cls === 'graphql' && this.forced > 0 && this.cfg.force429) {
      this.forced--;
      const s = String(this.cfg.force429.retryAfterSeconds);
      return { kind: '429', headers: { 'Retry-After': s, 'RateLimit-Limit': '1000', 'RateLimit-Remaining': '0', 'RateLimit-Reset': s } };
    }
    if (this.draw(this.cfg.resetRate)) return { kind: 'reset' };
    if (this.draw(this.cfg.status5xxRate)) return { kind: 'status', status: [500, 502, 503][Math.floor(this.rand() * 3)] };
    const limit = this.cfg.rateLimitPerSecond;
    if (limit && cls !== 'storage') {
      const t = this.now();
      if (t - this.windowStart >= 1000) {
        this.windowStart = t;
        this.windowCount = 0;
      }
      const resetS = String(Math.max(1, Math.ceil((this.windowStart + 1000 - t) / 1000)));
      this.windowCount++;
      if (this.windowCount > limit) {
        return { kind: '429', headers: { 'Retry-After': resetS, 'RateLimit-Limit': '1000', 'RateLimit-Remaining': '0', 'RateLimit-Reset': resetS } };
      }
      // Every answer carries the budget, as W&B's rate limiter answers (wandb/docs
      // content/en/guides/models/track/limits.md @ 09a8990, quoted in wandb-api.md §1.6):
      // `RateLimit-Limit` and `RateLimit-Remaining` are the quota scaled to 0–1000, `RateLimit-Reset` the
      // seconds until the window resets; wandb-core reads them off answers
      // (core/internal/api/ratelimitheaders.go, ratelimittracker.go).
      const remaining = String(Math.floor(((limit - this.windowCount) / limit) * 1000));
      return { kind: 'none', rateHeaders: { 'RateLimit-Limit': '1000', 'RateLimit-Remaining': remaining, 'RateLimit-Reset': resetS } };
    }
    return { kind: 'none' };
  }

  /** Drawn once per download body. */
  truncateDownload(): boolean {
    return this.draw(this.cfg.truncateRate);
  }
}
