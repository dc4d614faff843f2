/**
 * CLI of the Neptune (Protocol A) emulator: `npm run emulator:neptune -- [options]`. Prints the URL,
 * the API token to use and, with --tls, the CA file to trust; stays up until SIGINT/SIGTERM. Every
 * fault the library has is a flag here (see --help).
 */
import { Command, InvalidArgumentError } from 'commander';
import { buildRoutes } from './routes.ts';
import { startNeptuneEmulator } from './server.ts';
import type { NeptuneFaultConfig } from './types.ts';

const collect = (v: string, acc: string[]) => [...acc, v];

function count(v: string): number {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 0) throw new InvalidArgumentError('expected a whole number >= 0');
  return n;
}
function rate(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0 || n > 1) throw new InvalidArgumentError('expected a probability between 0 and 1');
  return n;
}
/** `N` or `N:S` (N responses, Retry-After S seconds). */
function force429(v: string): { count: number; retryAfterSeconds: number } {
  const [n, s = '1'] = v.split(':');
  return { count: count(n), retryAfterSeconds: count(s) };
}

const program = new Command()
  .name('neptune-emulator')
  .description('Loopback Neptune (Protocol A, REST/JSON) server for tests, demos and trying official clients.')
  .option('--port <n>', 'port to listen on', count, 8082)
  .option('--host <h>', 'address to bind', '127.0.0.1')
  .option('--storage <file>', "SQLite file (default ':memory:')")
  .option('--api-key <key>', 'accepted API key (repeatable)', collect, [] as string[])
  .option('--workspace <name>', 'existing workspace (repeatable; default demo)', collect, [] as string[])
  .option('--token-ttl <s>', 'access token lifetime in seconds (default 300, as the hosted server)', count)
  .option('--tls', 'serve HTTPS with a self-signed certificate made at start; prints the CA file to trust')
  .option('--ca-file <path>', 'with --tls: where to write the CA certificate (default: a new temporary folder)')
  .option('--legacy', 'behave as an older server that does not know sys/group_tags (refused per operation)')
  .option('--latency-ms <n>', 'latency added to each request', count)
  .option('--rate-limit <n>', 'requests per second before 429 with Retry-After', count)
  .option('--status-5xx-rate <p>', 'probability that a request gets a 503', rate)
  .option('--reset-rate <p>', 'probability that a request\'s connection is reset without a response', rate)
  .option('--drop-after-apply-rate <p>', 'probability that a write is applied, then its connection closed before the response', rate)
  .option('--drop-after-apply-op <name>', 'operation the drop applies to, e.g. executeOperations (repeatable; default every write)', collect, [] as string[])
  .option('--force-429 <n[:s]>', 'the next n requests get 429 with Retry-After s (default 1)', force429)
  .option('--force-5xx <n>', 'the next n requests get 503', count)
  .option('--force-drop-after-apply <n>', 'the next n eligible writes are applied, then dropped', count)
  .option('--seed <n>', 'seed of the probabilistic faults (same seed, same sequence)', count)
  .addHelpText('after', `
With --tls, make clients trust the printed CA file:
  Node (this project's CLI): NODE_EXTRA_CA_CERTS=<ca file>
  Python (neptune-client 1.x, requests): REQUESTS_CA_BUNDLE=<ca file>; its signals WebSocket: WEBSOCKET_CLIENT_CA_BUNDLE=<ca file>`)
  .showHelpAfterError()
  // A mistyped flag is a usage error: exit 2 (the project's rule), help and --version stay 0.
  .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2))
  .parse();

const o = program.opts<{
  port: number; host: string; storage?: string; apiKey: string[]; workspace: string[]; tokenTtl?: number;
  tls?: boolean; caFile?: string; legacy?: boolean; latencyMs?: number; rateLimit?: number; status5xxRate?: number;
  resetRate?: number; dropAfterApplyRate?: number; dropAfterApplyOp: string[]; force429?: { count: number; retryAfterSeconds: number };
  force5xx?: number; forceDropAfterApply?: number; seed?: number;
}>();
if (o.caFile && !o.tls) program.error('error: --ca-file needs --tls');
const operations = new Set(Object.values(buildRoutes()).map((r) => r.name));
for (const op of o.dropAfterApplyOp) {
  if (!operations.has(op)) program.error(`error: --drop-after-apply-op: no operation '${op}' (e.g. executeOperations, fileSetFileMultipartUploadFinish)`);
}

const faults: NeptuneFaultConfig = {
  latencyMs: o.latencyMs, rateLimitPerSecond: o.rateLimit, status5xxRate: o.status5xxRate, resetRate: o.resetRate,
  dropAfterApplyRate: o.dropAfterApplyRate, dropAfterApplyOps: o.dropAfterApplyOp.length ? o.dropAfterApplyOp : undefined,
  force429: o.force429, force5xx: o.force5xx !== undefined ? { count: o.force5xx } : undefined,
  forceDropAfterApply: o.forceDropAfterApply !== undefined ? { count: o.forceDropAfterApply } : undefined, seed: o.seed,
};
const emu = await startNeptuneEmulator({
  port: o.port, host: o.host, storage: o.storage,
  apiKeys: o.apiKey.length ? o.apiKey : undefined,
  workspaces: o.workspace.length ? o.workspace : undefined,
  accessTokenTtlSeconds: o.tokenTtl,
  tls: o.tls ? { caFile: o.caFile } : undefined,
  legacy: o.legacy,
  faults,
}).catch((e: unknown) => {
  // e.g. EADDRINUSE: one line naming the address, not a stack trace.
  const code = (e as { code?: string }).code;
  process.stderr.write(`error: cannot serve on ${o.host}:${o.port}: ${code === 'EADDRINUSE' ? 'address already in use' : (e as Error).message}\n`);
  process.exit(1);
});
// This is a local test server: printing its token is the point of the command.
process.stdout.write(`Neptune emulator listening on ${emu.url}\nNEPTUNE_API_TOKEN=${emu.apiToken()}\n`);
if (emu.caFile) {
  process.stdout.write(`CA certificate: ${emu.caFile}\n  trust it with NODE_EXTRA_CA_CERTS=${emu.caFile} (Node) or REQUESTS_CA_BUNDLE=${emu.caFile} (Python)\n`);
}
const stop = () => void emu.close().then(() => process.exit(0));
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
