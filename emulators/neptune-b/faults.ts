/**
 * Faults on Protocol B's endpoints only (the A pipeline in emulators/neptune/faults.ts applies to
 * every request and is left as it is). What SCALE retries (neptune-api.md §3.5, §3.9: 408, 429,
 * 5xx and connection errors, with a byte-identical body) is what can be injected here.
 */
import type { Ctx } from '../neptune/routes.ts';
import { HttpError } from '../neptune/http-util.ts';
import type { ProtocolBFaults } from './types.ts';

/** `storage`: the bridge (signing, completing) and the signed URLs; `upload`: the signed URLs only (the object store). */
export type BEndpoint = 'ingest' | 'check' | 'storage' | 'upload';

export class BFaults {
  private cfg: ProtocolBFaults = {};
  private left429 = 0;
  private left5xx = 0;
  private leftReset = 0;

  constructor(cfg?: ProtocolBFaults, private readonly onStuck: (v: boolean) => void = () => {}) {
    this.set(cfg);
  }

  set(cfg: ProtocolBFaults = {}): void {
    this.cfg = { ...cfg };
    this.left429 = cfg.force429?.count ?? 0;
    this.left5xx = cfg.force5xx?.count ?? 0;
    this.leftReset = cfg.resetConnections?.count ?? 0;
    this.onStuck(cfg.stuckUnavailable ?? false);
  }

  /** Throws the injected answer, or returns true when the connection was reset (the handler must stop). */
  hit(ctx: Ctx, endpoint: BEndpoint): boolean {
    if (this.cfg.only && this.cfg.only !== endpoint && !(this.cfg.only === 'storage' && endpoint === 'upload')) return false;
    if (this.leftReset > 0) {
      this.leftReset -= 1;
      ctx.req.socket.destroy();
      return true;
    }
    if (this.left5xx > 0) {
      this.left5xx -= 1;
      throw new HttpError(this.cfg.force5xx?.status ?? 503, 'Service temporarily unavailable (injected)');
    }
    if (this.left429 > 0) {
      this.left429 -= 1;
      const after = String(this.cfg.force429?.retryAfterSeconds ?? 1);
      throw new HttpError(429, 'Too many requests (injected)', {}, { 'retry-after': after });
    }
    return false;
  }
}
