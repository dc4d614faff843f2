/**
 * A run's artifacts (`--include artifacts`, mapping/artifacts.ts): the versions it used become the
 * string set `artifacts/used`; each version it logged gets its fields, and its files are copied once —
 * by the run that logged it, never again by a later pass or another run — one file per upload, each
 * recorded in the ledger only after the target acknowledged it, so a kill mid-version resumes with the
 * files not yet there. Files stream from W&B to a temporary file (digest-checked) and from there to
 * Neptune: never a whole file in memory.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ArtifactEntryUnavailable, type ArtifactReader, type ArtifactVersion } from '../core/artifacts.ts';
import { isAbortError, isFileGone } from '../core/errors.ts';
import type { RunInfo } from '../core/records.ts';
import type { TargetRun, TargetRunState } from '../core/sink.ts';
import type { FieldAssignment, FileSetAnswer, Omission } from '../core/target.ts';
import { ArtifactLedger } from '../ledger/artifacts.ts';
import { runKeyString } from '../ledger/ledger.ts';
import { artifactBase, artifactFilesPath, mapArtifactFields, mapUsedArtifacts, planArtifact, type ArtifactPlan } from '../mapping/artifacts.ts';
import { capabilitiesOf } from '../mapping/options.ts';
import type { MigrationContext } from './context.ts';
import { leftForNextPass } from './left-for-next-pass.ts';

/** The ledger's paths of a version's manifest file, and of its planned report lines (no entry path starts with a NUL). */
const MANIFEST_ENTRY = '\u0000manifest';
const PLANNED_ENTRY = '\u0000planned';

export async function migrateArtifacts(run: RunInfo, target: TargetRun, ctx: MigrationContext, state?: TargetRunState): Promise<void> {
  const reader = ctx.source.artifacts;
  if (!ctx.mapping.include.has('artifacts') || !reader) return;
  const book = new ArtifactLedger(ctx.ledger);
  const caps = capabilitiesOf(ctx.mapping);
  const used: ArtifactVersion[] = [];
  for await (const a of reader.used(run, ctx.signal)) used.push(a);
  const fields: FieldAssignment[] = [...mapUsedArtifacts(used)];
  const failed: string[] = [];
  for await (const a of reader.logged(run, ctx.signal)) {
    fields.push(...mapArtifactFields(a, caps));
    await copyVersion(run, a, reader, target, book, ctx, state, failed);
  }
  await writeFields(run, target, fields, book, ctx);
  // A file W&B failed to serve (5xx or resets past the download retries) is a report line, and the run
  // is left not done (as an unreadable provenance is), so that the next pass tries that file again — an
  // unchanged run that is done is never read again. A file that is gone is only the line (copyFile).
  if (failed.length > 0) throw leftForNextPass('artifact', failed);
}

