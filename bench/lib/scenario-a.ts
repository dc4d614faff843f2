/** Scenario (a): one big run migrated end to end, against a bare reference loop over the same export. */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { NeptuneStats } from '../../emulators/neptune/index.ts';
import type { EmulatorStats } from '../../emulators/wandb/index.ts';
import { bareLoop, parquetUrls } from './bare-loop.ts';
import { runCli, startEmulatorChild } from './children.ts';
import { cpuPerMillion } from './figures-table.ts';
import { migrationFigures } from './migration-figures.ts';
import { mb, type Row } from './table.ts';

/**
 * `protocol: 'b'` migrates over Protocol B (`--protocol b`) into an emulator that processes as soon as
 * asked (no status delay), so the figure is the product's; the bare loop (Protocol A JSON) stays the
 * reference it is compared with.
 */
export async function scenarioA(o: { points: number; work: string; signal: AbortSignal; nodeFlags?: string[]; bare?: boolean; protocol?: 'a' | 'b'; exportPages?: 'v1' | 'v2' }) {
  const protocol = o.protocol ?? 'a';
  mkdirSync(o.work, { recursive: true });
  const wandb = await startEmulatorChild<EmulatorStats>({ kind: 'wandb', entity: { kind: 'preset', spec: { seed: 1, preset: 'big-run', points: o.points } }, workDir: join(o.work, 'wandb-export'), exportPages: o.exportPages });
  try {
    const run = wandb.info.runs![0];
    const w = { url: wandb.info.url, apiKey: wandb.info.env.WANDB_API_KEY, entity: wandb.info.env.WANDB_ENTITY, project: run.project, runId: run.runId };
    // The emulator writes its parquet export on first request: done here, before any clock starts.
    const e0 = performance.now();
    const urls = await parquetUrls(w, o.signal);
    const exportSeconds = (performance.now() - e0) / 1000;

    const runBare = async () => {
      const bareNeptune = await startEmulatorChild<NeptuneStats>({ kind: 'neptune' });
      return bareLoop({ urls, neptuneUrl: bareNeptune.info.url, neptuneApiToken: bareNeptune.info.env.NEPTUNE_API_TOKEN }, o.signal).finally(() => bareNeptune.close());
    };
    const bare = o.bare === false ? { points: 0, seconds: NaN, requests: { wandb: 0, neptune: 0 }, skippedNonFinite: 0 } : await runBare();

    const neptune = await startEmulatorChild<NeptuneStats & { b?: { ingestRequests?: number } }>({ kind: 'neptune', protocolB: { statusDelayMs: 0 } });
    try {
      const startup = await runCli(['--version'], {}, o.work, o.nodeFlags);
      const before = await wandb.stats();
      const emulatorCpu0 = [processCpuSeconds(neptune.pid), processCpuSeconds(wandb.pid)];
      const cli = await runCli(
        ['migrate', '--workspace', 'demo', '--projects', 'all', '--yes', '--json', '--protocol', protocol, '--ledger', join(o.work, 'ledger.sqlite')],
        { ...wandb.info.env, ...neptune.info.env }, o.work, o.nodeFlags,
      );
      const after = await wandb.stats();
      // What each emulator spent meanwhile: with the client's own CPU, where the wall time went.
      const [neptuneCpu, wandbCpu] = [processCpuSeconds(neptune.pid), processCpuSeconds(wandb.pid)].map((c, k) => (c === undefined || emulatorCpu0[k] === undefined ? undefined : c - emulatorCpu0[k]!));
      const nStats = await neptune.stats();
      const m = migrationFigures(cli, before, after, nStats);
      // Points the product had to move from history alone (what the bare loop moves too).
      const historyPoints = bare.points + (run.rows - Math.round(bare.points / 10)) * 10;
      const productPps = historyPoints / cli.seconds;
      const cpm = cpuPerMillion(cli, m.pointsWritten);
      const barePps = bare.points / bare.seconds;
      const table: Row[] = [
        ['export written by the emulator (untimed)', `${exportSeconds.toFixed(1)} s, ${urls.length} files`],
        ['product: exit code', cli.code],
        ['product: wall time (s, incl. process start)', +cli.seconds.toFixed(1)],
        ['  (CLI process start alone, s)', +startup.seconds.toFixed(1)],
        ['product: history points', historyPoints],
        ['product: points/s (history points / wall time)', Math.round(productPps)],
        ['product: points written (all series, writer count)', m.pointsWritten ?? '?'],
        ['product: W&B requests (emulator count)', m.wandbRequests],
        ['product: Neptune requests (emulator count)', nStats.requests],
        ['product: protocol', protocol.toUpperCase()],
        ['product: Neptune executeOperations requests', nStats.byEndpoint.executeOperations ?? 0],
        ['product: Neptune B ingest requests / status checks', `${nStats.b?.ingestRequests ?? 0} / ${nStats.byEndpoint.bulkCheckStatus ?? 0}`],
        ['product: client CPU (s, user+system, process.cpuUsage)', +cli.cpuSeconds.toFixed(2)],
        ['product: client CPU per million points written (s)', cpm === undefined ? '-' : +cpm.toFixed(2)],
        ['product: peak RSS (MB)', mb(cli.peakRssBytes)],
        ['Neptune emulator CPU meanwhile (s; its ingest, status checks)', neptuneCpu === undefined ? '-' : +neptuneCpu.toFixed(2)],
        ['W&B emulator CPU meanwhile (s; serving the export)', wandbCpu === undefined ? '-' : +wandbCpu.toFixed(2)],
        ['  (CLI process start alone: peak RSS MB / CPU s)', `${mb(startup.peakRssBytes)} / ${startup.cpuSeconds.toFixed(2)}`],
        ['product: node flags of the migration process', cli.execArgv.join(' ') || '(none)'],
        ['bare loop: points', bare.points],
        ['bare loop: wall time (s)', +bare.seconds.toFixed(1)],
        ['bare loop: points/s', Math.round(barePps)],
        ['bare loop: requests W&B / Neptune', `${bare.requests.wandb} / ${bare.requests.neptune}`],
        ['product/bare points/s ratio', +(productPps / barePps).toFixed(2)],
      ];
      return {
        table, exportSeconds, exportFiles: urls.length, historyPoints, cliStartSeconds: startup.seconds, productPointsPerSecond: Math.round(productPps),
        cpuSecondsPerMillionPoints: cpm, cliStartPeakRssBytes: startup.peakRssBytes, cliStartCpuSeconds: startup.cpuSeconds,
        neptuneEmulatorCpuSeconds: neptuneCpu, wandbEmulatorCpuSeconds: wandbCpu,
        barePointsPerSecond: Math.round(barePps), ratio: productPps / barePps, bare, product: { ...m, seconds: cli.seconds, exitCode: cli.code },
        neptuneStats: nStats,
      };
    } finally {
      await neptune.close();
    }
  } finally {
    await wandb.close();
  }
}

/** User + system CPU seconds of a live process so far (Linux `/proc/<pid>/stat`, 100 ticks a second); undefined elsewhere. */
function processCpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name: utime and stime are the 12th and 13th.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return undefined;
  }
}
