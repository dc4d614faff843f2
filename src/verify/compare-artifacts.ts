import { createHash } from 'node:crypto';
import { runPath, type RunInfo } from '../core/records.ts';
import { ArtifactEntryUnavailable, type ArtifactVersion } from '../core/artifacts.ts';
import type { FieldAssignment } from '../core/target.ts';
import type { HeldField } from '../sinks/neptune/read-back.ts';
import { artifactBase, artifactFilesPath, artifactManifestPath, mapArtifactFields, mapUsedArtifacts, MANIFEST_FILE_NAME, planArtifact, USED_ARTIFACTS_PATH } from '../mapping/artifacts.ts';
import { ArtifactLedger } from '../ledger/artifacts.ts';
import { runKeyString } from '../ledger/ledger.ts';
import { capabilitiesOf } from '../mapping/options.ts';
import { compareFileSet, type WantedFile } from './compare-files.ts';
import { expectedText, heldText, sameAtom } from './compare-fields.ts';
import type { OnOmission } from './expected.ts';
import type { Difference, RunVerification } from './types.ts';
import type { LocatedRun, VerifyRunContext } from './verify-run.ts';

/**
 * The run's artifacts, when its migration carried them (`--include artifacts`): for each version the
 * run logged, every stored file of its manifest by size and W&B's MD5 (the manifest itself where its
 * references could not be tracked), and the version's fields; the versions it used as `artifacts/used`.
 * The same plan the migration followed (mapping/artifacts.ts) says what should be there, so what it
 * left out (too large, empty, references) is an omission, not a difference.
 *
 * A version is copied once, by the run the ledger names (`artifact_versions`): a version this run
 * logged but another run copied is checked in that run, and each version this run used must be
 * held there with W&B's digest, so `artifacts/used` points at a copy that exists.
 */
export async function compareArtifacts(
  run: RunInfo,
  containerId: string,
  held: ReadonlyMap<string, HeldField>,
  ctx: VerifyRunContext,
  onOmission: OnOmission,
  result: RunVerification,
): Promise<Difference[]> {
  const reader = ctx.source.artifacts;
  if (!reader || !ctx.mapping.include.has('artifacts')) return [];
  const caps = capabilitiesOf(ctx.mapping);
  const book = ctx.ledger && new ArtifactLedger(ctx.ledger);
  const self: LocatedRun = { reader: ctx.reader, containerId, held };
  const diffs: Difference[] = [];
  const countFile = () => result.checked.files++;
  const countMd5 = () => result.checked.md5++;
  const fields: FieldAssignment[] = [];
  for await (const a of reader.logged(run, ctx.signal)) {
    fields.push(...mapArtifactFields(a, caps));
    // The copy is where the ledger says it went: this run, or the run that logged the version first.
    const where = await copyHolder(run, a, book, self, ctx);
    if ('missing' in where) {
      diffs.push({ scope: 'file', subject: artifactFilesPath(a), detail: where.missing });
      continue;
    }
    const at = where.by ? { ...ctx, reader: where.found.reader } : ctx;
    const note = (d: Difference): Difference => (where.by ? { ...d, detail: `${d.detail} (the copy held by run ${where.by})` } : d);
    let manifest;
    try {
      manifest = await reader.manifest(run, a, ctx.signal);
    } catch (error) {
      if (!(error instanceof ArtifactEntryUnavailable)) throw error;
      // Gone from the source (the migration's rule, migrate-artifacts): what the version holds cannot be
      // known, and the migration's report line for the version (its subject) explains the difference.
      diffs.push(note({ scope: 'file', subject: artifactBase(a), detail: `W&B gives no manifest for the version, so its files cannot be checked: ${error.message}` }));
      continue;
    }
    const plan = planArtifact(a, manifest, caps);
    for (const o of plan.omissions) onOmission('artifacts', o);
    const want = new Map<string, WantedFile>(plan.files.map((p) => [p.relativePath, { sizeBytes: p.entry.size, md5: p.entry.digest, names: [`${a.name}:${a.version}/${p.entry.path}`] }]));
    diffs.push(...(await compareFileSet(artifactFilesPath(a), want, where.found.containerId, where.found.held, at, 'file', countFile, countMd5)).map(note));
    if (plan.manifestFile) {
      const bytes = Buffer.from(manifest.json, 'utf8');
      const wantManifest = new Map<string, WantedFile>([[MANIFEST_FILE_NAME, { sizeBytes: bytes.length, md5: createHash('md5').update(bytes).digest('base64') }]]);
      diffs.push(...(await compareFileSet(artifactManifestPath(a), wantManifest, where.found.containerId, where.found.held, at, 'file', countFile, countMd5)).map(note));
    }
  }
  const used: ArtifactVersion[] = [];
  for await (const a of reader.used(run, ctx.signal)) used.push(a);
  fields.push(...mapUsedArtifacts(used));
  for (const f of fields) {
    result.checked.fields++;
    const h = held.get(f.path);
    if (!h) diffs.push({ scope: 'field', subject: f.path, detail: `missing in Neptune (W&B: ${expectedText(f.value)})` });
    else if (!sameAtom(f.value, h)) diffs.push({ scope: 'field', subject: f.path, detail: `W&B: ${expectedText(f.value)}, Neptune: ${heldText(h)}` });
  }
  // `artifacts/used` names a copy another run holds: that run must hold that version (by its digest).
  for (const a of used) {
    const where = await copyHolder(run, a, book, self, ctx);
    const name = `${a.name}:${a.version}`;
    if ('missing' in where) {
      diffs.push({ scope: 'field', subject: USED_ARTIFACTS_PATH, names: [name], detail: `${name}: ${where.missing}` });
      continue;
    }
    if (!where.by) continue; // this run holds it: checked with its logged versions
    const digest = mapArtifactFields(a, caps).find((f) => f.path.endsWith('/digest'))!;
    result.checked.fields++;
    const h = where.found.held.get(digest.path);
    if (!h || !sameAtom(digest.value, h)) {
      diffs.push({
        scope: 'field', subject: USED_ARTIFACTS_PATH, names: [name],
        detail: `${name} points at the copy held by run ${where.by}, whose ${digest.path} is ${h ? heldText(h) : 'missing'} (W&B: ${expectedText(digest.value)})`,
      });
    }
  }
  return diffs;
}

/**
 * Where a version's copy is: this run (no ledger, a ledger that never began the version — the files
 * are then missing here — or one that names this run), or the run the ledger says copied it, found in
 * Neptune (`by` names it). `missing`: the ledger names a run Neptune does not have.
 */
async function copyHolder(
  run: RunInfo,
  a: ArtifactVersion,
  book: ArtifactLedger | undefined,
  self: LocatedRun,
  ctx: VerifyRunContext,
): Promise<{ found: LocatedRun; by?: string } | { missing: string }> {
  const holder = book?.holder(a.key);
  if (!holder || holder.runKey === runKeyString(run.key)) return { found: self };
  const by = runPath(holder.run);
  const found = holder.targetProject && ctx.locate ? await ctx.locate(holder.run, holder.targetProject, holder.targetRun) : undefined;
  if (!found) return { missing: `the ledger says run ${by} copied this version, and Neptune has no such run${holder.targetProject ? ` in ${holder.targetProject}` : ''}` };
  return { found, by };
}
