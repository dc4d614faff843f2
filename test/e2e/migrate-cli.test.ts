import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../../emulators/stack.ts';
import { generateEntity } from '../../emulators/wandb/index.ts';
import { events, runCli } from '../support/cli.ts';
import { consoleText, expectedFileSet, expectedHistory, expectedTableCsv, expectedTree, fileBytes } from '../support/expected.ts';
import { neptuneRunId } from '../support/neptune-snapshot.ts';
import { session } from '../../emulators/neptune/test-client.ts';

/**
 * Issue 4, "Done when" 1: a generated entity with every run shape, migrated through the CLI, then
 * the Neptune emulator's state compared with the generator's ground truth, row by row of mapping.md.
 */
let stack: Stack;
let dir: string;
let stdout = '';
let exitCode: number | null = null;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'w2n-e2e-'));
  stack = await startStack({ entity: generateEntity({ seed: 7, preset: 'all-shapes', entity: 'e2e-team' }), workDir: join(dir, 'export') });
  const cli = runCli(['migrate', '--workspace', 'demo', '--projects', 'all', '--yes', '--json', '--protocol', 'a', '--ledger', join(dir, 'ledger.sqlite')], stack.env, dir);
  const out = await cli.done;
  stdout = out.stdout;
  exitCode = out.code;
  if (out.code !== 0) console.error(out.stderr);
}, 180_000);

afterAll(async () => {
  await stack?.close();
  rmSync(dir, { recursive: true, force: true });
});

const neptuneProject = (wandbProject: string) => `demo/${wandbProject.replace(/_/g, '-')}`;

