import type { Logger } from '../core/logger.ts';
import type { SourceNotice } from '../core/records.ts';
import type { Target } from '../core/sink.ts';
import type { RunSource } from '../core/source.ts';
import type { HttpSettings, Wiring } from './migrate.ts';

/**
 * The composition root's choices: `--source api` reads the W&B API (credentials from WANDB_* and
 * netrc), any other value is a local folder (already resolved and checked); the target is the
 * Neptune server in NEPTUNE_API_TOKEN, speaking Protocol A or B (`--protocol`, by default asked of
 * the server), or a counting dry-run target.
 * Each is loaded when it is made (dynamic imports): a migration from the W&B API over Protocol A never
 * loads the folder reader, the protobuf encoder or the dry-run target, so they cost it no memory.
 */
export function defaultWiring(env: NodeJS.ProcessEnv): Wiring {
  return {
    async makeSource(o: { source: string; entity?: string; log: Logger; onNotice: (n: SourceNotice) => void; http?: HttpSettings; stagingDir?: string }): Promise<RunSource> {
      if (o.source === 'api') {
        const { createWandbSource } = await import('../sources/wandb/index.ts');
        return createWandbSource({ env, entity: o.entity, log: o.log, onNotice: o.onNotice, http: o.http, tmpDir: o.stagingDir });
      }
      const { createLocalSource } = await import('../sources/local/index.ts');
      return createLocalSource({ path: o.source, entity: o.entity, onNotice: o.onNotice });
    },
    async makeTarget(o: { dryRun: boolean; log: Logger; http?: HttpSettings; protocol?: 'a' | 'b' | 'auto'; nan?: 'drop' | 'send' }): Promise<Target> {
      if (o.dryRun) {
        const { plannedProtocol } = await import('../sinks/dry-run/planned-protocol.ts');
        return new (await import('../sinks/dry-run/dry-run-target.ts')).DryRunTarget(plannedProtocol({ protocol: o.protocol, nan: o.nan, env, log: o.log, http: o.http }));
      }
      if (o.protocol === 'a') return new (await import('../sinks/neptune/target.ts')).NeptuneTarget({ env, log: o.log, http: o.http });
      if (o.protocol === 'b') return new (await import('../sinks/neptune-b/target.ts')).NeptuneBTarget({ env, log: o.log, http: o.http, nonFinite: o.nan });
      return new (await import('../sinks/neptune-b/auto.ts')).AutoTarget({ env, log: o.log, http: o.http, nonFinite: o.nan });
    },
  };
}
