import { describe, expect, it } from 'vitest';
import { generateEntity } from './generator/generate.ts';
import type { GenRun } from './generator/types.ts';

const all = generateEntity({ seed: 3, preset: 'all-shapes' });
const runs = all.projects.flatMap((p) => p.runs);
const byName = (n: string): GenRun => runs.find((r) => r.displayName === n)!;
const consoleOf = (r: GenRun): string[] => [...(typeof r.consoleLines === 'function' ? r.consoleLines() : r.consoleLines)];

describe('generateEntity', () => {
  it('is deterministic for a seed and differs across seeds', () => {
    const again = generateEntity({ seed: 3, preset: 'all-shapes' });
    const other = generateEntity({ seed: 4, preset: 'all-shapes' });
    const ids = (e: typeof all) => e.projects.flatMap((p) => p.runs.map((r) => r.id));
    expect(ids(again)).toEqual(ids(all));
    expect(ids(other)).not.toEqual(ids(all));
    const r = again.projects[0].runs[3];
    expect([...r.history()]).toEqual([...all.projects[0].runs[3].history()]);
  });

  it('all-shapes covers every run shape the brief lists, under 20k history rows', () => {
    expect(all.projects.length).toBeGreaterThanOrEqual(3);
    expect(all.projects.some((p) => p.name.includes('_'))).toBe(true);
    expect(runs.reduce((n, r) => n + r.historyRowCount, 0)).toBeLessThan(20_000);
    expect(byName('empty-run').lastStep).toBe(-1);
    expect(new Set(runs.map((r) => r.state))).toEqual(new Set(['running', 'finished', 'crashed', 'failed', 'killed']));
    const live = byName('running-live-tail');
    expect(live.exportedBelowStep).toBeLessThan(live.lastStep + 1);
    const full = byName('finished-full-export');
    expect(full.exportedBelowStep).toBe(full.lastStep + 1);
    expect(Object.keys([...byName('many-keys').history()][0]).length).toBeGreaterThanOrEqual(300);
    const gaps = [...byName('sparse-and-gaps').history()];
    expect(gaps[0]._step).toBe(1000);
    expect(gaps.filter((r) => 'every7' in r).length).toBeLessThan(gaps.length / 5);
    expect(Object.keys(byName('huge-summary').summary).length).toBeGreaterThan(5000);
    const unicode = byName('実験-αβγ 🚀 ünïcödé');
    expect(unicode.tags).toContain('日本語');
    const cfg = byName('crashed-run').config as { big_int: number; optimizer: { params: { schedule: unknown } } };
    expect(cfg.big_int).toBeGreaterThan(2 ** 31);
    expect(cfg.optimizer.params.schedule).toBeNull();
    expect(runs.some((r) => r.eventsFileListed) && runs.some((r) => !r.eventsFileListed)).toBe(true);
  });

  it('lists media referenced by history rows, plus checkpoints, notebook, chunks and an empty file', () => {
    const full = byName('finished-full-export');
    const names = new Set(full.files.map((f) => f.name));
    const media = [...full.history()].flatMap((r) => Object.values(r)).filter((v): v is { _type: string; path: string } =>
      typeof v === 'object' && v !== null && typeof (v as { path?: unknown }).path === 'string');
    expect(media.length).toBeGreaterThan(5);
    for (const m of media) expect(names.has(m.path)).toBe(true);
    const many = byName('many-files');
    const manyNames = many.files.map((f) => f.name);
    expect(many.files.length).toBeGreaterThanOrEqual(50);
    for (const n of ['model.ckpt', 'checkpoints/epoch1.pt', 'code/_session_history.ipynb', 'wandb-events.jsonl']) expect(manyNames).toContain(n);
    expect(manyNames.filter((n) => /^logs\/output_.*\.log$/.test(n)).length).toBe(3);
    expect(many.files.some((f) => f.sizeBytes === 0)).toBe(true);
    expect(consoleOf(many).some((l) => l.length > 2000)).toBe(true);
    // chunks concatenate to the console lines
    const chunks = many.files.filter((f) => f.name.startsWith('logs/')).map((f) => Buffer.concat([...(f.content() as Iterable<Buffer>)]).toString('utf8')).join('');
    expect(chunks).toBe(consoleOf(many).map((l) => l + '\n').join(''));
  });

  it('big-run and many-small-runs honour their sizes lazily', () => {
    const big = generateEntity({ seed: 1, preset: 'big-run', points: 10_000 }).projects[0].runs[0];
    expect(big.historyRowCount).toBe(1000);
    expect(big.exportedBelowStep).toBeLessThan(big.lastStep + 1);
    const tail = [...big.historyFrom!(990)];
    expect(tail.map((r) => r._step)).toEqual([990, 991, 992, 993, 994, 995, 996, 997, 998, 999]);
    expect(Object.keys(tail[0]).filter((k) => !k.startsWith('_'))).toHaveLength(10);
    const many = generateEntity({ seed: 1, preset: 'many-small-runs', runs: 40 });
    expect(many.projects[0].runs).toHaveLength(40);
    expect(new Set(many.projects[0].runs.map((r) => r.id)).size).toBe(40);
  });
});
