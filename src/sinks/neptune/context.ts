import type { Logger } from '../../core/logger.ts';
import type { NeptuneApi } from './api.ts';
import type { NeptuneAuth } from './auth.ts';
import type { NeptuneLimits } from './limits.ts';
import type { NeptuneStats } from './stats.ts';

/** What every container writer shares with its client. */
export interface WriterContext {
  api: NeptuneApi;
  auth: NeptuneAuth;
  limits: NeptuneLimits;
  stats: NeptuneStats;
  log: Logger;
  /**
   * Tests only: send values without the writer's own checks (path, type, int32, lengths, step order),
   * to see what the server does with them. NaN/±Infinity still cannot travel in JSON.
   */
  unsafeSkipChecks: boolean;
}
