/**
 * CLI: run the W&B emulator until interrupted.
 *   npx tsx emulators/wandb/main.ts --port 8081 --preset all-shapes --seed 1 --api-key KEY
 *     [--fixture DIR] [--latency-ms N --rate-limit N --error-rate X] [--points N --runs N]
 */
import { Command } from 'commander';
import { loadFixtureFolder } from './fixture-folder.ts';
import { generateEntity } from './generator/generate.ts';
import type { GeneratorSpec } from './generator/types.ts';
import { startWandbEmulator } from './server/http.ts';

const program = new Command()
  .name('wandb-emulator')
  .option('--port <n>', 'port (0 = any free port)', '8081')
  .option('--host <h>', 'bind address', '127.0.0.1')
  .option('--preset <name>', 'all-shapes | big-run | many-small-runs', 'all-shapes')
  .option('--seed <n>', 'generator and fault seed', '1')
  .option('--entity <name>', 'entity name')
  .option('--points <n>', 'big-run: total points')
  .option('--runs <n>', 'many-small-runs: run count')
  .option('--fixture <dir>', 'serve a fixture folder instead of a preset')
  .option('--api-key <key...>', 'accepted API key(s)')
  .option('--latency-ms <n>', 'latency added to every request')
  .option('--rate-limit <n>', 'requests per second before 429')
  .option('--error-rate <x>', 'fraction of requests answered 5xx')
  .option('--work-dir <dir>', 'parquet export cache directory')
  .parse();

const o = program.opts<Record<string, string | string[] | undefined>>();
const num = (v: unknown): number | undefined => (typeof v === 'string' ? Number(v) : undefined);
const keys = (o.apiKey as string[] | undefined) ?? [];
if (keys.length === 0) {
  console.error('at least one --api-key is required');
  process.exit(2);
}
const seed = num(o.seed) ?? 1;
const entity = typeof o.fixture === 'string'
  ? loadFixtureFolder(o.fixture)
  : generateEntity({ seed, preset: o.preset as GeneratorSpec['preset'], entity: o.entity as string | undefined, points: num(o.points), runs: num(o.runs) });

const emu = await startWandbEmulator({
  port: num(o.port), host: o.host as string, apiKeys: keys, entity, workDir: o.workDir as string | undefined,
  faults: { seed, latencyMs: num(o.latencyMs), rateLimitPerSecond: num(o.rateLimit), status5xxRate: num(o.errorRate) },
});
const runs = entity.projects.reduce((n, p) => n + p.runs.length, 0);
console.log(`W&B emulator listening on ${emu.url} (entity ${entity.name}: ${entity.projects.length} projects, ${runs} runs)`);
console.log(`WANDB_BASE_URL=${emu.url}`);
const stop = (): void => { void emu.close().then(() => process.exit(0)); };
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
