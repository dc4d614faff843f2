/**
 * Issue 12, "media and artifacts once they are carried": after a migration with `--include artifacts`
 * over Protocol A, `verify` (with the ledger, which knows the option) checks every artifact file of the
 * logging run by size and W&B's MD5, the version's fields and `artifacts/used`: clean it verifies; a
 * flipped byte in an artifact file, a removed version field and a removed `artifacts/used` are each
 * named as a mismatch of that run.
 */
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../../emulators/stack.ts';
import { generateEntity } from '../../emulators/wandb/index.ts';
import type { GenArtifact } from '../../emulators/wandb/generator/artifacts.ts';
import { events, runCli } from '../support/cli.ts';
import { neptuneRunId } from '../support/neptune-snapshot.ts';
import { NeptuneCorruptor } from '../verify/corrupt-neptune.ts';

interface Diff { scope: string; subject: string; detail: string; explainedBy?: string }
interface RunV { run: { runId: string }; status: string; differences: Diff[]; checked: { files: number; fields: number } }
interface VerifyReport { runs: RunV[] }

let stack: Stack;
let dir: string;
let storage: string;
let ledger: string;
let arts: GenArtifact[];
let wandbProject: string;
const project = () => `demo/${wandbProject.replace(/_/g, '-')}`;
const base = (a: GenArtifact) => `artifacts/${a.name}/v${a.versionIndex}`;

async function verify(): Promise<{ code: number; report: VerifyReport }> {
  const out = await runCli(['verify', '--workspace', 'demo', '--projects', wandbProject, '--runs', runs().join(','), '--json', '--ledger', ledger], stack.env, dir).done;
  const report = (events(out.stdout).find((e) => e.type === 'report') as unknown as { report: VerifyReport } | undefined)?.report;
  if (!report) throw new Error(`verify printed no report (${out.code}): ${out.stderr}`);
  return { code: out.code ?? -1, report };
}
const runs = () => [...new Set(arts.flatMap((a) => [a.loggedBy, ...a.usedBy]))];
const unexplained = (r: RunV) => r.differences.filter((d) => !d.explainedBy);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'w2n-verify-artifacts-'));
  storage = join(dir, 'neptune.sqlite');
  ledger = join(dir, 'ledger.sqlite');
  const entity = generateEntity({ seed: 11, preset: 'all-shapes', entity: 'art-team' });
  arts = entity.artifacts ?? [];
  wandbProject = arts[0]?.project ?? '';
  stack = await startStack({ entity, workDir: join(dir, 'export'), neptune: { storage, protocolB: { statusDelayMs: 5, unavailableChecks: 1 } } });
  const out = await runCli(
    ['migrate', '--workspace', 'demo', '--projects', wandbProject, '--runs', runs().join(','), '--include', 'artifacts', '--yes', '--json', '--ledger', ledger],
    stack.env, dir,
  ).done;
  if (out.code !== 0) throw new Error(`migrate failed (${out.code}): ${out.stderr}`);
}, 240_000);

