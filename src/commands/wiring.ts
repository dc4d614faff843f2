import type { Logger } from '../core/logger.ts';
import type { SourceNotice } from '../core/records.ts';
import type { Target } from '../core/sink.ts';
import type { RunSource } from '../core/source.ts';
import { DryRunTarget } from '../sinks/dry-run/dry-run-target.ts';
import { NeptuneTarget } from '../sinks/neptune/target.ts';
import { createLocalSource } from '../sources/local/index.ts';
import { createWandbSource } from '../sources/wandb/index.ts';
import type { HttpSettings, Wiring } from './migrate.ts';

/**
 * The composition root's choices: `--source api` reads the W&B API (credentials from WANDB_* and
 * netrc), any other value is a local folder (already resolved and checked); the target is the
 * Neptune server in NEPTUNE_API_TOKEN, or a counting dry-run target.
 */
export function defaultWiring(env: NodeJS.ProcessEnv): Wiring {
  return {
    makeSource(o: { source: string; entity?: string; log: Logger; onNotice: (n: SourceNotice) => void; http?: HttpSettings; stagingDir?: string }): RunSource {
      if (o.source === 'api') return createWandbSource({ env, entity: o.entity, log: o.log, onNotice: o.onNotice, http: o.http, tmpDir: o.stagingDir });
      return createLocalSource({ path: o.source, entity: o.entity, onNotice: o.onNotice });
    },
    makeTarget(o: { dryRun: boolean; log: Logger; http?: HttpSettings }): Target {
      if (o.dryRun) return new DryRunTarget();
      return new NeptuneTarget({ env, log: o.log, http: o.http });
    },
  };
}
