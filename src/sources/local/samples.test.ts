/**
 * Every real sample run folder in ../shared/wandb-samples, read through createLocalSource, checked
 * against the facts listed for it in SOURCES.md (each literal names its row).
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { cp, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { scanLog } from './log-scan.ts';
import { dumpOne, type RunDump } from './sample-helpers.ts';
import { readLogRecords, type LogDamage } from './wandb-log/container.ts';
import { sharedPath } from '../../../test/support/shared.ts';

const SAMPLES = sharedPath('wandb-samples');
const HAVE = existsSync(join(SAMPLES, 'SOURCES.md'));
const at = (name: string): string => join(SAMPLES, name);
const cache = new Map<string, Promise<RunDump>>();
const dump = (name: string): Promise<RunDump> => {
  if (!cache.has(name)) cache.set(name, dumpOne(at(name)));
  return cache.get(name)!;
};
const configKeys = (d: RunDump): number => Object.keys(d.info.config).filter((k) => k !== '_wandb').length;
const fileNames = (d: RunDump): string[] => d.files.map((f) => f.name).sort();

if (!HAVE) {
  describe('wandb samples', () => {
    it('are not on this machine, so no sample checks run', () => {
      console.warn(`\n*** ${SAMPLES} not found: the real-sample checks of src/sources/local did not run ***\n`);
      expect(existsSync(SAMPLES)).toBe(false);
    });
  });
} else {
  const tmpDirs: string[] = [];
  afterAll(async () => {
    for (const d of tmpDirs) await rm(d, { recursive: true, force: true });
  });

  describe('wandb samples (SOURCES.md facts)', () => {
    it('ARM-software 2zuxwf70: no history, a 36-line stderr traceback, one sample with a network object, exit 1', async () => {
      const d = await dump('ARM-software__keyword-transformer__run-20220429_201847-2zuxwf70');
      expect(d.rows).toHaveLength(0); // row ARM 2zuxwf70: "No history"
      expect(d.lines).toHaveLength(36); // "36-line traceback on stderr"
      expect(d.lines.every((l) => l.stream === 'stderr')).toBe(true);
      expect(d.samples).toHaveLength(1); // "One system-metrics sample"
      expect(d.systemKeys).toEqual(expect.arrayContaining(['system.network.sent', 'system.network.recv'])); // "network is an object"
      expect(d.info.extra?.['exitCode']).toBe(1); // "Exit code 1"
      expect(d.info.state).toBe('failed');
      expect(d.info.summary).toEqual({}); // "The log's summary record is empty"
      expect(d.info.extra?.['sdkVersion']).toBe('0.12.15');
      expect(d.notices).toEqual([]);
    });

    it('ARM-software 3ojed7lz: truncated log still yields all 862 rows, 976 lines, 18 samples, and a damage notice', async () => {
      const d = await dump('ARM-software__keyword-transformer__run-20220429_201936-3ojed7lz');
      expect(d.rows).toHaveLength(862); // row ARM 3ojed7lz: "862 history rows (steps 0–861, 5 metrics)"
      expect(d.rows[0].step).toBe(0);
      expect(d.rows[861].step).toBe(861);
      expect(d.info.lastStep).toBe(861);
      expect(d.info.historyLineCount).toBe(862);
      expect(d.metricKeys).toHaveLength(5);
      expect(d.lines).toHaveLength(976); // "Console in 222 output records (976 lines)"
      expect(d.samples).toHaveLength(18); // "18 system-metrics samples"
      expect(d.info.extra?.['exitCode']).toBeUndefined(); // "no exit ... record"
      expect(d.info.state).toBe('crashed');
      const damaged = d.notices.filter((n) => n.stream === 'log' && n.kind === 'damaged');
      expect(damaged).toHaveLength(1);
      expect(damaged[0].message).toMatch(/truncated/);
      expect(damaged[0].run?.runId).toBe('3ojed7lz');
    });

    it('2btlFe 4t2h0qra: 56 rows (2 metrics), 215 samples / 9,216 points / 43 keys, rename, exit 0 after 6,458 s', async () => {
      const d = await dump('2btlFe__SSD-Practice__run-20230828_113325-4t2h0qra');
      expect(d.rows).toHaveLength(56); // row 2btlFe: "56 history rows (2 metrics)"
      expect(d.metricKeys).toEqual(['train_loss', 'val_loss']);
      expect(d.samples).toHaveLength(215); // "215 stats records (9,216 points, 43 keys"
      expect(d.samples.reduce((n, s) => n + Object.keys(s.values).length, 0)).toBe(9216);
      expect(d.systemKeys).toHaveLength(43);
      expect(d.systemKeys.every((k) => k.startsWith('system.'))).toBe(true);
      expect(d.info.displayName).toBe('SSD1'); // "Two run records (the second renames the run)"
      expect(d.info.extra?.['exitCode']).toBe(0); // "Exit code 0, runtime 6,458 s"
      expect(d.info.extra?.['runtime']).toBe(6458);
      expect(d.info.state).toBe('finished');
      expect(fileNames(d)).toContain('conda-environment.yaml'); // "conda-environment.yaml"
    });

    it('0k9d0h1 hdimpn5y: 9,708 records across 37 blocks, 31 rows, 4,660 console lines, 140 stats keys, exit 0', async () => {
      const name = '0k9d0h1__piggyback-ContinualLM__run-20240704_173026-hdimpn5y';
      const scan = await scanLog(join(at(name), 'run-hdimpn5y.wandb'));
      expect(scan.records).toBe(9708); // row hdimpn5y: "9,708 records"
      expect(scan.consoleRecords).toBe(9662); // "9,662 output_raw fragments"
      expect(scan.damage).toEqual([]);
      const d = await dump(name);
      expect(d.rows).toHaveLength(31); // "31 history rows"
      expect(d.lines).toHaveLength(4660); // "(4,660 lines, progress bars with \r)"
      expect(d.systemKeys).toHaveLength(140); // "140 stats keys"
      expect(d.info.extra?.['exitCode']).toBe(0); // "Exit code 0"
      expect(d.info.key.entity).toBe('0k9d0h1team');
      expect(d.lines.map((l) => l.index)).toEqual(d.lines.map((_, i) => i));
    });

    it('0k9d0h1 wirt5fjr (offline): 1 row, console and 56 config keys only in the log, exit 255', async () => {
      const d = await dump('0k9d0h1__piggyback-ContinualLM__offline-run-20240704_162626-wirt5fjr');
      expect(d.rows).toHaveLength(1); // row wirt5fjr: "1 history row"
      expect(configKeys(d)).toBe(56); // "the config (56 keys) ... exist only in the log"
      expect(fileNames(d)).not.toContain('config.yaml'); // "files/ has no config.yaml and no output.log"
      expect(fileNames(d)).not.toContain('output.log');
      expect(d.lines.length).toBeGreaterThan(0); // "822 output_raw records"
      expect(d.info.extra?.['exitCode']).toBe(255); // "Exit code 255"
      expect(d.info.extra?.['offline']).toBe(true);
    });

    it('22charlesduck qn1qcodi: 61 rows (4 metrics), entity from the run record, renamed, exit 255', async () => {
      const d = await dump('22charlesduck__reversal__run-20241107_025355-qn1qcodi');
      expect(d.rows).toHaveLength(61); // row 22charlesduck: "61 history rows (4 train/… metrics)"
      expect(d.metricKeys).toHaveLength(4);
      expect(d.info.key.entity).toBe('cdingg'); // "Entity set in the run record"
      expect(d.info.displayName).toBe('reverse'); // "a second run record sets the name"
      expect(d.info.extra?.['exitCode']).toBe(255); // "Exit code 255"
      expect(d.info.extra?.['sdkVersion']).toBe('0.16.2');
      const scan = await scanLog(join(at('22charlesduck__reversal__run-20241107_025355-qn1qcodi'), 'run-qn1qcodi.wandb'));
      expect(scan.consoleRecords).toBe(756); // "756 output_raw records"
    });

    it('0merle0 0nt019ck: 0-byte log → nothing, a damage notice, no throw', async () => {
      const d = await dump('0merle0__cleo__run-20241106_133947-0nt019ck');
      expect(d.rows).toHaveLength(0); // row 0merle0: "0-byte .wandb and a 0-byte files/output.log"
      expect(d.lines).toHaveLength(0);
      expect(d.files.map((f) => [f.name, f.sizeBytes])).toEqual([['output.log', 0]]);
      expect(d.notices.some((n) => n.stream === 'log' && n.kind === 'damaged')).toBe(true);
      expect(d.info.key).toEqual({ entity: 'local', project: 'uncategorized', runId: '0nt019ck' });
      expect(d.info.state).toBe('crashed');
    });

    it('AbanoubYossef 8wdcg5d6 (offline, core): 202 config keys from the log, no history, 54 stderr lines, exit 1', async () => {
      const d = await dump('AbanoubYossef__email-ai-assistant__offline-run-20250516_130530-8wdcg5d6');
      expect(fileNames(d)).toEqual(['wandb-metadata.json']); // row AbanoubYossef: "files/ holds only wandb-metadata.json"
      expect(configKeys(d)).toBe(202); // "2 config records, 202 Hugging Face Trainer keys"
      expect(d.rows).toHaveLength(0); // "No history"
      expect(d.lines).toHaveLength(54); // "54 stderr lines ending in a traceback"
      expect(d.lines.every((l) => l.stream === 'stderr')).toBe(true);
      expect(d.info.extra?.['exitCode']).toBe(1); // "Exit code 1"
      expect(d.info.displayName?.startsWith('/')).toBe(true); // "The run's display name is a file path"
      expect(d.info.extra?.['writer']).toBe('wandb-core');
      const scan = await scanLog(join(at('AbanoubYossef__email-ai-assistant__offline-run-20250516_130530-8wdcg5d6'), 'run-8wdcg5d6.wandb'));
      expect(scan.metrics).toHaveLength(2); // "2 metric records"
      expect(scan.consoleRecords).toBe(39); // "39 output_raw records"
    });

    it('02hyc 6uznqj8h (core): 158 rows from nested_key items (3 metrics), 317 summary records, 6 lines, exit 255', async () => {
      const d = await dump('02hyc__VQ-VAE__run-20250315_170908-6uznqj8h');
      expect(d.rows).toHaveLength(158); // row 02hyc: "158 history rows with nested_key items (3 metrics)"
      expect(d.metricKeys).toHaveLength(3);
      expect(d.rows.every((r) => typeof r.timestamp === 'number')).toBe(true);
      expect(d.lines).toHaveLength(6); // "326 output_raw records, almost all \r progress-bar updates (6 lines)"
      expect(d.info.extra?.['exitCode']).toBe(255); // "Exit code 255 as the last record"
      const scan = await scanLog(join(at('02hyc__VQ-VAE__run-20250315_170908-6uznqj8h'), 'run-6uznqj8h.wandb'));
      expect(scan.summaryRecords).toBe(317); // "317 summary records"
      expect(d.info.summary['_wandb']).toEqual({ runtime: 48 }); // core-era nested `_wandb.runtime`
    });

    it('3jp4rk m6pivih1: 50 rows with NaN grad_norm, 122 config keys, 127 samples / 95 keys, exit 1', async () => {
      const d = await dump('3jp4rk__Condenser__run-20240330_164544-m6pivih1');
      expect(d.rows).toHaveLength(50); // row 3jp4rk: "50 history rows; train/grad_norm is NaN in all 50"
      expect(d.rows.filter((r) => Number.isNaN(r.values['train/grad_norm']))).toHaveLength(50);
      expect(Number.isNaN(d.info.summary['train/grad_norm'])).toBe(true);
      expect(configKeys(d)).toBe(122); // "Config record from the Hugging Face Trainer (122 keys)"
      expect(d.samples).toHaveLength(127); // "127 stats records (95 keys)"
      expect(d.systemKeys).toHaveLength(95);
      expect(d.info.extra?.['exitCode']).toBe(1); // "Exit code 1"
      const scan = await scanLog(join(at('3jp4rk__Condenser__run-20240330_164544-m6pivih1'), 'run-m6pivih1.wandb'));
      expect(scan.metrics).toHaveLength(2); // "2 metric records (define_metric)"
      // No project in the run record and none given: the default project.
      expect(d.info.key.project).toBe('uncategorized');
    });

    it('AGKhalil zp6vyhqw (legacy JSONL): 501 rows, 30 histograms, 20 samples, desc/value config, files, failed', async () => {
      const d = await dump('AGKhalil__RL_implements__run-20200324_181151-zp6vyhqw');
      expect(d.rows).toHaveLength(501); // row AGKhalil: "wandb-history.jsonl: 501 rows (4 metrics, plus 6 gradient histograms"
      expect(d.metricKeys).toHaveLength(10);
      const histograms = d.rows.flatMap((r) => Object.values(r.values)).filter((v) => (v as { _type?: string })?._type === 'histogram');
      expect(histograms).toHaveLength(30); // "30 histogram objects"
      expect(d.samples).toHaveLength(20); // "wandb-events.jsonl: 20 samples with system. keys"
      expect(d.systemKeys.every((k) => k.startsWith('system.'))).toBe(true);
      expect(d.info.config['batch_size']).toBe(50); // "config.yaml in the desc/value form"
      expect(d.info.config['wandb_version']).toBeUndefined();
      expect(fileNames(d)).toEqual(expect.arrayContaining(['code/main_ac_mcc.py', 'diff.patch', 'media/graph/graph_0_summary_70f3b0d7.graph.json']));
      expect(JSON.stringify(d.info.summary)).toContain('graph-file'); // "graph-file ... referenced from the summary"
      expect(d.info.state).toBe('failed'); // "Metadata says state failed, exit code 1"
      expect(d.info.extra?.['exitCode']).toBe(1);
      expect(d.info.key.project).toBe('pytorch-ac-mountaincarcont');
      expect(d.info.extra?.['sdkVersion']).toBe('0.8.30');
    });

    it('wandb dryrun rmwhmprr (legacy 2018): 12 rows with images and no _timestamp, 12 JPEGs, 5 samples, killed', async () => {
      const d = await dump('wandb__wandb__dryrun-20180221_062651-rmwhmprr');
      expect(d.rows).toHaveLength(12); // row wandb dryrun: "12 history rows with images objects and no _timestamp"
      expect(d.rows.every((r) => r.timestamp === undefined)).toBe(true);
      expect(d.rows.every((r) => (r.values['examples'] as { _type?: string })._type === 'images')).toBe(true);
      expect(d.files.filter((f) => /^media\/images\/.+\.jpg$/.test(f.name))).toHaveLength(12); // "12 JPEGs under media/images/"
      expect(d.samples).toHaveLength(5); // "5 system-metrics lines"
      expect(d.info.config).toEqual({}); // "No config.yaml, output.log or requirements.txt"
      expect(d.lines).toHaveLength(0);
      expect(d.info.state).toBe('killed'); // "Metadata says state killed, exit code 1"
      expect(d.info.extra?.['exitCode']).toBe(1);
      expect(d.info.extra?.['offline']).toBe(true); // "dryrun- prefix (offline)"
    });

    it('files carry real sizes and base64 MD5s, and fetchFile gives the real path', async () => {
      const d = await dump('2btlFe__SSD-Practice__run-20230828_113325-4t2h0qra');
      const f = d.files.find((x) => x.name === 'requirements.txt')!;
      const path = join(at('2btlFe__SSD-Practice__run-20230828_113325-4t2h0qra'), 'files', 'requirements.txt');
      expect(f.sizeBytes).toBe((await stat(path)).size);
      expect(f.md5).toBe(createHash('md5').update(readFileSync(path)).digest('base64'));
      const local = await d.source.fetchFile(d.info, f);
      expect(local.path).toBe(path);
      await local.release();
      expect(existsSync(path)).toBe(true); // release of a real file is a no-op
    });

    it('a copy of a sample with a byte corrupted mid-log yields every intact record and a notice', async () => {
      const name = '0k9d0h1__piggyback-ContinualLM__run-20240704_173026-hdimpn5y';
      const dir = await mkdtemp(join(tmpdir(), 'w2n-sample-'));
      tmpDirs.push(dir);
      const copy = join(dir, name);
      await cp(at(name), copy, { recursive: true });
      const logPath = join(copy, 'run-hdimpn5y.wandb');
      const original: { offset: number; b64: string }[] = [];
      for await (const r of readLogRecords(logPath)) original.push({ offset: r.offset, b64: Buffer.from(r.payload).toString('base64') });
      const bytes = await readFile(logPath);
      const victim = original.reduce((best, r) => (Math.abs(r.offset - bytes.length / 2) < Math.abs(best.offset - bytes.length / 2) ? r : best));
      bytes[victim.offset + 7 + 1] ^= 0x55; // inside the victim's first chunk payload
      await writeFile(logPath, bytes);

      const damage: LogDamage[] = [];
      const got = new Map<number, string>();
      for await (const r of readLogRecords(logPath, { onDamage: (x) => damage.push(x) })) got.set(r.offset, Buffer.from(r.payload).toString('base64'));
      expect(damage).toHaveLength(1);
      expect(damage[0].offset).toBe(victim.offset);
      const inDamage = (o: number): boolean => o >= damage[0].offset && o < damage[0].offset + damage[0].bytes;
      const intact = original.filter((r) => !inDamage(r.offset));
      expect(intact.length).toBeGreaterThan(original.length - 200); // at most one block's worth of records lost
      for (const r of intact) expect(got.get(r.offset)).toBe(r.b64);
      expect(got.size).toBe(intact.length);

      const d = await dumpOne(copy);
      expect(d.notices.filter((n) => n.stream === 'log' && n.kind === 'damaged')).toHaveLength(1);
      expect(d.info.extra?.['exitCode']).toBe(0); // the exit record after the damage survives
    });
  });
}
