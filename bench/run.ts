/**
 * End-to-end benchmarks of the migration (the real CLI, in a child process) against both emulators
 * (each in its own child process). Prints figures, no thresholds; also writes .tmp/bench-results.json.
 *   npm run bench -- [--scenario a|b|all] [--protocol a|b] [--points 5000000] [--runs 500] [--concurrency 16]
 *   (a) one W&B run of --points points (preset big-run), plus a bare reference loop and the ratio;
 *   (b) --runs small runs (preset many-small-runs) with W&B 150 ms/request and 50 requests/s,
 *       Neptune 50 ms/request, migrated --concurrency runs at once.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { arg } from './lib/args.ts';
import { killChildren, ROOT } from './lib/children.ts';
import { scenarioA } from './lib/scenario-a.ts';
import { scenarioB } from './lib/scenario-b.ts';
import { printTable } from './lib/table.ts';

const scenario = arg('scenario', 'all');
if (!['a', 'b', 'all'].includes(scenario)) {
  console.error(`--scenario must be a, b or all (got ${scenario})`);
  process.exit(2);
}
const protocol = arg('protocol', 'a');
if (protocol !== 'a' && protocol !== 'b') {
  console.error(`--protocol must be a or b (got ${protocol})`);
  process.exit(2);
}
const points = Number(arg('points', '5000000'));
const runs = Number(arg('runs', '500'));
const concurrency = Number(arg('concurrency', '16'));

const env = { node: process.version, cores: availableParallelism(), cpu: cpus()[0]?.model ?? '?', date: new Date().toISOString() };
console.log(`node ${env.node} · ${env.cores} cores (${env.cpu}) · ${env.date}`);

const work = mkdtempSync(join(tmpdir(), 'w2n-bench-'));
const controller = new AbortController();
const stop = () => { controller.abort(new Error('interrupted')); killChildren(); rmSync(work, { recursive: true, force: true }); process.exit(130); };
process.on('SIGINT', stop);
process.on('SIGTERM', stop);

const results: Record<string, unknown> = { environment: env };
try {
  if (scenario === 'a' || scenario === 'all') {
    const a = await scenarioA({ points, work: join(work, 'a'), signal: controller.signal, protocol });
    results.a = a;
    printTable(`(a) one run of ${points.toLocaleString('en')} points (preset big-run), Protocol ${protocol.toUpperCase()}`, a.table);
  }
  if (scenario === 'b' || scenario === 'all') {
    const b = await scenarioB({ runs, concurrency, work: join(work, 'b'), signal: controller.signal, protocol });
    results.b = b;
    printTable(`(b) ${runs} small runs, W&B 150 ms + 50 req/s, Neptune 50 ms, --concurrency ${concurrency}`, b.table);
  }
  mkdirSync(join(ROOT, '.tmp'), { recursive: true });
  writeFileSync(join(ROOT, '.tmp', 'bench-results.json'), `${JSON.stringify(results, null, 2)}\n`);
  console.log(`\nresults written to .tmp/bench-results.json`);
} catch (e) {
  console.error(`bench failed: ${e instanceof Error ? e.message : String(e)}`);
  process.exitCode = 1;
} finally {
  killChildren();
  rmSync(work, { recursive: true, force: true });
}
