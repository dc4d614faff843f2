import { readFile } from 'node:fs/promises';
import { generateEntity, startWandbEmulator, type GenEntity, type GenRun, type WandbEmulator, type FaultConfig } from '../../emulators/wandb/index.ts';
import type { HistoryRow, RunInfo, SystemSample } from '../../src/core/records.ts';
import { createWandbSource, type WandbSource, type WandbSourceOptions } from '../../src/sources/wandb/index.ts';

export const KEY = 'emulatorkey-0123456789abcdef0123456789abcd';

export interface Env {
  gen: GenEntity;
  emu: WandbEmulator;
  source(opts?: Partial<WandbSourceOptions>): WandbSource;
  close(): Promise<void>;
}

export async function startEnv(faults?: FaultConfig): Promise<Env> {
  const gen = generateEntity({ seed: 11, preset: 'all-shapes' });
  const emu = await startWandbEmulator({ apiKeys: [KEY], entity: gen, faults });
  const sources: WandbSource[] = [];
  return {
    gen,
    emu,
    source(opts = {}) {
      const s = createWandbSource({ baseUrl: emu.url, apiKey: KEY, env: {}, http: { retry: { baseDelayMs: 20, maxDelayMs: 200 } }, ...opts });
      sources.push(s);
      return s;
    },
    async close() {
      await Promise.all(sources.map((s) => s.close()));
      await emu.close();
    },
  };
}

/** The ground truth row as the reader must give it: `_step` lifted, `_timestamp` lifted, the rest in values. */
export function expectedRow(raw: Record<string, unknown>): HistoryRow {
  const { _step, _timestamp, ...values } = raw;
  const row: HistoryRow = { step: _step as number, values };
  if (typeof _timestamp === 'number') row.timestamp = _timestamp;
  return row;
}

export function expectedSample(raw: Record<string, unknown>): SystemSample {
  const values: Record<string, number> = {};
  for (const [k, v] of Object.entries(raw)) if (!k.startsWith('_') && typeof v === 'number') values[k] = v;
  const s: SystemSample = { timestamp: raw._timestamp as number, values };
  if (typeof raw._runtime === 'number') s.runtime = raw._runtime;
  return s;
}

export function consoleOf(run: GenRun): string[] {
  return typeof run.consoleLines === 'function' ? [...run.consoleLines()] : run.consoleLines;
}

export function bytesOf(content: Buffer | Iterable<Buffer>): Buffer {
  return Buffer.isBuffer(content) ? content : Buffer.concat([...content]);
}

export async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

export async function runsOf(source: WandbSource, project: string): Promise<Map<string, RunInfo>> {
  return new Map((await collect(source.listRuns(project, {}))).map((r) => [r.key.runId, r]));
}

export { readFile, generateEntity };
