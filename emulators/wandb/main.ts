/**
 * CLI: run the W&B emulator until interrupted. `npm run emulator:wandb -- --help` lists every option.
 *   npx tsx emulators/wandb/main.ts --port 8081 --preset all-shapes --seed 1 --api-key KEY
 *     [--fixture DIR] [--url-ttl-seconds N] [--error-rate X --reset-rate X --truncate-rate X ...]
 */
import { CommanderError } from 'commander';
import { parseEmulatorArgs, type EmulatorCliOptions } from './cli-options.ts';
import { loadFixtureFolder } from './fixture-folder.ts';
import { generateEntity } from './generator/generate.ts';
import { startWandbEmulator } from './server/http.ts';

let o: EmulatorCliOptions;
try {
  o = parseEmulatorArgs(process.argv.slice(2));
} catch (e) {
  // --help and --version exit 0; every mistake exits 2 (commander has already printed the message)
  if (e instanceof CommanderError) process.exit(e.exitCode === 0 ? 0 : 2);
  throw e;
}
const entity = o.fixture !== undefined
  ? loadFixtureFolder(o.fixture)
  : generateEntity({ seed: o.seed, preset: o.preset, entity: o.entity, points: o.points, runs: o.runs });

const emu = await startWandbEmulator({
  port: o.port, storagePort: o.storagePort, host: o.host, apiKeys: o.apiKeys, entity, workDir: o.workDir,
  exportRowsPerFile: o.exportRowsPerFile, urlTtlSeconds: o.urlTtlSeconds, expiredUrlStatus: o.expiredUrlStatus, faults: o.faults,
});
const runs = entity.projects.reduce((n, p) => n + p.runs.length, 0);
console.log(`W&B emulator listening on ${emu.url} (entity ${entity.name}: ${entity.projects.length} projects, ${runs} runs; storage ${emu.storageUrl})`);
console.log(`WANDB_BASE_URL=${emu.url}`);
const stop = (): void => { void emu.close().then(() => process.exit(0)); };
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