describe('migrate through the CLI: the Neptune emulator holds what mapping.md promises', () => {
  it('exits 0 and reports every run migrated', () => {
    expect(exitCode).toBe(0);
    const report = events(stdout).find((e) => e.type === 'report') as unknown as { report: { totals: { migrated: number; failed: number } } };
    const runs = stack.entity.projects.reduce((n, p) => n + p.runs.length, 0);
    expect(report.report.totals).toMatchObject({ migrated: runs, failed: 0 });
  });

  it('Projects rows: one Neptune project per W&B project (_ → -), private, described, with wandb_url', () => {
    const projects = stack.neptune.inspect.projects();
    for (const p of stack.entity.projects) {
      const np = projects.find((x) => `${x.workspace}/${x.name}` === neptuneProject(p.name));
      expect(np, p.name).toBeDefined();
      expect(np!.visibility).toBe('priv');
      expect(np!.description).toMatch(/^Exported from /);
      // The project-level field lives on the project's own container.
      const url = stack.neptune.inspect.attributes(np!.id).wandb_url?.value;
      expect(url).toBe(`${stack.wandb.url}/${stack.entity.name}/${p.name}`);
      expect(np!.description).toBe(`Exported from ${url}`);
    }
  });

  it('Runs rows: custom run id, name, notes, tags, group, config, job type, path, created_at, summary, provenance', () => {
    for (const p of stack.entity.projects) {
      for (const run of p.runs) {
        const id = neptuneRunId(stack.neptune, neptuneProject(p.name), run.id);
        expect(id, `${p.name}/${run.id}`).toBeDefined();
        const attrs = stack.neptune.inspect.attributes(id!);
        const value = (path: string) => attrs[path]?.value;
        expect(value('wandb/run_id')).toBe(run.id);
        expect(value('sys/name')).toBe(run.displayName);
        if (run.notes) expect(value('sys/description')).toBe(run.notes);
        expect([...stack.neptune.inspect.stringSet(id!, 'sys/tags')].sort()).toEqual([...run.tags].sort());
        if (run.group) expect(stack.neptune.inspect.stringSet(id!, 'sys/group_tags')).toEqual([run.group]);
        if (run.jobType) expect(value('wandb/job_type')).toBe(run.jobType);
        expect(value('wandb/path')).toBe(`${stack.entity.name}/${p.name}/${run.id}`);
        expect(value('wandb/state')).toBe(run.state);
        // Dates W&B serves without a zone are UTC.
        const utc = (iso: string) => Date.parse(/Z$/.test(iso) ? iso : `${iso}Z`);
        expect(attrs['wandb/created_at']).toEqual({ type: 'datetime', value: utc(run.createdAt) });
        expect(attrs['wandb/heartbeat_at']).toEqual({ type: 'datetime', value: utc(run.heartbeatAt) });
        expect(value('wandb/sweep'), run.id).toBe(run.sweep);
        expect(value('wandb/commit'), run.id).toBe(run.commit);
        expect(value('wandb/user'), run.id).toBe(run.user);
        expect(attrs['wandb/history_line_count'], run.id).toEqual({ type: 'int', value: run.historyRowCount });
        // A config W&B serves as invalid JSON: no config fields, its raw text kept.
        expect(value('wandb/configRaw'), run.id).toBe(run.configJson);
        // Provenance W&B keeps only in wandb-metadata.json.
        if (run.host) expect(value('wandb/host')).toBe(run.host);
        expect(value('wandb/python')).toBe('3.11.4');
        expect(attrs['wandb/migration/completed_at']?.type).toBe('datetime');
        // (The summary of the run with colliding keys has its own test below.)
        const summary = run.displayName === 'colliding-keys' ? [] : expectedTree('summary', run.summary);
        for (const [path, want] of [...expectedTree('config', run.config), ...summary]) {
          expect(value(path), `${run.id} ${path}`).toEqual(want);
        }
      }
    }
  });

  it('Series rows: every history row of every key, with its step and timestamp; NaN/Infinity dropped', () => {
    for (const p of stack.entity.projects) {
      for (const run of p.runs) {
        const id = neptuneRunId(stack.neptune, neptuneProject(p.name), run.id)!;
        const want = expectedHistory(run);
        for (const [path, points] of want.floats) expect(stack.neptune.inspect.floatSeries(id, path), `${run.id} ${path}`).toEqual(points);
        for (const [path, points] of want.strings) expect(stack.neptune.inspect.stringSeries(id, path), `${run.id} ${path}`).toEqual(points);
        const seriesPaths = Object.entries(stack.neptune.inspect.attributes(id))
          .filter(([path, a]) => (a.type === 'floatSeries' || a.type === 'stringSeries') && !path.startsWith('monitoring/'))
          .map(([path]) => path);
        expect(seriesPaths.sort()).toEqual([...want.floats.keys(), ...want.strings.keys()].sort());
      }
    }
  });

  it('Series rows: system metrics under monitoring/, complete; console output as monitoring/stdout, long lines split', () => {
    for (const p of stack.entity.projects) {
      for (const run of p.runs) {
        const id = neptuneRunId(stack.neptune, neptuneProject(p.name), run.id)!;
        const events = [...run.systemEvents()];
        const cpu = events.filter((e) => typeof e['system.cpu'] === 'number');
        expect(stack.neptune.inspect.floatSeries(id, 'monitoring/cpu').map((x) => x.value), run.id).toEqual(cpu.map((e) => e['system.cpu']));
        expect(stack.neptune.inspect.floatSeries(id, 'monitoring/gpu.0.temp')).toHaveLength(events.length);
        const lines = consoleText(run);
        const stdoutSeries = stack.neptune.inspect.stringSeries(id, 'monitoring/stdout');
        // Pieces of a split line share the integer part of their step.
        const joined = new Map<number, string>();
        for (const e of stdoutSeries) joined.set(Math.floor(e.step), (joined.get(Math.floor(e.step)) ?? '') + e.value);
        expect([...joined.values()], run.id).toEqual(lines);
        expect(stdoutSeries.every((e) => [...e.value].length <= 1000)).toBe(true);
      }
    }
  });

  it('Files rows: code and requirements → source_code/files, checkpoints → checkpoints, the rest → files; byte for byte', () => {
    for (const p of stack.entity.projects) {
      for (const run of p.runs) {
        const id = neptuneRunId(stack.neptune, neptuneProject(p.name), run.id)!;
        const want = new Map<string, Map<string, Buffer>>();
        for (const f of run.files) {
          const set = expectedFileSet(f);
          if (!set) continue;
          if (!want.has(set)) want.set(set, new Map());
          want.get(set)!.set(f.name, fileBytes(f));
        }
        for (const set of ['source_code/files', 'checkpoints', 'files']) {
          const got = stack.neptune.inspect.fileSet(id, set);
          const expected = want.get(set) ?? new Map();
          expect(Object.keys(got).sort(), `${run.id} ${set}`).toEqual([...expected.keys()].sort());
          for (const [name, bytes] of expected) expect(got[name]?.equals(bytes), `${run.id} ${set}/${name}`).toBe(true);
        }
      }
    }
  });

  it('secrets: neither the W&B key nor the Neptune token or its key appear in the log file, the ledger or the output', () => {
    const neptuneKey = (JSON.parse(Buffer.from(stack.env.NEPTUNE_API_TOKEN, 'base64').toString()) as { api_key: string }).api_key;
    const written = readdirSync(dir)
      .filter((f) => f.endsWith('.log') || f.startsWith('ledger.sqlite'))
      .map((f) => readFileSync(join(dir, f)).toString('latin1'));
    expect(written.length).toBeGreaterThanOrEqual(2);
    for (const text of [...written, stdout]) {
      for (const secret of [stack.env.WANDB_API_KEY, stack.env.NEPTUNE_API_TOKEN, neptuneKey]) expect(text.includes(secret)).toBe(false);
    }
    // The key went to the W&B API only: never to a storage (signed) URL.
    expect(stack.wandb.stats().downloadsWithAuth).toBe(0);
  });

  it('The report: counts NaN points dropped, by reason, for the runs that hold them; media are carried, not left out', () => {
    const report = (events(stdout).find((e) => e.type === 'report') as unknown as {
      report: { runs: Array<{ run: string; notWritten: Array<{ reason: string; subject: string; count: number; detail?: string }> }> };
    }).report;
    for (const p of stack.entity.projects) {
      for (const run of p.runs) {
        const want = expectedHistory(run);
        const r = report.runs.find((x) => x.run === `${stack.entity.name}/${p.name}/${run.id}`)!;
        const nonFinite = r.notWritten.filter((o) => o.reason === 'non-finite').reduce((n, o) => n + o.count, 0);
        expect(nonFinite, run.id).toBe(want.nonFinite);
        // Issue 11: the kinds the generator logs all land; no line leaves one out.
        for (const kind of want.media.keys()) expect(r.notWritten.filter((o) => o.subject === kind || o.detail?.includes(kind)), `${run.id} ${kind}`).toEqual([]);
      }
    }
  });

  it('History media rows (issue 11): images read back byte for byte per step with caption; histograms, tables, other media and long lists as file sets', async () => {
    const neptune = await session(stack.neptune);
    let images = 0;
    let histograms = 0;
    let tables = 0;
    let others = 0;
    let lists = 0;
    for (const p of stack.entity.projects) {
      for (const run of p.runs) {
        const id = neptuneRunId(stack.neptune, neptuneProject(p.name), run.id)!;
        const want = expectedHistory(run);
        const bytesOf = (name: string) => fileBytes(run.files.find((f) => f.name === name)!);
        for (const [path, list] of want.images) {
          // Step, timestamp and caption as stored; the bytes through the served read endpoints.
          const stored = stack.neptune.inspect.stringSeries(id, path).map((e) => ({ ...e, value: JSON.parse(e.value) as { description?: string } }));
          expect(stored.map((e) => [e.step, e.timestampMs, e.value.description]), `${run.id} ${path}`).toEqual(list.map((x) => [x.step, x.timestampMs, x.caption]));
          const count = await neptune.api('/api/leaderboard/v1/attributes/series/image', { experimentId: id, attribute: path });
          expect(count.json).toEqual({ totalItemCount: list.length });
          for (let i = 0; i < list.length; i++) {
            const one = await neptune.api('/api/leaderboard/v1/attributes/series/image/single', { experimentId: id, attribute: path, index: i });
            expect(one.status).toBe(200);
            expect(one.bytes.equals(bytesOf(list[i].file)), `${run.id} ${path} #${i}`).toBe(true);
            images++;
          }
        }
        for (const [key, list] of want.histograms) {
          const got = stack.neptune.inspect.fileSet(id, `media/histograms/${key}`);
          expect(Object.keys(got).sort(), `${run.id} ${key}`).toEqual(list.map((h) => `${h.step}.json`).sort());
          for (const h of list) expect(JSON.parse(got[`${h.step}.json`].toString('utf8'))).toEqual({ bins: h.bins, values: h.values });
          histograms += list.length;
        }
        for (const [key, list] of want.tables) {
          const got = stack.neptune.inspect.fileSet(id, `media/tables/${key}`);
          for (const t of list) {
            const json = bytesOf(t.file);
            expect(got[`${t.step}.table.json`]?.equals(json), `${run.id} ${key} ${t.step}`).toBe(true);
            expect(got[`${t.step}.csv`]?.toString('utf8')).toBe(expectedTableCsv(json));
            tables++;
          }
        }
        // Every other media kind (media-everything): the W&B file as it is, one per step.
        for (const [set, list] of want.mediaFiles) {
          const got = stack.neptune.inspect.fileSet(id, set);
          for (const f of list) {
            const name = f.file.slice(f.file.lastIndexOf('/') + 1);
            expect(got[`${f.step}.${name.slice(name.indexOf('.') + 1)}`]?.equals(bytesOf(f.file)), `${run.id} ${set} ${f.step}`).toBe(true);
            others++;
          }
        }
        for (const [key, list] of want.lists) {
          const got = stack.neptune.inspect.fileSet(id, `media/lists/${key}`);
          for (const l of list) expect(JSON.parse(got[`${l.step}.json`].toString('utf8')), `${run.id} ${key}`).toEqual(l.value);
          lists += list.length;
        }
      }
    }
    // The all-shapes entity logs every one of these kinds: a test that checked nothing would fail here.
    expect(images).toBeGreaterThan(0);
    expect(histograms).toBeGreaterThan(0);
    expect(tables).toBeGreaterThan(0);
    expect(others).toBeGreaterThan(0);
    expect(lists).toBeGreaterThan(0);
  });

  it('a second migration with the same ledger sends nothing (no image, file or point twice)', async () => {
    // Every request that writes: operations, file-set uploads (tar, single, multipart).
    const writes = () => Object.entries(stack.neptune.stats().byEndpoint).filter(([name]) => /^(executeOperations|upload|fileSet)/.test(name));
    const before = writes();
    expect(before.length).toBeGreaterThan(0);
    const again = await runCli(['migrate', '--workspace', 'demo', '--projects', 'all', '--yes', '--json', '--ledger', join(dir, 'ledger.sqlite')], stack.env, dir).done;
    expect(again.code).toBe(0);
    expect(writes()).toEqual(before);
  }, 120_000);
});

