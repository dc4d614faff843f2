/** Command-line flags of Protocol B (added to `npm run emulator:neptune`, emulators/neptune/main.ts). */
import { Command, InvalidArgumentError, Option } from 'commander';
import type { ProtocolBFaults, ProtocolBOptions } from './types.ts';

/** A whole number ≥ 0; anything else is a usage error naming the flag (commander reports it). */
function count(v: string): number {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 0) throw new InvalidArgumentError('expected a whole number >= 0');
  return n;
}

export function addProtocolBOptions(cmd: Command): Command {
  return cmd
    .option('--b-status-delay-ms <n>', 'Protocol B: a request status stays UNAVAILABLE at least this long', count, 300)
    .option('--b-unavailable-checks <n>', 'Protocol B: a request answers UNAVAILABLE to this many status checks first', count, 0)
    .addOption(new Option('--b-nan-inf <mode>', 'Protocol B: float NaN/±Inf accepted or refused with code 32').choices(['accept', 'refuse']).default('refuse'))
    .addOption(new Option('--b-storage <provider>', 'Protocol B: provider of the signed URLs').choices(['aws', 'gcp']).default('aws'))
    .option('--b-url-ttl <s>', 'Protocol B: signed URL lifetime in seconds', count, 3600)
    .option('--b-multipart-threshold <bytes>', 'Protocol B: S3 uploads above this size are multipart', count, 5 * 1024 * 1024)
    .option('--b-part-size <bytes>', 'Protocol B: S3 multipart part size', count, 5 * 1024 * 1024)
    .option('--b-max-request-bytes <n>', 'Protocol B: ingest body limit (413 above)', count, 16 * 1024 * 1024)
    .option('--b-fail-429 <n>', 'Protocol B: the next n B requests get 429', count)
    .option('--b-retry-after <s>', 'Protocol B: Retry-After of those 429s', count, 1)
    .option('--b-fail-5xx <n>', 'Protocol B: the next n B requests get a 5xx', count)
    .option('--b-5xx-status <code>', 'Protocol B: the status of those 5xx', count, 503)
    .option('--b-reset <n>', 'Protocol B: the next n B requests have their connection reset', count)
    .addOption(new Option('--b-faults-on <endpoint>', 'Protocol B: the one-shot faults hit only this endpoint').choices(['ingest', 'check', 'storage', 'upload']))
    .option('--b-stuck', 'Protocol B: every request status stays UNAVAILABLE (nothing is processed)');
}

interface BFlags {
  bStatusDelayMs: number; bUnavailableChecks: number; bNanInf: 'accept' | 'refuse'; bStorage: 'aws' | 'gcp'; bUrlTtl: number;
  bMultipartThreshold: number; bPartSize: number; bMaxRequestBytes: number; bFail429?: number; bRetryAfter: number;
  bFail5xx?: number; b5xxStatus: number; bReset?: number; bFaultsOn?: ProtocolBFaults['only']; bStuck?: boolean;
}

export function protocolBOptionsFrom(opts: Record<string, unknown>): ProtocolBOptions {
  const o = opts as unknown as BFlags;
  const faults: ProtocolBFaults = {
    ...(o.bFail429 !== undefined ? { force429: { count: o.bFail429, retryAfterSeconds: o.bRetryAfter } } : {}),
    ...(o.bFail5xx !== undefined ? { force5xx: { count: o.bFail5xx, status: o.b5xxStatus } } : {}),
    ...(o.bReset !== undefined ? { resetConnections: { count: o.bReset } } : {}),
    ...(o.bFaultsOn !== undefined ? { only: o.bFaultsOn } : {}),
    ...(o.bStuck ? { stuckUnavailable: true } : {}),
  };
  return {
    statusDelayMs: o.bStatusDelayMs, unavailableChecks: o.bUnavailableChecks, nanInf: o.bNanInf, storageProvider: o.bStorage,
    signedUrlTtlSeconds: o.bUrlTtl, multipartThreshold: o.bMultipartThreshold, multipartPartSize: o.bPartSize,
    maxRequestBytes: o.bMaxRequestBytes, faults,
  };
}
