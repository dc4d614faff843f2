/**
 * Test support: reads a whole run through createLocalSource and summarises what came out, so the
 * sample tests compare counts with SOURCES.md. Used by tests only.
 */
import type { ConsoleLine, HistoryRow, RunFile, RunInfo, SourceNotice, SystemSample } from '../../core/records.ts';
import type { RunSource } from '../../core/source.ts';
import { createLocalSource } from './source.ts';

export interface RunDump {
  source: RunSource;
  info: RunInfo;
  rows: HistoryRow[];
  metricKeys: string[];
  samples: SystemSample[];
  systemKeys: string[];
  lines: ConsoleLine[];
  files: RunFile[];
  notices: SourceNotice[];
}

export async function dumpRuns(path: string, opts: { entity?: string; project?: string } = {}): Promise<RunDump[]> {
  const notices: SourceNotice[] = [];
  const source = createLocalSource({ path, ...opts, onNotice: (n) => notices.push(n) });
  const out: RunDump[] = [];
  for await (const p of source.listProjects()) {
    for await (const info of source.listRuns(p.name, {})) {
      const rows: HistoryRow[] = [];
      for await (const r of source.history(info, {})) rows.push(r);
      const samples: SystemSample[] = [];
      const sm = await source.systemMetrics(info);
      for await (const s of sm.samples) samples.push(s);
      const lines: ConsoleLine[] = [];
      for await (const l of source.console(info, {})) lines.push(l);
      const files: RunFile[] = [];
      for await (const f of source.files(info)) files.push(f);
      const metricKeys = [...new Set(rows.flatMap((r) => Object.keys(r.values)))].filter((k) => !k.startsWith('_')).sort();
      const systemKeys = [...new Set(samples.flatMap((s) => Object.keys(s.values)))].sort();
      out.push({ source, info, rows, metricKeys, samples, systemKeys, lines, files, notices });
    }
  }
  return out;
}

export async function dumpOne(path: string, opts: { entity?: string; project?: string } = {}): Promise<RunDump> {
  const all = await dumpRuns(path, opts);
  if (all.length !== 1) throw new Error(`expected one run in ${path}, found ${all.length}`);
  return all[0];
}
