import type { Logger } from '../core/logger.ts';
import type { SourceNotice } from '../core/records.ts';
import type { Target } from '../core/sink.ts';
import type { RunSource } from '../core/source.ts';
import { DryRunTarget } from '../sinks/dry-run/dry-run-target.ts';
import { NeptuneTarget } from '../sinks/neptune/target.ts';
import { AutoTarget } from '../sinks/neptune-b/auto.ts';
import { NeptuneBTarget } from '../sinks/neptune-b/target.ts';
import { createLocalSource } from '../sources/local/index.ts';
import { createWandbSource } from '../sources/wandb/index.ts';
import type { HttpSettings, Wiring } from './migrate.ts';

/**
 * The composition root's choices: `--source api` reads the W&B API (credentials from WANDB_* and
 * netrc), any other value is a local folder (already resolved and checked); the target is the
 * Neptune server in NEPTUNE_API_TOKEN, speaking Protocol A or B (`--protocol`, by default asked of
 * the server), or a counting dry-run target.
 */
export function defaultWiring(env: NodeJS.ProcessEnv): Wiring {
  return {
    makeSource(o: { source: string; entity?: string; log: Logger; onNotice: (n: SourceNotice) => void; http?: HttpSettings; stagingDir?: string }): RunSource {
      if (o.source === 'api') return createWandbSource({ env, entity: o.entity, log: o.log, onNotice: o.onNotice, http: o.http, tmpDir: o.stagingDir });
      return createLocalSource({ path: o.source, entity: o.entity, onNotice: o.onNotice });
    },
    makeTarget(o: { dryRun: boolean; log: Logger; http?: HttpSettings; protocol?: 'a' | 'b' | 'auto'; nan?: 'drop' | 'send' }): Target {
      if (o.dryRun) return new DryRunTarget();
      if (o.protocol === 'a') return new NeptuneTarget({ env, log: o.log, http: o.http });
      if (o.protocol === 'b') return new NeptuneBTarget({ env, log: o.log, http: o.http, nonFinite: o.nan });
      return new AutoTarget({ env, log: o.log, http: o.http, nonFinite: o.nan });
    },
  };
}