/** Copies what the ledger does not yet hold of a version; a version already copied costs nothing. */
async function copyVersion(
  run: RunInfo,
  a: ArtifactVersion,
  reader: ArtifactReader,
  target: TargetRun,
  book: ArtifactLedger,
  ctx: MigrationContext,
  state: TargetRunState | undefined,
  /** Where the subjects of files that could not be downloaded go. */
  failed: string[],
): Promise<void> {
  const before = book.version(a.key);
  if (before?.status === 'done' && before.digest === a.digest) return;
  // The version belongs to the run that began its copy (W&B can list one version as logged by two runs
  // that logged the same bytes): only that run copies it, so it is never split or copied twice.
  if (before && before.runKey !== runKeyString(run.key)) return;
  book.begin(a.key, a.digest, run.key);
  let manifest;
  try {
    manifest = await reader.manifest(run, a, ctx.signal);
  } catch (error) {
    if (!(error instanceof ArtifactEntryUnavailable)) throw error;
    // Gone (storage's 404/410, no URL, not on disk): the line, and the version done without its files —
    // a later pass meets the same answer. Failing for now was thrown above: the run is tried again.
    book.recordGone(a.key, run.key, { path: MANIFEST_ENTRY, digest: a.digest }, { reason: 'download-failed', subject: artifactBase(a), count: 1, detail: error.message });
    book.finish(a.key);
    return;
  }
  const plan = planArtifact(a, manifest, capabilitiesOf(ctx.mapping), ctx.artifactMaxBytes);
  const copied = book.copiedFiles(a.key);
  // Settled: copied, or gone with its line (a version is immutable: the same digest meets the same 404).
  const settledIn = (copiedNow: ReadonlyMap<string, string>, goneNow: ReadonlyMap<string, string>) => (path: string, digest: string) =>
    copiedNow.get(path) === digest || goneNow.get(path) === digest;
  const settled = settledIn(copied, book.goneFiles(a.key));
  // Said once per version, in the same commit as the marker that says so.
  if (!copied.has(PLANNED_ENTRY)) book.recordFiles(a.key, run.key, [{ path: PLANNED_ENTRY, digest: a.digest, size: 0 }], { omissions: plan.omissions }, [artifactBase(a)]);
  const filesPath = artifactFilesPath(a);
  // A kill after the target took a file but before the ledger heard of it, or a ledger lost since: what
  // the target already holds (same size) is recorded, not sent again. Asked when the ledger began this
  // version's copy, or knows nothing of it and the run's state shows its files there; never for a
  // version whose digest changed (its old files could have the same sizes).
  const held = async (path: string): Promise<ReadonlyMap<string, number>> => {
    const ask = before ? before.digest === a.digest : (state?.fileSets ?? []).includes(path);
    return ask && target.listFileSet ? await target.listFileSet(path, ctx.signal).catch(() => new Map<string, number>()) : new Map<string, number>();
  };
  const present = await held(filesPath);
  const toCopy = plan.files.filter((f) => !settled(f.entry.path, f.entry.digest));
  // Held with the same size: kept where the target proves the bytes by the entry's MD5 (W&B's digest),
  // else sent again; a target that can prove nothing keeps it on size, and the report says so.
  const keptHere = await keptOnTarget(
    target, filesPath,
    toCopy.filter((f) => present.get(f.relativePath) === f.entry.size).map((f) => ({ relativePath: f.relativePath, sizeBytes: f.entry.size, md5: f.entry.digest })),
    ctx.signal,
  );
  const jobs = toCopy.map((f) =>
    ctx.filePool.run(async () => {
      const kept = keptHere.get(f.relativePath);
      if (kept) {
        book.recordFiles(a.key, run.key, [f.entry], { counts: kept }, [`${filesPath}/${f.relativePath}`]);
        return;
      }
      if (!(await copyFile(run, a, f, filesPath, reader, target, book, ctx))) failed.push(`${filesPath}/${f.relativePath}`);
    }),
  );
  if (plan.manifestFile && !copied.has(MANIFEST_ENTRY)) {
    const m = plan.manifestFile;
    const bytes = Buffer.byteLength(manifest.json);
    const there = (await held(m.path)).get(m.relativePath) === bytes
      ? (await keptOnTarget(target, m.path, [{ relativePath: m.relativePath, sizeBytes: bytes, md5: createHash('md5').update(manifest.json).digest('base64') }], ctx.signal)).get(m.relativePath)
      : undefined;
    jobs.push(ctx.filePool.run(() => copyManifest(run, a, manifest.json, plan, target, book, ctx, there)));
  }
  const results = await Promise.allSettled(jobs);
  const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failure) throw failure.reason;
  // A version with a file that failed for now (or that the target refused) stays `copying`: the next
  // pass tries that file again. One whose every file is copied or gone is done.
  const now = book.copiedFiles(a.key);
  const settledNow = settledIn(now, book.goneFiles(a.key));
  if (plan.files.every((f) => settledNow(f.entry.path, f.entry.digest)) && (!plan.manifestFile || now.has(MANIFEST_ENTRY))) book.finish(a.key);
}

async function copyFile(
  run: RunInfo,
  a: ArtifactVersion,
  f: ArtifactPlan['files'][number],
  filesPath: string,
  reader: ArtifactReader,
  target: TargetRun,
  book: ArtifactLedger,
  ctx: MigrationContext,
): Promise<boolean> {
  const subject = `${filesPath}/${f.relativePath}`;
  if (ctx.dryRun) {
    ctx.ledger.commit(run.key, 'files', { counts: { files: 1, bytes: f.entry.size, artifactFiles: 1 } });
    return true;
  }
  let local;
  try {
    local = await reader.fetchEntry(run, a, f.entry, ctx.signal);
  } catch (error) {
    if (isAbortError(error) || ctx.signal?.aborted) throw error;
    const line: Omission = { reason: 'download-failed', subject, count: 1, detail: error instanceof Error ? error.message : String(error) };
    // One rule with run files (isFileGone): a file that is gone — storage answers 404/410, W&B lists no
    // URL for it, a run folder's file is no longer on disk — stays a line, settled in the ledger, and the
    // run is done, since a version is immutable and its blob, addressed by its digest, does not come back
    // on a retry (the SDK does not retry 404/410 either: wandb/sdk/artifacts/storage_policies/_factories.py
    // `make_http_session` retries only 308/408/409/429/5xx). Any other failure (5xx or resets past the
    // retries) is tried again on the next pass.
    if (error instanceof ArtifactEntryUnavailable || isFileGone(error)) {
      book.recordGone(a.key, run.key, { path: f.entry.path, digest: f.entry.digest }, line);
      return true;
    }
    book.recordFiles(a.key, run.key, [], { omissions: [line] });
    return false;
  }
  try {
    const answer = await target.uploadFileSet(filesPath, [{ localPath: local.path, relativePath: f.relativePath, sizeBytes: local.sizeBytes }], ctx.signal);
    if (answer.refused.length) {
      book.recordFiles(a.key, run.key, [], { omissions: answer.refused.map((o) => ({ ...o, subject })) });
      return true;
    }
    book.recordFiles(a.key, run.key, [f.entry], { counts: landedCounts(answer, local.sizeBytes, { artifactFiles: 1 }) }, [subject]);
    // The display shows a run's files so far: what the ledger holds for it, run files and artifact files.
    const held = ctx.ledger.counts(run.key);
    ctx.emit({ type: 'run.progress', run: run.key, stream: 'files', points: 0, files: held.files ?? 0, bytes: held.bytes ?? 0 });
    return true;
  } finally {
    await local.release().catch(() => {});
  }
}

