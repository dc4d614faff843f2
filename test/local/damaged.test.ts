/**
 * Issue 5, damaged logs: a truncated and a corrupted copy of a sample's `.wandb` migrate every intact
 * record. Each is compared with the intact migration (in its own emulator, since the run id is the
 * same) and with the test-only walker's count of what the damaged file still holds.
 */
import { chmodSync, cpSync, mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNeptuneEmulator, type NeptuneEmulator } from '../../emulators/neptune/index.ts';
import type { RunReport } from '../../src/pipeline/report.ts';
import { pointCount, readFolder } from './folder-truth.ts';
import { expectFolderInNeptune, findRuns, migrateFolder, SAMPLES, seriesOf } from './helpers.ts';

// SOURCES.md row 0k9d0h1 hdimpn5y: the largest log (1.2 MB, 37 blocks), records spanning blocks.
const FOLDER = '0k9d0h1__piggyback-ContinualLM__run-20240704_173026-hdimpn5y';
const LOG = 'run-hdimpn5y.wandb';
// SOURCES.md row ARM-software 3ojed7lz: already truncated, 862 history rows (steps 0–861).
const TRUNCATED_SAMPLE = 'ARM-software__keyword-transformer__run-20220429_201936-3ojed7lz';

type Series = Map<string, Array<[number, number | string]>>;

/** Every point of `part` is in `whole` (same series, step and value); monitoring/stdout is compared by text. */
function expectSubset(part: Series, whole: Series): void {
  for (const [path, pts] of part) {
    const have = whole.get(path);
    expect(have, path).toBeDefined();
    if (path === 'monitoring/stdout') continue;
    const keyed = new Set(have!.map(([s, v]) => `${s}|${v}`));
    for (const [s, v] of pts) expect(keyed.has(`${s}|${v}`), `${path} step ${s}`).toBe(true);
  }
}

const count = (s: Series, pred: (p: string) => boolean): number => [...s].filter(([p]) => pred(p)).reduce((n, [, v]) => n + v.length, 0);
const isHistory = (p: string): boolean => !p.startsWith('monitoring/');
const isSystem = (p: string): boolean => p.startsWith('monitoring/') && p !== 'monitoring/stdout';

describe('damaged .wandb logs migrate their intact records', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'w2n-damaged-'));
  const emus: NeptuneEmulator[] = [];
  const emulator = async (): Promise<NeptuneEmulator> => {
    const e = await startNeptuneEmulator({ workspaces: ['demo'] });
    emus.push(e);
    return e;
  };
  afterAll(async () => {
    for (const e of emus) await e.close();
    rmSync(tmp, { recursive: true, force: true });
  });


  let intact: Series;
  beforeAll(async () => {
    const emu = await emulator();
    const out = await migrateFolder(emu, join(SAMPLES, FOLDER), join(tmp, 'intact.sqlite'));
    expect(out.report.runs[0].notices).toEqual([]);
    intact = seriesOf(emu, findRuns(emu, 'hdimpn5y')[0]);
  });

  /** A writable copy of the sample with its log changed by `damage`. */
  const damagedCopy = (name: string, damage: (log: string) => void): string => {
    const dir = join(tmp, name, FOLDER);
    cpSync(join(SAMPLES, FOLDER), dir, { recursive: true });
    chmodSync(join(dir, LOG), 0o644);
    damage(join(dir, LOG));
    return dir;
  };

  const check = async (dir: string, notice: RegExp): Promise<{ damaged: Series; report: RunReport }> => {
    const emu = await emulator();
    const out = await migrateFolder(emu, dir, join(dir, '..', 'ledger.sqlite'));
    const report = out.report.runs[0];
    expect(report.status).toBe('migrated');
    expect(report.notices.some((n) => n.kind === 'damaged' && notice.test(n.message)), JSON.stringify(report.notices)).toBe(true);
    const run = findRuns(emu, 'hdimpn5y')[0];
    const damaged = seriesOf(emu, run);
    expectSubset(damaged, intact);
    // Every value the independent walker still reads from the damaged log is what Neptune holds.
    expectFolderInNeptune(emu, run, readFolder(dir));
    // What is missing is exactly what the walker cannot read any more.
    const left = readFolder(dir);
    const whole = readFolder(join(SAMPLES, FOLDER));
    const historyPoints = (t: typeof left) => pointCount(t.floats) + pointCount(t.strings);
    expect(count(damaged, isHistory)).toBe(historyPoints(left));
    expect(count(intact, isHistory) - count(damaged, isHistory)).toBe(historyPoints(whole) - historyPoints(left));
    expect(count(damaged, isSystem)).toBe(pointCount(left.system));
    // The damage cost something, and the walker agrees on how much of the log is left.
    expect(count(damaged, () => true)).toBeLessThan(count(intact, () => true));
    expect(left.logRecords).toBeLessThan(whole.logRecords);
    return { damaged, report };
  };

  it('a copy with its last 40,000 bytes cut: every remaining record migrates, the report says truncated', async () => {
    const dir = damagedCopy('cut', (log) => truncateSync(log, statSync(log).size - 40_000));
    const { damaged } = await check(dir, /truncat/i);
    expect(count(damaged, isHistory)).toBeLessThan(count(intact, isHistory) + 1);
    // The cut removes the tail only: the console keeps its first lines in order. The last line of each
    // stream (stdout, stderr) may be a fragment the cut left unfinished, so up to two lines may differ.
    const lines = damaged.get('monitoring/stdout') ?? [];
    const full = intact.get('monitoring/stdout')!;
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.length).toBeLessThan(full.length);
    expect(lines.slice(0, -2)).toEqual(full.slice(0, lines.length - 2));
  });

  it('a copy with 64 bytes flipped in the middle: the records around the damage migrate, the report names it', async () => {
    const dir = damagedCopy('flip', (log) => {
      const buf = readFileSync(log);
      const mid = Math.floor(buf.length / 2);
      for (let i = mid; i < mid + 64; i++) buf[i] ^= 0xff;
      writeFileSync(log, buf);
    });
    const { damaged } = await check(dir, /crc|checksum|corrupt|damag/i);
    // Damage inside one 32 KiB block costs at most that block and a record spanning into it.
    expect(count(damaged, isHistory)).toBeGreaterThan(0);
    expect(count(damaged, isSystem)).toBeGreaterThan(0);
    expect((damaged.get('monitoring/stdout') ?? []).length).toBeGreaterThan((intact.get('monitoring/stdout')!.length * 9) / 10);
  });

  it('the already-truncated ARM-software 3ojed7lz sample migrates all 862 history rows', async () => {
    const emu = await emulator();
    const out = await migrateFolder(emu, join(SAMPLES, TRUNCATED_SAMPLE), join(tmp, 'arm.sqlite'));
    const report = out.report.runs[0];
    expect(report.status).toBe('migrated');
    expect(report.notices.some((n) => n.kind === 'damaged' && /truncat/i.test(n.message))).toBe(true);
    const s = seriesOf(emu, findRuns(emu, '3ojed7lz')[0]);
    const steps = new Set([...s].filter(([p]) => isHistory(p)).flatMap(([, pts]) => pts.map(([st]) => st)));
    expect(steps.size).toBe(862); // row ARM 3ojed7lz: "862 history rows (steps 0–861)"
    expect(Math.min(...steps)).toBe(0);
    expect(Math.max(...steps)).toBe(861);
    expect(findRuns(emu, '3ojed7lz')[0].attrs['wandb/state']?.value).toBe('crashed');
  });
});
