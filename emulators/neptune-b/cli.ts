/** Command-line flags of Protocol B (added to `npm run emulator:neptune`, emulators/neptune/main.ts). */
import { Command, Option } from 'commander';
import type { ProtocolBFaults, ProtocolBOptions } from './types.ts';

export function addProtocolBOptions(cmd: Command): Command {
  return cmd
    .option('--b-status-delay-ms <n>', 'Protocol B: a request status stays UNAVAILABLE at least this long', '300')
    .option('--b-unavailable-checks <n>', 'Protocol B: a request answers UNAVAILABLE to this many status checks first', '0')
    .addOption(new Option('--b-nan-inf <mode>', 'Protocol B: float NaN/±Inf accepted or refused with code 32').choices(['accept', 'refuse']).default('refuse'))
    .addOption(new Option('--b-storage <provider>', 'Protocol B: provider of the signed URLs').choices(['aws', 'gcp']).default('aws'))
    .option('--b-url-ttl <s>', 'Protocol B: signed URL lifetime in seconds', '3600')
    .option('--b-multipart-threshold <bytes>', 'Protocol B: S3 uploads above this size are multipart', String(5 * 1024 * 1024))
    .option('--b-part-size <bytes>', 'Protocol B: S3 multipart part size', String(5 * 1024 * 1024))
    .option('--b-max-request-bytes <n>', 'Protocol B: ingest body limit (413 above)', String(16 * 1024 * 1024))
    .option('--b-fail-429 <n>', 'Protocol B: the next N B requests get 429')
    .option('--b-retry-after <s>', 'Protocol B: Retry-After of those 429s', '1')
    .option('--b-fail-5xx <n>', 'Protocol B: the next N B requests get a 5xx')
    .option('--b-5xx-status <code>', 'Protocol B: the status of those 5xx', '503')
    .option('--b-reset <n>', 'Protocol B: the next N B requests have their connection reset')
    .addOption(new Option('--b-faults-on <endpoint>', 'Protocol B: the one-shot faults hit only this endpoint').choices(['ingest', 'check', 'storage']))
    .option('--b-stuck', 'Protocol B: every request status stays UNAVAILABLE (nothing is processed)');
}

function num(v: unknown, flag: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) {
    process.stderr.write(`${flag} must be a non-negative number, got '${String(v)}'\n`);
    process.exit(2);
  }
  return n;
}

export function protocolBOptionsFrom(o: Record<string, unknown>): ProtocolBOptions {
  const faults: ProtocolBFaults = {};
  if (o.bFail429 !== undefined) faults.force429 = { count: num(o.bFail429, '--b-fail-429'), retryAfterSeconds: num(o.bRetryAfter, '--b-retry-after') };
  if (o.bFail5xx !== undefined) faults.force5xx = { count: num(o.bFail5xx, '--b-fail-5xx'), status: num(o.b5xxStatus, '--b-5xx-status') };
  if (o.bReset !== undefined) faults.resetConnections = { count: num(o.bReset, '--b-reset') };
  if (o.bFaultsOn !== undefined) faults.only = o.bFaultsOn as ProtocolBFaults['only'];
  if (o.bStuck === true) faults.stuckUnavailable = true;
  return {
    statusDelayMs: num(o.bStatusDelayMs, '--b-status-delay-ms'),
    unavailableChecks: num(o.bUnavailableChecks, '--b-unavailable-checks'),
    nanInf: o.bNanInf as 'accept' | 'refuse',
    storageProvider: o.bStorage as 'aws' | 'gcp',
    signedUrlTtlSeconds: num(o.bUrlTtl, '--b-url-ttl'),
    multipartThreshold: num(o.bMultipartThreshold, '--b-multipart-threshold'),
    multipartPartSize: num(o.bPartSize, '--b-part-size'),
    maxRequestBytes: num(o.bMaxRequestBytes, '--b-max-request-bytes'),
    faults,
  };
}
