import type { Logger } from '../core/logger.ts';
import type { Target } from '../core/sink.ts';
import type { RunSource } from '../core/source.ts';
import type { Ledger } from '../ledger/ledger.ts';
import type { MappingOptions } from '../mapping/options.ts';
import type { EventSink } from './events.ts';
import type { Pool } from './pool.ts';

/** Everything a run migration needs, built once by the composition root (`migrate`). */
export interface MigrationContext {
  source: RunSource;
  target: Target;
  ledger: Ledger;
  mapping: MappingOptions;
  log: Logger;
  emit: EventSink;
  /** Told of every run the selection yields, before its migration starts. */
  onSelected?: (key: import('../core/records.ts').RunKey) => void;
  /** Shared by all runs: bounds concurrent file downloads + uploads. */
  filePool: Pool;
  /** Stop (Ctrl-C): no new run, no new read or batch; what was sent is still waited for (`writeSignal`). */
  signal?: AbortSignal;
  /**
   * Abort what was already sent (a second Ctrl-C, a fatal error): the flushes of batches in flight and,
   * over Protocol B, their status waits. Without it, `signal` aborts them too. Kept apart so a first
   * Ctrl-C lets the server's acknowledgement reach the ledger: cut, the next pass sent those points
   * again (B took them as duplicates: counted right, sent twice).
   */
  writeSignal?: AbortSignal;
  /** Points per acknowledged batch (and ledger commit). @default 20_000 */
  batchPoints: number;
  /** Max bytes of files per file-set upload call. */
  fileBatchBytes: number;
  /** Max files per file-set upload call. */
  fileBatchCount: number;
  toolVersion: string;
  /** `--artifact-max-size` in bytes: artifact files larger than it are left out (too-large). */
  artifactMaxBytes?: number;
  /** Plan only: files are not downloaded, the target only counts. */
  dryRun?: boolean;
}