afterAll(async () => {
  await stack?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('verify of carried artifacts (issue 12)', () => {
  it('clean: every run verified, the logging run with its artifact files and fields checked', async () => {
    const { code, report } = await verify();
    expect(code).toBe(0);
    for (const r of report.runs) expect(unexplained(r), r.run.runId).toEqual([]);
    const logger = report.runs.find((r) => r.run.runId === arts[0].loggedBy)!;
    const stored = arts.filter((a) => a.loggedBy === logger.run.runId).flatMap((a) => a.entries.filter((e) => e.file));
    // Every stored artifact file was read back (beside the run's own files).
    expect(logger.checked.files).toBeGreaterThanOrEqual(stored.length);
  }, 120_000);

  it('over Protocol B too: the artifact files (one FileRef each) and fields of a B migration verify clean', async () => {
    const bLedger = join(dir, 'b.sqlite');
    const map = ['--project-map', `${wandbProject}=b-${wandbProject.replace(/_/g, '-')}`];
    const sel = ['--workspace', 'demo', '--projects', wandbProject, '--runs', runs().join(','), ...map, '--protocol', 'b', '--json', '--ledger', bLedger];
    const migrated = await runCli(['migrate', ...sel, '--include', 'artifacts', '--yes'], stack.env, dir).done;
    expect(migrated.code, migrated.stderr).toBe(0);
    const out = await runCli(['verify', ...sel], stack.env, dir).done;
    const report = (events(out.stdout).find((e) => e.type === 'report') as unknown as { report: VerifyReport }).report;
    expect(out.code, out.stderr).toBe(0);
    for (const r of report.runs) expect(unexplained(r), r.run.runId).toEqual([]);
    const logger = report.runs.find((r) => r.run.runId === arts[0].loggedBy)!;
    expect(logger.checked.files).toBeGreaterThanOrEqual(arts.filter((a) => a.loggedBy === arts[0].loggedBy).flatMap((a) => a.entries.filter((e) => e.file)).length);
  }, 180_000);

  it('over B, the migration again with its ledger lost: every artifact file and manifest is found there, no byte is sent again', async () => {
    const bLedger = join(dir, 'b.sqlite');
    rmSync(bLedger);
    const puts = () => stack.neptune.stats().byEndpoint.storagePutObject ?? 0;
    const before = puts();
    const map = ['--project-map', `${wandbProject}=b-${wandbProject.replace(/_/g, '-')}`];
    const out = await runCli(['migrate', '--workspace', 'demo', '--projects', wandbProject, '--runs', runs().join(','), ...map, '--protocol', 'b', '--json', '--ledger', bLedger,
      '--include', 'artifacts', '--yes'], stack.env, dir).done;
    expect(out.code, out.stderr).toBe(0);
    expect(puts() - before).toBe(0);
    const report = (events(out.stdout).find((e) => e.type === 'report') as unknown as { report: { runs: Array<{ run: string; written: Record<string, number> }> } }).report;
    const logger = report.runs.find((r) => r.run.endsWith(`/${arts[0].loggedBy}`))!;
    const stored = arts.filter((a) => a.loggedBy === arts[0].loggedBy).flatMap((a) => a.entries.filter((e) => e.file)).length;
    const manifests = arts.filter((a) => a.loggedBy === arts[0].loggedBy && a.entries.some((e) => !e.file)).length;
    expect(manifests).toBeGreaterThan(0);
    expect(logger.written.artifactFiles ?? 0).toBe(0);
    expect(logger.written.filesAlreadyPresent).toBeGreaterThanOrEqual(stored + manifests);
  }, 180_000);

  it('a flipped artifact byte, a removed version field and a removed artifacts/used are each a mismatch naming the run and subject', async () => {
    const logged = arts.find((a) => a.entries.some((e) => e.file))!;
    const entry = logged.entries.find((e) => e.file)!;
    const user = arts.flatMap((a) => a.usedBy).find((id) => id !== logged.loggedBy)!;
    const loggerId = neptuneRunId(stack.neptune, project(), logged.loggedBy)!;
    const userId = neptuneRunId(stack.neptune, project(), user)!;
    const db = new NeptuneCorruptor(storage);
    try {
      db.flipByte(loggerId, `${base(logged)}/files`, entry.path);
      db.removeField(loggerId, `${base(logged)}/digest`);
      db.removeField(userId, 'artifacts/used');
    } finally {
      db.close();
    }
    const { code, report } = await verify();
    expect(code).toBe(5);
    const of = (runId: string) => report.runs.find((r) => r.run.runId === runId)!;
    expect(of(logged.loggedBy).status).toBe('mismatch');
    expect(unexplained(of(logged.loggedBy)).map((d) => [d.scope, d.subject]).sort()).toEqual([
      ['field', `${base(logged)}/digest`],
      ['file', `${base(logged)}/files/${entry.path}`],
    ]);
    expect(of(user).status).toBe('mismatch');
    // Its artifacts/used is gone, and the copy it pointed at lost its digest in the logging run: both named.
    expect(unexplained(of(user)).map((d) => [d.scope, d.subject, d.detail.includes(`points at the copy held by run art-team/${wandbProject}/${logged.loggedBy}`)])).toEqual([
      ['field', 'artifacts/used', false],
      ...(logged.usedBy.includes(user) ? [['field', 'artifacts/used', true]] : []),
    ]);
  }, 120_000);

  it('a version is checked in the run the ledger says copied it, and `artifacts/used` must point at a copy that run holds', async () => {
    // A migration of its own (another Neptune project, another ledger), so the damage above does not meet this one's.
    const cLedger = join(dir, 'c.sqlite');
    const cProject = `c-${wandbProject.replace(/_/g, '-')}`;
    const sel = ['--workspace', 'demo', '--projects', wandbProject, '--runs', runs().join(','), '--project-map', `${wandbProject}=${cProject}`, '--json', '--ledger', cLedger];
    const migrated = await runCli(['migrate', ...sel, '--include', 'artifacts', '--yes'], stack.env, dir).done;
    expect(migrated.code, migrated.stderr).toBe(0);
    const model = arts.find((a) => a.name === 'model' && a.versionIndex === 1)!;
    const shared = arts.find((a) => a.usedBy.length > 0)!;
    const other = runs().find((id) => id !== model.loggedBy)!;
    const entity = 'art-team';
    // The ledger says another run copied model:v1 (which holds nothing of it); Neptune loses the shared version's digest in the run that holds it.
    const book = new Database(cLedger);
    try {
      const n = book.prepare('UPDATE artifact_versions SET run_key = ? WHERE artifact = ?').run(`${entity}/${wandbProject}/${other}`, `${entity}/${wandbProject}/model:v1`).changes;
      expect(n).toBe(1);
    } finally {
      book.close();
    }
    const db = new NeptuneCorruptor(storage);
    try {
      db.removeField(neptuneRunId(stack.neptune, `demo/${cProject}`, shared.loggedBy)!, `${base(shared)}/digest`);
    } finally {
      db.close();
    }
    const out = await runCli(['verify', ...sel], stack.env, dir).done;
    const report = (events(out.stdout).find((e) => e.type === 'report') as unknown as { report: VerifyReport }).report;
    expect(out.code).toBe(5);
    const of = (runId: string) => report.runs.find((r) => r.run.runId === runId)!;
    const stored = model.entries.filter((e) => e.file).map((e) => e.path).sort();
    expect(stored.length).toBeGreaterThan(0);
    // The logging run: model:v1's files looked for in the run the ledger names, and its own lost digest.
    const bySubject = (a: unknown[], b: unknown[]) => String(a[1]).localeCompare(String(b[1]));
    expect(unexplained(of(model.loggedBy)).map((d) => [d.scope, d.subject, d.detail]).sort(bySubject)).toEqual([
      ['field', `${base(shared)}/digest`, expect.stringMatching(/^missing in Neptune \(W&B: string "[0-9a-f]{32}"\)$/)],
      ...stored.map((p) => ['file', `${base(model)}/files/${p}`, expect.stringMatching(new RegExp(`^missing in Neptune \\(W&B: \\d+ bytes\\) \\(the copy held by run ${entity}/${wandbProject}/${other}\\)$`))]),
    ].sort(bySubject));
    // Each run that used the shared version: its artifacts/used points at a copy without that digest.
    for (const u of shared.usedBy) {
      expect(of(u).status, u).toBe('mismatch');
      expect(unexplained(of(u)).map((d) => [d.scope, d.subject, d.detail]), u).toEqual([[
        'field', 'artifacts/used',
        expect.stringMatching(new RegExp(`^${shared.name}:v${shared.versionIndex} points at the copy held by run ${entity}/${wandbProject}/${shared.loggedBy}, whose ${base(shared)}/digest is missing \\(W&B: string "[0-9a-f]{32}"\\)$`)),
      ]]);
    }
  }, 180_000);
});
