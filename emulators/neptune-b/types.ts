/** Public types of the Protocol B half of the Neptune emulator. */

export interface ProtocolBFaults {
  /** The next `count` B requests (ingest, check, storage) get 429 with this Retry-After. */
  force429?: { count: number; retryAfterSeconds: number };
  /** The next `count` B requests get this 5xx status (default 503). */
  force5xx?: { count: number; status?: number };
  /** The next `count` B requests have their connection reset without an answer. */
  resetConnections?: { count: number };
  /** Which B endpoints the one-shot faults above hit (default: all of them); `upload`: the signed storage URLs only, not the bridge. */
  only?: 'ingest' | 'check' | 'storage' | 'upload';
  /** While true, every request status stays UNAVAILABLE and nothing is processed. */
  stuckUnavailable?: boolean;
}

export interface ProtocolBOptions {
  /** A request is processed no earlier than this many ms after it was received (default 0). */
  statusDelayMs?: number;
  /** A request answers UNAVAILABLE to this many status checks before it is processed (default 0). */
  unavailableChecks?: number;
  /**
   * Whether float NaN/±Inf are accepted (newer backends) or refused with code 32
   * (FLOAT_VALUE_NAN_INF_UNSUPPORTED, older backends). Default 'refuse' (neptune-api.md §3.8).
   */
  nanInf?: 'accept' | 'refuse';
  /** Storage provider the signed URLs are for (default 'aws'). */
  storageProvider?: 'aws' | 'gcp';
  /** Signed URL lifetime in seconds (default 3600). */
  signedUrlTtlSeconds?: number;
  /** S3 uploads of more than this many bytes get multipart URLs (default 5 MiB). */
  multipartThreshold?: number;
  /** S3 multipart part size (default 5 MiB, S3's minimum part size). */
  multipartPartSize?: number;
  /** Request body limit of `POST /api/client/v1/ingest` (default 16 MiB, §3.8). */
  maxRequestBytes?: number;
  faults?: ProtocolBFaults;
  /** Clock for the status delay and signed URL expiry (tests inject one; default Date.now). */
  now?: () => number;
}

export interface BAttribute { type: string; value?: unknown }

export interface BPoint<T> { step: number; timestampMs: number; value: T; preview?: { completionRatio: number } }

export interface HistogramValue { type: 'COUNTS' | 'DENSITIES'; edges: number[]; values: number[] }
export interface FileRefValue { path: string; sizeBytes: number; mimeType: string }

/** Test-side read-back of what Protocol B stored (runs addressed by project + B run id). */
export interface ProtocolBInspect {
  run(project: string, runId: string): {
    id: string; shortId: string; family: string; experimentId?: string; creationTimeMs: number;
    forkParent?: { project: string; runId: string; step: number };
  } | undefined;
  /** Every attribute; int64 values come back as bigint, datetimes as ms since the epoch. */
  attributes(project: string, runId: string): Record<string, BAttribute>;
  floatSeries(project: string, runId: string, path: string): Array<BPoint<number>>;
  stringSeries(project: string, runId: string, path: string): Array<BPoint<string>>;
  histogramSeries(project: string, runId: string, path: string): Array<BPoint<HistogramValue>>;
  fileRefSeries(project: string, runId: string, path: string): Array<BPoint<FileRefValue>>;
  stringSet(project: string, runId: string, path: string): string[];
  /** Bytes uploaded through the storage bridge at a storage path (what a FileRef points to). */
  object(project: string, storagePath: string): { data: Buffer; mimeType: string } | undefined;
  /** Request ids received and not yet processed. */
  pendingRequests(): string[];
}

export interface ProtocolBHandle {
  inspect: ProtocolBInspect;
  setFaults(f?: ProtocolBFaults): void;
  /** Processes every received request whose delay and check count allow it (also done by each status check). */
  processReady(): void;
  /** Counters; `decodeMs` (at submit) and `applyMs` (processing) are the emulator's own CPU time for B ingest. */
  stats(): { ingestRequests: number; processed: number; pointsStored: number; duplicatePoints: number; decodeMs: number; applyMs: number;
    /** Bytes the storage received in upload bodies (PUT object, part, GCS chunk). */
    storagePutBytes: number };
  /** Told when the storage stores an object, before it answers (tests kill a client there); returns the unsubscribe. */
  onStored(listener: (o: { project: string; path: string; sizeBytes: number }) => void): () => void;
}