describe('migrate through the CLI: the shapes mapping.md singles out', () => {
  const runNamed = (name: string) => {
    const p = stack.entity.projects.find((x) => x.runs.some((r) => r.displayName === name))!;
    const run = p.runs.find((r) => r.displayName === name)!;
    const id = neptuneRunId(stack.neptune, neptuneProject(p.name), run.id)!;
    expect(id, name).toBeDefined();
    const report = (events(stdout).find((e) => e.type === 'report') as unknown as {
      report: { runs: Array<{ run: string; notWritten: Array<{ reason: string; subject: string; count: number; detail?: string }>; notices: Array<{ kind: string; message: string }> }> };
    }).report.runs.find((r) => r.run === `${stack.entity.name}/${p.name}/${run.id}`)!;
    return { p, run, id, attrs: stack.neptune.inspect.attributes(id), report };
  };

  it('a run id longer than Neptune keeps: a shorter custom run id derived from it, the full id in wandb/run_id', () => {
    const { run, attrs } = runNamed('long-run-id');
    expect(run.id.length).toBeGreaterThan(36);
    const custom = attrs['sys/custom_run_id']?.value as string;
    expect(custom.length).toBeLessThanOrEqual(36);
    expect(custom).not.toBe(run.id);
    // A readable prefix of the W&B id, then what tells it apart.
    expect(run.id.startsWith(custom.slice(0, 16))).toBe(true);
    expect(attrs['wandb/run_id']?.value).toBe(run.id);
  });

  it('a sweep run carries its sweep', () => {
    const { run, attrs } = runNamed('sweep-trial-0');
    expect(run.sweep).toBeTruthy();
    expect(attrs['wandb/sweep']?.value).toBe(run.sweep);
  });

  it('invalid config JSON: the run migrates with no config field, raw text in wandb/configRaw, a line in the report', () => {
    const { run, attrs, report } = runNamed('invalid-config-json');
    expect(run.configJson).toBeTruthy();
    expect(attrs['wandb/configRaw']?.value).toBe(run.configJson);
    expect(Object.keys(attrs).filter((k) => k.startsWith('config/'))).toEqual([]);
    expect(JSON.stringify(report.notices)).toMatch(/config/i);
  });

  it('system metrics W&B offers only sampled: every sample it gave lands, the report says sampled and how many of how many', () => {
    const { run, id, report } = runNamed('sampled-system-metrics');
    const served = [...run.systemEvents()];
    expect(served.length).toBeLessThan(run.systemEventCount);
    const cpu = stack.neptune.inspect.floatSeries(id, 'monitoring/cpu');
    expect(cpu.map((x) => x.value)).toEqual(served.map((e) => e['system.cpu']));
    expect(cpu.map((x) => x.timestampMs)).toEqual(served.map((e) => Math.round((e._timestamp as number) * 1000)));
    const line = report.notWritten.find((o) => o.reason === 'sampled-source');
    expect(line, JSON.stringify(report.notWritten)).toBeDefined();
    expect(line!.detail).toContain(`${served.length} of ${run.systemEventCount}`);
  });

  it('colliding history keys `loss` and `loss/val`: both land, the later renamed `loss_/val`, the rename reported', () => {
    const { run, id, report } = runNamed('colliding-keys');
    const rows = [...run.history()];
    expect(stack.neptune.inspect.floatSeries(id, 'loss').map((x) => x.value)).toEqual(rows.map((r) => r.loss));
    expect(stack.neptune.inspect.floatSeries(id, 'loss_/val').map((x) => x.value)).toEqual(rows.filter((r) => 'loss/val' in r).map((r) => r['loss/val']));
    const renamed = report.notWritten.filter((o) => o.reason === 'renamed');
    expect(renamed.map((o) => o.subject)).toContain('loss/val');
  });

  it('colliding keys: the summary twins follow the same rename (summary/loss and summary/loss_/val), nothing lost', () => {
    const { run, attrs } = runNamed('colliding-keys');
    const want = expectedTree('summary', run.summary);
    expect(want.has('summary/loss_/val')).toBe(true);
    const got = Object.fromEntries(Object.entries(attrs).filter(([k]) => k.startsWith('summary/')).map(([k, a]) => [k, a.value]));
    expect(got).toEqual(Object.fromEntries(want));
  });
});
