/**
 * Both emulators together, as the demo, the end-to-end tests and the benchmarks need them: a W&B
 * serving a generated (or fixture) entity and an empty Neptune, plus the environment a user would set.
 * Emulator code only: it imports neither the reader nor the writer.
 */
import { startNeptuneEmulator, type NeptuneEmulator, type NeptuneEmulatorOptions } from './neptune/index.ts';
import { startWandbEmulator, type FaultConfig, type GenEntity, type WandbEmulator } from './wandb/index.ts';

export interface Stack {
  wandb: WandbEmulator;
  neptune: NeptuneEmulator;
  entity: GenEntity;
  /** WANDB_BASE_URL, WANDB_API_KEY, WANDB_ENTITY, NEPTUNE_API_TOKEN, NEPTUNE_PROJECT for the CLI. */
  env: Record<string, string>;
  close(): Promise<void>;
}

export const STACK_WANDB_KEY = 'local-wandb-key-0123456789abcdef0123456789abcdef';
export const STACK_WORKSPACE = 'demo';

export async function startStack(opts: {
  entity: GenEntity;
  wandbFaults?: FaultConfig;
  neptune?: NeptuneEmulatorOptions;
  workDir?: string;
}): Promise<Stack> {
  const wandb = await startWandbEmulator({
    apiKeys: [STACK_WANDB_KEY],
    entity: opts.entity,
    faults: opts.wandbFaults,
    workDir: opts.workDir,
    viewer: { username: 'demo-user', defaultEntity: opts.entity.name },
  });
  const neptune = await startNeptuneEmulator({ workspaces: [STACK_WORKSPACE], ...opts.neptune });
  const env = {
    WANDB_BASE_URL: wandb.url,
    WANDB_API_KEY: STACK_WANDB_KEY,
    WANDB_ENTITY: opts.entity.name,
    NEPTUNE_API_TOKEN: neptune.apiToken(),
    NEPTUNE_PROJECT: `${STACK_WORKSPACE}/placeholder`,
  };
  return {
    wandb,
    neptune,
    entity: opts.entity,
    env,
    async close() {
      await Promise.all([wandb.close(), neptune.close()]);
    },
  };
}
