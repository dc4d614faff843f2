/**
 * End-to-end benchmarks of the migration (the real CLI, in a child process, started as a user starts it)
 * against both emulators (each in its own child process). Prints figures, no thresholds; writes
 * .tmp/bench-results.json. CPU is the migration process's own process.cpuUsage() (stable on a shared
 * machine); wall time is shown beside it.
 *   npm run bench -- [--scenario a|b|c|d|all|a,c] [--protocol a|b] [--node both|current|24] [--node-flags "<V8 flags>"]
 *                    [--points 5000000] [--runs 500] [--concurrency 16] [--c-runs 10000] [--c-projects 5]
 *                    [--d-runs 8] [--d-points 2000000] [--d-concurrency 8] [--export-pages v2|v1]
 *   (a) one W&B run of --points points (preset big-run), plus a bare reference loop and the ratio (--bare no:
 *       without it);
 *   (b) --runs small runs (preset many-small-runs), W&B 150 ms/request and 50 requests/s, Neptune 50 ms;
 *   (c) --c-runs small runs in --c-projects projects, same latencies, then the same migration again with
 *       nothing changed (its time and requests); with the memory against the run count (lib/memory-growth.ts:
 *       the heap after each full GC and the RSS, first vs last tenth of the runs, slope in bytes per run,
 *       each tenth's medians). W2N_BENCH_SNAPSHOT_AT=2000,9000 with --node-flags "--heapsnapshot-signal=SIGUSR2
 *       --diagnostic-dir=<dir>" takes heap snapshots as those runs have finished;
 *   (d) --d-runs big runs of --d-points points each, --d-concurrency at once, no added latency.
 *   --node both (default) runs everything on this Node and again on Node 24 (.ci/node24 fetches it);
 *   --node-flags adds Node/V8 flags to the migration process (to measure heap settings).
 *   --heap-sweep [--heap-settings "label=flags;…"] [--rounds 2]: instead of the tables above, scenario a
 *       and/or d run once per heap setting per round, printing CPU-s per million points and peak RSS for
 *       each (lib/heap-sweep.ts: how the CLI's own settings are chosen and re-checked).
 *   dist/ is built first (as `npm install` does), so the CLI measured is the compiled one users run
 *   (--build no: as it is).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { arg } from './lib/args.ts';
import { buildDist, distIsCurrent } from './lib/build.ts';
import { killChildren, ROOT } from './lib/children.ts';
import { DEFAULT_SETTINGS, heapSweep, parseSettings, printSweep } from './lib/heap-sweep.ts';
import { scenarioA } from './lib/scenario-a.ts';
import { scenarioRuns } from './lib/scenario-runs.ts';
import { printTable } from './lib/table.ts';

const usage = (msg: string): never => { console.error(`npm run bench: ${msg}`); process.exit(2); };
const num = (name: string, fallback: string): number => {
  const v = Number(arg(name, fallback));
  return Number.isInteger(v) && v > 0 ? v : usage(`--${name} must be a positive integer (got ${arg(name, fallback)})`);
};
const ALL = ['a', 'b', 'c', 'd'];
const picked = arg('scenario', 'all').split(',').flatMap((s) => (s === 'all' ? ALL : [s]));
for (const s of picked) if (!ALL.includes(s)) usage(`--scenario must be a, b, c, d or all, or a list like a,c (got ${s})`);
const node = arg('node', 'both');
if (!['both', 'current', '20', '24'].includes(node)) usage(`--node must be both, current, 20 or 24 (got ${node})`);
const major = Number(process.versions.node.split('.')[0]);
if (node === '20' && major !== 20) usage(`--node 20 needs the bench started by Node 20 (this is ${process.version}); use --node current`);
const resultsPath = arg('results', join(ROOT, '.tmp', 'bench-results.json'));
mkdirSync(dirname(resultsPath), { recursive: true });

// Built once, by the first bench process (the per-version ones it starts get --build no).
if (arg('build', 'yes') === 'yes') buildDist();
else if (!distIsCurrent()) console.error('npm run bench: warning: dist/ is older than src/, so the CLI measured is the TypeScript sources through tsx (more memory and CPU than users see); drop --build no');

if (node === 'both' || (node === '24' && major !== 24)) {
  // One bench process per Node version; each writes its results, gathered here into one file.
  const own = ['--node', '--results', '--build'];
  const passOn = process.argv.slice(2).filter((a, i, all) => !own.includes(a) && !own.includes(all[i - 1]));
  const versions = node === 'both' ? (major === 24 ? ['current'] : ['current', '24']) : ['24'];
  const byNode: Record<string, unknown> = {};
  for (const v of versions) {
    const out = join(mkdtempSync(join(tmpdir(), 'w2n-bench-')), 'results.json');
    const cmd = [process.execPath, '--import', import.meta.resolve('tsx'), join(ROOT, 'bench', 'run.ts'), ...passOn, '--node', 'current', '--results', out, '--build', 'no'];
    const r = v === '24' ? spawnSync(join(ROOT, '.ci', 'node24'), ['node', ...cmd.slice(1)], { stdio: 'inherit' }) : spawnSync(cmd[0], cmd.slice(1), { stdio: 'inherit' });
    if (r.status !== 0) { console.error(`bench on node ${v} failed (exit ${r.status ?? r.signal})`); process.exitCode = 1; continue; }
    const res = JSON.parse(readFileSync(out, 'utf8')) as { environment: { node: string } };
    byNode[res.environment.node] = res;
    rmSync(dirname(out), { recursive: true, force: true });
  }
  writeFileSync(resultsPath, `${JSON.stringify({ byNode }, null, 2)}\n`);
  console.log(`\nresults of ${Object.keys(byNode).join(' and ')} written to ${resultsPath}`);
  process.exit();
}

const env = { node: process.version, cores: availableParallelism(), cpu: cpus()[0]?.model ?? '?', loadAverage1m: loadavg()[0], date: new Date().toISOString() };
console.log(`\nnode ${env.node} · ${env.cores} cores (${env.cpu}) · load average ${env.loadAverage1m.toFixed(1)} · ${env.date}`);
const nodeFlags = arg('node-flags', '').split(/\s+/).filter(Boolean);
// The Neptune emulator serves both protocols; the product's `auto` would pick B there. Say which.
const protocolArg = arg('protocol', 'a');
if (protocolArg !== 'a' && protocolArg !== 'b') usage(`--protocol must be a or b (got ${protocolArg})`);
const protocol = protocolArg as 'a' | 'b';
// The W&B emulator's export pages: DATA_PAGE_V2 (hyparquet-writer's) or v1 (pyarrow's default, likely a real export's).
const exportPages = arg('export-pages', 'v2') as 'v1' | 'v2';
if (!['v1', 'v2'].includes(exportPages)) usage(`--export-pages must be v1 or v2 (got ${exportPages})`);

const work = mkdtempSync(join(tmpdir(), 'w2n-bench-'));
const controller = new AbortController();
const stop = () => { controller.abort(new Error('interrupted')); killChildren(); rmSync(work, { recursive: true, force: true }); process.exit(130); };
process.on('SIGINT', stop);
process.on('SIGTERM', stop);

if (process.argv.includes('--heap-sweep')) {
  const sweepable = ['a', 'd'];
  const scenarios = picked.filter((s) => sweepable.includes(s));
  if (scenarios.length === 0 || scenarios.length !== picked.length) usage(`--heap-sweep measures scenarios a and d only: give --scenario a, d or a,d (got ${picked.join(',')})`);
  if (nodeFlags.length > 0) usage('--heap-sweep takes its flags from --heap-settings, not --node-flags');
  let settings = DEFAULT_SETTINGS;
  try {
    if (arg('heap-settings', '') !== '') settings = parseSettings(arg('heap-settings', ''));
  } catch (e) {
    usage((e as Error).message);
  }
  const rounds = num('rounds', '2');
  const sweeps: Record<string, unknown> = {};
  await measure(async () => {
    for (const s of scenarios) {
      const points = s === 'a' ? num('points', '5000000') : num('d-points', '2000000');
      const runs = s === 'a' ? 1 : num('d-runs', '8');
      const concurrency = s === 'a' ? 1 : num('d-concurrency', '8');
      const title = `(${s}) heap sweep: ${runs} × ${points.toLocaleString('en')} points, --concurrency ${concurrency}, Protocol ${protocol.toUpperCase()}, ${rounds} round(s), node ${env.node}`;
      console.log(`\n${title}: ${settings.length} settings × ${rounds} rounds…`);
      const rows = await heapSweep({
        entity: s === 'a' ? { kind: 'preset', spec: { seed: 1, preset: 'big-run', points } } : { kind: 'big-runs', runs, points },
        concurrency, protocol, settings, rounds, work: join(work, `sweep-${s}`),
        onRow: (r) => console.log(`  round ${r.round} ${r.label}: ${r.cpuSecondsPerMillionPoints?.toFixed(2) ?? '-'} CPU-s/M, ${r.peakRssMb} MB (load ${r.loadAverage1m[0].toFixed(1)})`),
      });
      printSweep(title, rows);
      sweeps[s] = { runs, points, concurrency, protocol, rounds, rows };
    }
    return { environment: env, heapSweep: sweeps };
  });
  process.exit();
}
const SMALL_RUN_LATENCY = { wandbFaults: { latencyMs: 150, rateLimitPerSecond: 50 }, neptuneFaults: { latencyMs: 50 } };
const results: Record<string, unknown> = { environment: { ...env, nodeFlags } };
await measure(async () => {
  if (picked.includes('a')) {
    const points = num('points', '5000000');
    const bare = arg('bare', 'yes');
    if (!['yes', 'no'].includes(bare)) usage(`--bare must be yes or no (got ${bare})`);
    const a = await scenarioA({ points, work: join(work, 'a'), signal: controller.signal, nodeFlags, bare: bare === 'yes', protocol, exportPages });
    results.a = a;
    printTable(`(a) one run of ${points.toLocaleString('en')} points (preset big-run), Protocol ${protocol.toUpperCase()}`, a.table);
  }
  if (picked.includes('b')) {
    const runs = num('runs', '500');
    const concurrency = num('concurrency', '16');
    const b = await scenarioRuns({ entity: { kind: 'preset', spec: { seed: 1, preset: 'many-small-runs', runs } }, runs, concurrency, ...SMALL_RUN_LATENCY, nodeFlags, protocol, work: join(work, 'b') });
    results.b = b;
    printTable(`(b) ${runs} small runs, W&B 150 ms + 50 req/s, Neptune 50 ms, --concurrency ${concurrency}`, b.table);
  }
  if (picked.includes('c')) {
    const runs = num('c-runs', '10000');
    const projects = num('c-projects', '5');
    const concurrency = num('concurrency', '16');
    const c = await scenarioRuns({ entity: { kind: 'small-runs-in-projects', runs, projects }, runs, concurrency, ...SMALL_RUN_LATENCY, rerun: true, nodeFlags, protocol, work: join(work, 'c') });
    results.c = c;
    printTable(`(c) ${runs} small runs in ${projects} projects, Protocol ${protocol.toUpperCase()}, W&B 150 ms + 50 req/s, Neptune 50 ms, --concurrency ${concurrency}; then again, nothing changed`, c.table);
  }
  if (picked.includes('d')) {
    const runs = num('d-runs', '8');
    const points = num('d-points', '2000000');
    const concurrency = num('d-concurrency', '8');
    const d = await scenarioRuns({ entity: { kind: 'big-runs', runs, points }, runs, concurrency, nodeFlags, protocol, work: join(work, 'd') });
    results.d = d;
    printTable(`(d) ${runs} runs of ${points.toLocaleString('en')} points, --concurrency ${concurrency}`, d.table);
  }
  return results;
});

/** Runs the measurements, writes what they return as the results file, and always cleans up. */
async function measure(body: () => Promise<unknown>): Promise<void> {
  try {
    const out = await body();
    writeFileSync(resultsPath, `${JSON.stringify(out, null, 2)}\n`);
    console.log(`\nresults written to ${resultsPath}`);
  } catch (e) {
    console.error(`bench failed: ${e instanceof Error ? e.message : String(e)}`);
    process.exitCode = 1;
  } finally {
    killChildren();
    rmSync(work, { recursive: true, force: true });
  }
}
