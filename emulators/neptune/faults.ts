/** Fault injection: latency, rate limiting, random 5xx and socket resets (seeded), exact one-shots. */
import { mulberry32 as rng } from '../wandb/generator/prng.ts';
import type { NeptuneFaultConfig } from './types.ts';

export type FaultDecision =
  | { kind: 'none' }
  | { kind: '429'; retryAfterSeconds: number }
  | { kind: '503' }
  | { kind: 'reset' };

export class Faults {
  private cfg: NeptuneFaultConfig = {};
  private random: () => number = rng(1);
  private force429Left = 0;
  private force5xxLeft = 0;
  private forceDropLeft = 0;
  private windowStart = 0;
  private windowCount = 0;

  constructor(cfg?: NeptuneFaultConfig) {
    this.set(cfg);
  }

  set(cfg: NeptuneFaultConfig = {}): void {
    this.cfg = { ...cfg };
    this.random = rng(cfg.seed ?? 1);
    this.force429Left = cfg.force429?.count ?? 0;
    this.force5xxLeft = cfg.force5xx?.count ?? 0;
    this.forceDropLeft = cfg.forceDropAfterApply?.count ?? 0;
    this.windowStart = 0;
    this.windowCount = 0;
  }

  get latencyMs(): number {
    return this.cfg.latencyMs ?? 0;
  }

  /** Decides the fate of one request, in a fixed order: one-shots, rate limit, random 5xx, random reset. */
  decide(now = Date.now()): FaultDecision {
    if (this.force5xxLeft > 0) { this.force5xxLeft -= 1; return { kind: '503' }; }
    if (this.force429Left > 0) {
      this.force429Left -= 1;
      return { kind: '429', retryAfterSeconds: this.cfg.force429?.retryAfterSeconds ?? 1 };
    }
    const limit = this.cfg.rateLimitPerSecond;
    if (limit !== undefined && limit > 0) {
      if (now - this.windowStart >= 1000) { this.windowStart = now; this.windowCount = 0; }
      this.windowCount += 1;
      if (this.windowCount > limit) {
        return { kind: '429', retryAfterSeconds: Math.max(1, Math.ceil((this.windowStart + 1000 - now) / 1000)) };
      }
    }
    if ((this.cfg.status5xxRate ?? 0) > 0 && this.random() < (this.cfg.status5xxRate ?? 0)) return { kind: '503' };
    if ((this.cfg.resetRate ?? 0) > 0 && this.random() < (this.cfg.resetRate ?? 0)) return { kind: 'reset' };
    return { kind: 'none' };
  }

  /**
   * Whether this routed request is applied and then its response dropped. Asked after `decide`, once
   * per routed request, so the seeded sequence is the same for the same requests.
   */
  dropAfterApply(operation: string, method: string): boolean {
    const ops = this.cfg.dropAfterApplyOps;
    const eligible = ops ? ops.includes(operation) : method !== 'GET' && method !== 'HEAD';
    if (!eligible) return false;
    if (this.forceDropLeft > 0) { this.forceDropLeft -= 1; return true; }
    const rate = this.cfg.dropAfterApplyRate ?? 0;
    return rate > 0 && this.random() < rate;
  }
}
