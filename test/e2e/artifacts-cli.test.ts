/**
 * Issue 11, artifacts: the all-shapes entity's logged artifacts (stored files, a reference entry of
 * each scheme, two versions of one name) and a used artifact migrate through the CLI with
 * `--include artifacts` over Protocol A and over Protocol B, and read back equal: every artifact file
 * by its bytes and W&B's digest, every field by value, the used versions as `artifacts/used`.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../../emulators/stack.ts';
import { generateEntity, type GenEntity } from '../../emulators/wandb/index.ts';
import { artifactDigest, artifactSize, manifestJson, type GenArtifact } from '../../emulators/wandb/generator/artifacts.ts';
import { events, runCli } from '../support/cli.ts';
import { fileBytes } from '../support/expected.ts';
import { neptuneRunId } from '../support/neptune-snapshot.ts';

interface Report {
  runs: Array<{ run: string; written: Record<string, number>; notWritten: Array<{ reason: string; subject: string; count: number; detail?: string }> }>;
}

let stack: Stack;
let dir: string;
let entity: GenEntity;
let arts: GenArtifact[];
let wandbProject: string;
const reports: Record<'a' | 'b', Report> = {} as Record<'a' | 'b', Report>;

const md5 = (b: Buffer) => createHash('md5').update(b).digest('base64');
const base = (a: GenArtifact) => `artifacts/${a.name}/v${a.versionIndex}`;
const project = (protocol: 'a' | 'b') => `demo/${protocol}-${wandbProject.replace(/_/g, '-')}`;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'w2n-artifacts-'));
  entity = generateEntity({ seed: 11, preset: 'all-shapes', entity: 'art-team' });
  arts = entity.artifacts ?? [];
  wandbProject = arts[0]?.project ?? '';
  stack = await startStack({ entity, workDir: join(dir, 'export'), neptune: { protocolB: { statusDelayMs: 5, unavailableChecks: 1 } } });
  const runs = [...new Set(arts.flatMap((a) => [a.loggedBy, ...a.usedBy]))].join(',');
  for (const protocol of ['a', 'b'] as const) {
    const out = await runCli(
      ['migrate', '--workspace', 'demo', '--projects', wandbProject, '--runs', runs, '--project-map', `${wandbProject}=${project(protocol).slice(5)}`,
        '--include', 'artifacts', '--protocol', protocol, '--yes', '--json', '--ledger', join(dir, `${protocol}.sqlite`)],
      stack.env, dir,
    ).done;
    expect(out.code, out.stderr).toBe(0);
    reports[protocol] = (events(out.stdout).find((e) => e.type === 'report') as unknown as { report: Report }).report;
  }
}, 240_000);

afterAll(async () => {
  await stack?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('all-shapes artifacts', () => {
  it('the generated entity has a logged artifact with a reference entry, two versions of one name, and a version several runs used', () => {
    expect(arts.some((a) => a.entries.some((e) => e.ref?.startsWith('s3://')))).toBe(true);
    expect(arts.filter((a) => a.name === 'model').map((a) => a.versionIndex)).toEqual([0, 1]);
    expect(arts.some((a) => a.usedBy.length >= 2)).toBe(true);
  });
});

describe.each(['a', 'b'] as const)('artifacts over Protocol %s (issue 11)', (protocol) => {
  const logger = () => arts[0].loggedBy;
  const runReport = (runId: string) => reports[protocol].runs.find((r) => r.run.endsWith(`/${runId}`))!;
  /** Path → bytes of the stored files under an artifact's `files`, and the field values, as the target holds them. */
  function held(runId: string): { files: Map<string, Buffer>; fields: Record<string, unknown> } {
    const files = new Map<string, Buffer>();
    const fields: Record<string, unknown> = {};
    if (protocol === 'a') {
      const id = neptuneRunId(stack.neptune, project('a'), runId)!;
      const attrs = stack.neptune.inspect.attributes(id);
      for (const [path, a] of Object.entries(attrs)) {
        if (!path.startsWith('artifacts/')) continue;
        if (a.type === 'fileSet') for (const [sub, data] of Object.entries(stack.neptune.inspect.fileSet(id, path))) files.set(`${path}/${sub}`, data);
        else if (a.type === 'stringSet') fields[path] = [...stack.neptune.inspect.stringSet(id, path)].sort();
        else fields[path] = a.value;
      }
    } else {
      const b = stack.neptune.b.inspect;
      for (const [path, a] of Object.entries(b.attributes(project('b'), runId))) {
        if (!path.startsWith('artifacts/')) continue;
        if (a.type === 'fileRef') files.set(path, b.object(project('b'), (a.value as { path: string }).path)!.data);
        else if (a.type === 'stringSet') fields[path] = [...(a.value as string[])].sort();
        else fields[path] = typeof a.value === 'bigint' ? Number(a.value) : a.value;
      }
    }
    return { files, fields };
  }

  it('the logging run holds every stored file of every version it logged, byte for byte, each matching its W&B digest', () => {
    const got = held(logger());
    const want = new Map<string, Buffer>();
    for (const a of arts) {
      for (const e of a.entries) if (e.file) want.set(`${base(a)}/files/${e.path}`, fileBytes(e.file));
      if (a.entries.some((e) => e.ref)) want.set(`${base(a)}/manifest/wandb_manifest.json`, Buffer.from(manifestJson(a)));
    }
    expect([...got.files.keys()].sort()).toEqual([...want.keys()].sort());
    for (const [path, bytes] of want) expect(got.files.get(path)?.equals(bytes), path).toBe(true);
    for (const a of arts) for (const e of a.entries) if (e.file) expect(md5(got.files.get(`${base(a)}/files/${e.path}`)!)).toBe(e.file.md5);
  });

  it('fields: type, digest, aliases, size, description, metadata of each version, by value', () => {
    const got = held(logger()).fields;
    const want: Record<string, unknown> = {};
    for (const a of arts) {
      want[`${base(a)}/type`] = a.type;
      want[`${base(a)}/digest`] = artifactDigest(a);
      want[`${base(a)}/aliases`] = [...a.aliases].sort();
      want[`${base(a)}/size`] = artifactSize(a);
      if (a.description) want[`${base(a)}/description`] = a.description;
      if (a.metadata) want[`${base(a)}/metadata`] = JSON.stringify(a.metadata);
    }
    expect(got).toEqual(want);
  });

  it('reference entries are one report line saying the server cannot track them (their manifest landed as a file)', () => {
    const withRefs = arts.filter((a) => a.entries.some((e) => e.ref));
    const lines = runReport(logger()).notWritten.filter((o) => o.subject.endsWith('/references'));
    expect(lines.map((o) => [o.reason, o.subject, o.count])).toEqual(withRefs.map((a) => ['unsupported-value', `${base(a)}/references`, a.entries.filter((e) => e.ref).length]));
    expect(lines[0].detail).toMatch(/s3:\/\/.*cannot be tracked/);
  });

  it('runs that used a version get `artifacts/used` (name:version) and no copy of it', () => {
    const users = [...new Set(arts.flatMap((a) => a.usedBy))];
    expect(users.length).toBeGreaterThanOrEqual(2);
    for (const u of users) {
      const got = held(u);
      expect(got.files.size, u).toBe(0);
      expect(got.fields, u).toEqual({ 'artifacts/used': arts.filter((a) => a.usedBy.includes(u)).map((a) => `${a.name}:v${a.versionIndex}`).sort() });
    }
  });

  it('the report counts what landed: the logging run\'s artifact files', () => {
    const stored = arts.reduce((n, a) => n + a.entries.filter((e) => e.file).length, 0);
    expect(runReport(logger()).written.artifactFiles).toBe(stored);
  });
});
