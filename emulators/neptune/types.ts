/** Public types of the Neptune (Protocol A, legacy REST/JSON) emulator. */
import type { ProtocolBHandle, ProtocolBOptions } from '../neptune-b/types.ts';

export interface NeptuneFaultConfig {
  /** Added to every request before it is handled. */
  latencyMs?: number;
  /** Requests allowed per wall-clock second; the rest get 429 + Retry-After. */
  rateLimitPerSecond?: number;
  /** Probability (0..1) that a request gets a 503. */
  status5xxRate?: number;
  /** Probability (0..1) that a request's socket is destroyed without a response. */
  resetRate?: number;
  /** Seed for the probabilistic faults (same seed, same sequence). */
  seed?: number;
  /** The next `count` requests get 429 with exactly this Retry-After. */
  force429?: { count: number; retryAfterSeconds: number };
  /** The next `count` requests get 503. */
  force5xx?: { count: number };
}

export interface NeptuneLimits {
  fieldsPerRun?: number;
  stringMax?: number;
  stringSeriesEntryMax?: number;
  maxSinglePartSize?: number;
  minChunkSize?: number;
  maxChunkSize?: number;
  maxChunkCount?: number;
  maxOperationsPerRequest?: number;
  maxBodyBytes?: number;
}

export interface NeptuneEmulatorOptions {
  port?: number;
  host?: string;
  /** Accepted API keys; default: one random key (reused from the SQLite file if it has one). */
  apiKeys?: string[];
  /** Workspaces (organizations) that exist; default ['demo']. */
  workspaces?: string[];
  /** ':memory:' (default) or a SQLite file path. */
  storage?: ':memory:' | string;
  accessTokenTtlSeconds?: number;
  limits?: NeptuneLimits;
  faults?: NeptuneFaultConfig;
  /** Protocol B (3.x protobuf ingest) settings: emulators/neptune-b. */
  protocolB?: ProtocolBOptions;
}

export interface NeptuneStats {
  requests: number;
  byEndpoint: Record<string, number>;
  status429: number;
  status5xx: number;
  resets: number;
  rejectedOperations: number;
  authFailures: number;
  bodyBytes: number;
}

export interface NeptuneInspect {
  projects(): Array<{ id: string; workspace: string; name: string; key: string; visibility: string; description?: string }>;
  runs(projectQualifiedName: string): Array<{ id: string; shortId: string; customId?: string }>;
  attributes(runId: string): Record<string, { type: string; value?: unknown }>;
  floatSeries(runId: string, path: string): Array<{ step: number; timestampMs: number; value: number }>;
  stringSeries(runId: string, path: string): Array<{ step: number; timestampMs: number; value: string }>;
  stringSet(runId: string, path: string): string[];
  file(runId: string, path: string): Buffer | undefined;
  fileSet(runId: string, path: string): Record<string, Buffer>;
}

export interface NeptuneEmulator {
  url: string;
  apiToken(key?: string): string;
  setFaults(f?: NeptuneFaultConfig): void;
  expireAccessTokens(): void;
  stats(): NeptuneStats;
  inspect: NeptuneInspect;
  /** Protocol B's inspect, faults and processing control. */
  b: ProtocolBHandle;
  close(): Promise<void>;
}

/** Limits with every default filled in. */
export type ResolvedLimits = Required<NeptuneLimits> & { pathMax: number };

export function resolveLimits(l: NeptuneLimits = {}): ResolvedLimits {
  return {
    // docs.neptune.ai/help/error_field_count_limit_exceeded
    fieldsPerRun: l.fieldsPerRun ?? 9000,
    // neptune-client 1.x attributes/atoms/string.py and types/series/string_series.py
    stringMax: l.stringMax ?? 16384,
    stringSeriesEntryMax: l.stringSeriesEntryMax ?? 1000,
    // neptune-client 1.x common/backends/api_model.py MultipartConfig defaults
    maxSinglePartSize: l.maxSinglePartSize ?? 5 * 1024 * 1024,
    minChunkSize: l.minChunkSize ?? 5 * 1024 * 1024,
    maxChunkSize: l.maxChunkSize ?? 1024 * 1024 * 1024,
    maxChunkCount: l.maxChunkCount ?? 1000,
    // Undocumented server-side (neptune-api.md §7 q5); 0 = unlimited.
    maxOperationsPerRequest: l.maxOperationsPerRequest ?? 0,
    maxBodyBytes: l.maxBodyBytes ?? 64 * 1024 * 1024,
    // Legacy limit undocumented; neptune-scale's MAX_ATTRIBUTE_PATH_LENGTH is 1024.
    pathMax: 1024,
  };
}
