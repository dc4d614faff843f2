/** What an emulator child starts: the W&B emulator with a generated entity, or an empty Neptune. */
import { STACK_WANDB_KEY, STACK_WORKSPACE } from '../../emulators/stack.ts';
import { startNeptuneEmulator, type NeptuneFaultConfig } from '../../emulators/neptune/index.ts';
import type { ProtocolBOptions } from '../../emulators/neptune-b/types.ts';
import { startWandbEmulator, type FaultConfig } from '../../emulators/wandb/index.ts';
import { buildEntity, type EntityRecipe } from './entities.ts';

export type EmulatorConfig =
  | { kind: 'wandb'; entity: EntityRecipe; faults?: FaultConfig; workDir: string; exportPages?: 'v1' | 'v2' }
  | { kind: 'neptune'; faults?: NeptuneFaultConfig; protocolB?: ProtocolBOptions };

export interface EmulatorInfo {
  url: string;
  /** Environment variables the CLI needs to reach this emulator. */
  env: Record<string, string>;
  /** W&B only: entity, project and run ids (scenario a reads the export of the first run). */
  runs?: Array<{ project: string; runId: string; rows: number }>;
}

export async function startStackPart(cfg: EmulatorConfig): Promise<{ info: EmulatorInfo; stats(): unknown; close(): Promise<void> }> {
  if (cfg.kind === 'wandb') {
    const entity = buildEntity(cfg.entity);
    const emu = await startWandbEmulator({
      apiKeys: [STACK_WANDB_KEY], entity, faults: cfg.faults, workDir: cfg.workDir, exportPages: cfg.exportPages,
      viewer: { username: 'bench-user', defaultEntity: entity.name },
    });
    const runs = entity.projects.flatMap((p) => p.runs.map((r) => ({ project: p.name, runId: r.id, rows: r.historyRowCount })));
    return {
      info: { url: emu.url, env: { WANDB_BASE_URL: emu.url, WANDB_API_KEY: STACK_WANDB_KEY, WANDB_ENTITY: entity.name }, runs },
      stats: () => emu.stats(),
      close: () => emu.close(),
    };
  }
  const emu = await startNeptuneEmulator({ workspaces: [STACK_WORKSPACE], faults: cfg.faults, protocolB: cfg.protocolB });
  return {
    info: { url: emu.url, env: { NEPTUNE_API_TOKEN: emu.apiToken(), NEPTUNE_PROJECT: `${STACK_WORKSPACE}/placeholder` } },
    stats: () => ({ ...emu.stats(), b: emu.b.stats() }),
    close: () => emu.close(),
  };
}
