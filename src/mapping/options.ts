import { PROTOCOL_A_CAPABILITIES, type TargetCapabilities } from './capabilities.ts';

/** What the user asked to carry beyond the defaults (mapping.md, "Left out by default"). */
export type IncludeOption = 'artifacts' | 'tables' | 'internal' | 'media' | 'wandb-files' | 'console-raw';

export const INCLUDE_OPTIONS: readonly IncludeOption[] = ['artifacts', 'tables', 'internal', 'media', 'wandb-files', 'console-raw'];

export interface MappingOptions {
  include: ReadonlySet<IncludeOption>;
  /** What the target can hold (the pipeline sets it from the target); Protocol A when absent. */
  capabilities?: TargetCapabilities;
}

export function capabilitiesOf(opts: MappingOptions): TargetCapabilities {
  return opts.capabilities ?? PROTOCOL_A_CAPABILITIES;
}

export const defaultMappingOptions: MappingOptions = { include: new Set() };

/** The options as a stable key: runs read with other options are read again (see migrate-run). */
export function mappingOptionsKey(opts: MappingOptions): string {
  return [...opts.include].sort().join(',') || 'defaults';
}
