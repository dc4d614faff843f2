/**
 * The W&B emulator's command line: every fault the library offers (faults.ts, http.ts) as a flag, each
 * value checked (a typo is an error naming the flag, exit 2, never a silently different emulator).
 */
import { Command, InvalidArgumentError } from 'commander';
import type { FaultConfig } from './server/faults.ts';

export interface EmulatorCliOptions {
  port: number;
  storagePort: number;
  host: string;
  preset: 'all-shapes' | 'big-run' | 'many-small-runs';
  seed: number;
  entity?: string;
  points?: number;
  runs?: number;
  fixture?: string;
  apiKeys: string[];
  workDir?: string;
  exportRowsPerFile?: number;
  urlTtlSeconds: number;
  expiredUrlStatus: 400 | 403;
  faults: FaultConfig;
}

const int = (min: number) => (v: string): number => {
  const n = Number(v);
  if (!/^\d+$/.test(v.trim()) || !Number.isSafeInteger(n) || n < min) throw new InvalidArgumentError(`expected an integer >= ${min}`);
  return n;
};
const rate = (v: string): number => {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n < 0 || n > 1) throw new InvalidArgumentError('expected a fraction between 0 and 1');
  return n;
};
const oneOf = <T extends string>(...allowed: T[]) => (v: string): T => {
  if (!(allowed as string[]).includes(v)) throw new InvalidArgumentError(`expected one of ${allowed.join(', ')}`);
  return v as T;
};
const fileStatus = (v: string, prev: Record<string, number> | undefined): Record<string, number> => {
  const m = /^(.+):(\d{3})$/.exec(v);
  if (!m || Number(m[2]) < 400) throw new InvalidArgumentError('expected NAME:STATUS with a 4xx/5xx status, e.g. wandb-metadata.json:503');
  return { ...prev, [m[1]]: Number(m[2]) };
};
const force429 = (v: string): { count: number; retryAfterSeconds: number } => {
  const m = /^(\d+):(\d+)$/.exec(v.trim());
  if (!m) throw new InvalidArgumentError('expected COUNT:RETRY_AFTER_SECONDS, e.g. 3:2');
  return { count: Number(m[1]), retryAfterSeconds: Number(m[2]) };
};

export function emulatorCommand(): Command {
  return new Command()
    .name('emulator:wandb')
    .description('A loopback W&B read API (GraphQL, /files redirects, signed storage URLs, parquet exports) with seeded faults.')
    .option('--port <n>', 'API port (0 = any free port)', int(0), 8081)
    .option('--storage-port <n>', 'storage origin port, where signed URLs point (0 = any free port)', int(0), 0)
    .option('--host <h>', 'bind address', '127.0.0.1')
    .option('--preset <name>', 'generated entity: all-shapes | big-run | many-small-runs', oneOf('all-shapes', 'big-run', 'many-small-runs'), 'all-shapes')
    .option('--seed <n>', 'generator and fault seed', int(0), 1)
    .option('--entity <name>', 'entity name')
    .option('--points <n>', 'big-run: total points', int(1))
    .option('--runs <n>', 'many-small-runs: run count', int(1))
    .option('--fixture <dir>', 'serve a fixture folder (emulators/wandb/FIXTURES.md) instead of a preset')
    .option('--api-key <key...>', 'accepted API key(s) (required)')
    .option('--work-dir <dir>', 'parquet export cache directory')
    .option('--export-rows-per-file <n>', 'rows per exported parquet file', int(1))
    .option('--url-ttl-seconds <n>', 'lifetime of signed storage URLs (0 = every URL is born expired)', int(0), 3600)
    .option('--expired-url-status <code>', 'status of an expired signed URL: 403 (S3) or 400 (GCS)', oneOf('403', '400'), '403')
    .option('--latency-ms <n>', 'latency added to every request', int(0))
    .option('--rate-limit <n>', 'API requests per second before 429 + Retry-After', int(1))
    .option('--error-rate <x>', 'fraction of requests answered 500/502/503', rate)
    .option('--reset-rate <x>', 'fraction of requests whose connection is reset', rate)
    .option('--truncate-rate <x>', 'fraction of downloads cut off half-way', rate)
    .option('--download-bytes-per-second <n>', 'throttle every download body', int(1))
    .option('--stale-first-urls', "the first file listing and parquet export of each run hand out already-expired signed URLs")
    .option('--fail-file <name:status>', 'storage answers STATUS for the run file NAME, the artifact file <artifact>:<version>/<path>, or the manifest <artifact>:<version> (repeatable)', fileStatus)
    .option('--force-429 <count:seconds>', 'the first COUNT GraphQL requests get 429 with Retry-After SECONDS', force429)
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
}

/** Parses argv (without node and script); throws commander's errors (their exitCode is 2 for mistakes, 0 for --help). */
export function parseEmulatorArgs(argv: string[]): EmulatorCliOptions {
  const cmd = emulatorCommand();
  cmd.parse(argv, { from: 'user' });
  const o = cmd.opts<Record<string, unknown>>();
  const apiKeys = (o.apiKey as string[] | undefined) ?? [];
  if (apiKeys.length === 0) cmd.error('error: at least one --api-key is required', { exitCode: 2, code: 'emulator.missingKey' });
  const faults: FaultConfig = { seed: o.seed as number };
  if (o.latencyMs !== undefined) faults.latencyMs = o.latencyMs as number;
  if (o.rateLimit !== undefined) faults.rateLimitPerSecond = o.rateLimit as number;
  if (o.errorRate !== undefined) faults.status5xxRate = o.errorRate as number;
  if (o.resetRate !== undefined) faults.resetRate = o.resetRate as number;
  if (o.truncateRate !== undefined) faults.truncateRate = o.truncateRate as number;
  if (o.downloadBytesPerSecond !== undefined) faults.downloadBytesPerSecond = o.downloadBytesPerSecond as number;
  if (o.staleFirstUrls === true) faults.staleFirstUrls = true;
  if (o.failFile !== undefined) faults.fileStatus = o.failFile as Record<string, number>;
  if (o.force429 !== undefined) faults.force429 = o.force429 as FaultConfig['force429'];
  return {
    port: o.port as number,
    storagePort: o.storagePort as number,
    host: o.host as string,
    preset: o.preset as EmulatorCliOptions['preset'],
    seed: o.seed as number,
    entity: o.entity as string | undefined,
    points: o.points as number | undefined,
    runs: o.runs as number | undefined,
    fixture: o.fixture as string | undefined,
    apiKeys,
    workDir: o.workDir as string | undefined,
    exportRowsPerFile: o.exportRowsPerFile as number | undefined,
    urlTtlSeconds: o.urlTtlSeconds as number,
    expiredUrlStatus: Number(o.expiredUrlStatus) as 400 | 403,
    faults,
  };
}
