// Preloaded (`--import`) into the migration CLI by the benchmark: on exit, the process writes its own CPU
// time (process.cpuUsage: stable on a shared machine, unlike wall time) and peak RSS to
// $W2N_BENCH_USAGE_DIR/<pid>.json. Every Node process of the CLI writes one (a launcher that re-executes
// itself with other V8 flags included), so the benchmark sums CPU and takes the largest RSS.
import { writeFileSync } from 'node:fs';

const dir = process.env.W2N_BENCH_USAGE_DIR;
if (dir) {
  process.on('exit', () => {
    const cpu = process.cpuUsage();
    const usage = { pid: process.pid, cpuUserMicros: cpu.user, cpuSystemMicros: cpu.system, maxRssKb: process.resourceUsage().maxRSS, execArgv: process.execArgv };
    writeFileSync(`${dir}/${process.pid}.json`, JSON.stringify(usage));
  });
}
