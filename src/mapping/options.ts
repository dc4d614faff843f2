import { PROTOCOL_A_CAPABILITIES, type TargetCapabilities } from './capabilities.ts';

/**
 * What the user asked to carry beyond the defaults (mapping.md, "Left out by default"). `media` is the
 * old name of `media-files` (the raw `media/` run files), kept working with a notice.
 */
export type IncludeOption = 'artifacts' | 'tables' | 'internal' | 'media' | 'media-files' | 'wandb-files' | 'console-raw';

export const INCLUDE_OPTIONS: readonly IncludeOption[] = ['artifacts', 'tables', 'internal', 'media', 'media-files', 'wandb-files', 'console-raw'];

/** What is carried by default and may be left out (mapping.md: media, tables, histograms, lists). */
export type ExcludeOption = 'media' | 'tables' | 'histograms' | 'lists';

export const EXCLUDE_OPTIONS: readonly ExcludeOption[] = ['media', 'tables', 'histograms', 'lists'];

export interface MappingOptions {
  include: ReadonlySet<IncludeOption>;
  /** Left out on request; absent means nothing is. */
  exclude?: ReadonlySet<ExcludeOption>;
  /** What the target can hold (the pipeline sets it from the target); Protocol A when absent. */
  capabilities?: TargetCapabilities;
}

export function capabilitiesOf(opts: MappingOptions): TargetCapabilities {
  return opts.capabilities ?? PROTOCOL_A_CAPABILITIES;
}

export const defaultMappingOptions: MappingOptions = { include: new Set() };

/** True when the raw `media/` run files are asked for (`--include media-files`, or its old name). */
export function includesMediaFiles(opts: MappingOptions): boolean {
  return opts.include.has('media-files') || opts.include.has('media');
}

/** The options as a stable key: runs read with other options are read again (see migrate-run). */
export function mappingOptionsKey(opts: MappingOptions): string {
  const inc = [...opts.include].sort().join(',');
  const exc = [...(opts.exclude ?? [])].sort().map((x) => `-${x}`).join(',');
  // A run migrated before exclusions existed keeps its key when none are given.
  return [inc, exc].filter(Boolean).join(',') || 'defaults';
}