/**
 * Of files a set holds with the source's size, those kept rather than sent again, with the counts each
 * records: where the target can prove bytes (`provenSame`: B's storage MD5/ETag against the MD5 given),
 * only those it proves; where it cannot (Protocol A lists sizes only), every one, counted as
 * `filesKeptOnSize` too, so the report never calls a size a proof.
 */
async function keptOnTarget(
  target: TargetRun,
  path: string,
  files: ReadonlyArray<{ relativePath: string; sizeBytes: number; md5: string }>,
  signal?: AbortSignal,
): Promise<Map<string, Record<string, number>>> {
  const kept = new Map<string, Record<string, number>>();
  if (files.length === 0) return kept;
  if (!target.provenSame) {
    for (const f of files) kept.set(f.relativePath, { filesAlreadyPresent: 1, filesKeptOnSize: 1 });
    return kept;
  }
  const proven = await target.provenSame(path, files, signal);
  for (const f of files) if (proven.has(f.relativePath)) kept.set(f.relativePath, { filesAlreadyPresent: 1 });
  return kept;
}

/**
 * The counts of one file the target took: written with its bytes (and `extra`), or, where the target
 * answered that it already held it (proven at the upload, not sent), already present with none.
 */
function landedCounts(answer: FileSetAnswer, bytes: number, extra: Record<string, number> = {}): Record<string, number> {
  return answer.alreadyPresent.length ? { filesAlreadyPresent: 1 } : { files: 1, bytes, ...extra };
}

/** The version's manifest, as a file: where its reference entries are kept when the server cannot track them. */
async function copyManifest(
  run: RunInfo,
  a: ArtifactVersion,
  json: string,
  plan: ArtifactPlan,
  target: TargetRun,
  book: ArtifactLedger,
  ctx: MigrationContext,
  /** The counts to record when the target already holds this manifest (keptOnTarget), else undefined. */
  kept: Record<string, number> | undefined,
): Promise<void> {
  const m = plan.manifestFile!;
  const bytes = Buffer.byteLength(json);
  if (kept) {
    book.recordFiles(a.key, run.key, [{ path: MANIFEST_ENTRY, digest: a.digest, size: bytes }], { counts: kept });
    return;
  }
  if (ctx.dryRun) {
    ctx.ledger.commit(run.key, 'files', { counts: { files: 1, bytes } });
    return;
  }
  const dir = await mkdtemp(join(tmpdir(), 'w2n-manifest-'));
  try {
    const path = join(dir, m.relativePath);
    await writeFile(path, json);
    const answer = await target.uploadFileSet(m.path, [{ localPath: path, relativePath: m.relativePath, sizeBytes: bytes }], ctx.signal);
    if (answer.refused.length) book.recordFiles(a.key, run.key, [], { omissions: answer.refused.map((o) => ({ ...o, subject: `${m.path}/${m.relativePath}` })) });
    else book.recordFiles(a.key, run.key, [{ path: MANIFEST_ENTRY, digest: a.digest, size: bytes }], { counts: landedCounts(answer, bytes) });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The artifact fields; each counted once, the first time the target acknowledges it. */
async function writeFields(run: RunInfo, target: TargetRun, fields: readonly FieldAssignment[], book: ArtifactLedger, ctx: MigrationContext): Promise<void> {
  const changed = book.changedFields(run.key, fields);
  if (changed.length === 0) return;
  target.assign(changed);
  const refused = await target.flush(ctx.signal);
  const bad = new Set(refused.map((o) => o.subject));
  const landed = changed.filter((f) => !bad.has(f.path));
  book.recordFields(run.key, landed, { omissions: refused });
}
