/**
 * CLI: `npx tsx emulators/neptune/main.ts --port 8082 [--storage file.sqlite] [--api-key K]
 * [--workspace W]... [--latency-ms N] [--rate-limit N] [--token-ttl S]`. Prints the URL and the API
 * token to use, then stays up until SIGINT/SIGTERM.
 */
import { Command } from 'commander';
import { addProtocolBOptions, protocolBOptionsFrom } from '../neptune-b/cli.ts';
import { startNeptuneEmulator } from './server.ts';

const collect = (v: string, acc: string[]) => [...acc, v];
const program = new Command()
  .name('neptune-emulator')
  .option('--port <n>', 'port to listen on', '8082')
  .option('--host <h>', 'address to bind', '127.0.0.1')
  .option('--storage <file>', "SQLite file (default ':memory:')")
  .option('--api-key <key>', 'accepted API key (repeatable)', collect, [] as string[])
  .option('--workspace <name>', 'existing workspace (repeatable; default demo)', collect, [] as string[])
  .option('--latency-ms <n>', 'latency added to each request')
  .option('--rate-limit <n>', 'requests per second before 429')
  .option('--token-ttl <s>', 'access token lifetime in seconds');
addProtocolBOptions(program).parse();

const o = program.opts<{
  port: string; host: string; storage?: string; apiKey: string[]; workspace: string[];
  latencyMs?: string; rateLimit?: string; tokenTtl?: string;
}>();

const emu = await startNeptuneEmulator({
  port: Number(o.port), host: o.host, storage: o.storage,
  apiKeys: o.apiKey.length ? o.apiKey : undefined,
  workspaces: o.workspace.length ? o.workspace : undefined,
  accessTokenTtlSeconds: o.tokenTtl ? Number(o.tokenTtl) : undefined,
  protocolB: protocolBOptionsFrom(program.opts()),
  faults: {
    latencyMs: o.latencyMs ? Number(o.latencyMs) : undefined,
    rateLimitPerSecond: o.rateLimit ? Number(o.rateLimit) : undefined,
  },
});
// This is a local test server: printing its token is the point of the command.
process.stdout.write(`Neptune emulator listening on ${emu.url}\nNEPTUNE_API_TOKEN=${emu.apiToken()}\n`);
const stop = () => void emu.close().then(() => process.exit(0));
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
