/**
 * The demo: both emulators started, a generated W&B entity (every run shape) migrated into the
 * Neptune emulator through the real CLI, the report printed, then a check of what landed.
 *   npm run demo
 */
import { spawn } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { startStack } from '../emulators/stack.ts';
import { generateEntity } from '../emulators/wandb/index.ts';

const root = resolve(import.meta.dirname, '..');
const work = join(root, '.tmp', 'demo');
rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });

const entity = generateEntity({ seed: 1, preset: 'all-shapes', entity: 'demo-team' });
const stack = await startStack({ entity, workDir: join(work, 'wandb-export') });
console.log(`W&B emulator:     ${stack.wandb.url}  (entity ${entity.name}: ${entity.projects.length} projects, ${entity.projects.reduce((n, p) => n + p.runs.length, 0)} runs)`);
console.log(`Neptune emulator: ${stack.neptune.url}  (workspace demo)\n`);

function cli(args: string[]): Promise<number> {
  return new Promise((resolveExit) => {
    const child = spawn(process.execPath, [join(root, 'bin/wandb-to-neptune.js'), ...args], {
      cwd: work,
      env: { ...process.env, ...stack.env },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    child.on('exit', (code) => resolveExit(code ?? 1));
  });
}

try {
  const ledger = join(work, 'ledger.sqlite');
  // The emulator serves both protocols (a 3.x server that still serves 2.x clients); the product's
  // default, `--protocol auto`, asks it and picks Protocol B. `verify` asks the same way and reads
  // the runs back through B's own read API.
  const migrateArgs = ['migrate', '--workspace', 'demo', '--projects', 'all', '--yes', '--ledger', ledger];
  console.log('$ wandb-to-neptune migrate --workspace demo --projects all --yes\n');
  const code = await cli(migrateArgs);
  console.log(`\nexit code: ${code}`);

  console.log('\n$ wandb-to-neptune migrate … (again: an unchanged source sends nothing)\n');
  const before = stack.neptune.stats().requests;
  const again = await cli(migrateArgs);
  console.log(`\nexit code: ${again}; requests to Neptune on the second pass: ${stack.neptune.stats().requests - before}`);

  // Read every run back from Neptune and compare it with W&B; the result as an HTML page too.
  const html = join(work, 'report.html');
  console.log('\n$ wandb-to-neptune verify --workspace demo --html report.html\n');
  const verified = await cli(['verify', '--workspace', 'demo', '--ledger', ledger, '--html', html]);
  console.log(`\nexit code: ${verified}\nHTML report of the demo migration: ${html}`);

  // What landed, seen from the Neptune emulator's side.
  console.log('\nIn the Neptune emulator:');
  for (const p of stack.neptune.inspect.projects()) {
    const runs = stack.neptune.inspect.runs(`${p.workspace}/${p.name}`);
    console.log(`  ${p.workspace}/${p.name}: ${runs.length} runs`);
  }
  process.exitCode = code === 0 && again === 0 && verified === 0 ? 0 : code || again || verified;
} finally {
  await stack.close();
}
