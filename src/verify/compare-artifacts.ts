import { createHash } from 'node:crypto';
import type { RunInfo } from '../core/records.ts';
import type { ArtifactVersion } from '../core/artifacts.ts';
import type { FieldAssignment } from '../core/target.ts';
import type { HeldField } from '../sinks/neptune/read-back.ts';
import { artifactFilesPath, artifactManifestPath, mapArtifactFields, mapUsedArtifacts, MANIFEST_FILE_NAME, planArtifact } from '../mapping/artifacts.ts';
import { capabilitiesOf } from '../mapping/options.ts';
import { compareFileSet, type WantedFile } from './compare-files.ts';
import { expectedText, heldText, sameAtom } from './compare-fields.ts';
import type { OnOmission } from './expected.ts';
import type { Difference, RunVerification } from './types.ts';
import type { VerifyRunContext } from './verify-run.ts';

/**
 * The run's artifacts, when its migration carried them (`--include artifacts`): for each version the
 * run logged, every stored file of its manifest by size and W&B's MD5 (the manifest itself where its
 * references could not be tracked), and the version's fields; the versions it used as `artifacts/used`.
 * The same plan the migration followed (mapping/artifacts.ts) says what should be there, so what it
 * left out (too large, empty, references) is an omission, not a difference.
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
  const diffs: Difference[] = [];
  const countFile = () => result.checked.files++;
  const countMd5 = () => result.checked.md5++;
  const fields: FieldAssignment[] = [];
  for await (const a of reader.logged(run, ctx.signal)) {
    const manifest = await reader.manifest(run, a, ctx.signal);
    const plan = planArtifact(a, manifest, caps);
    for (const o of plan.omissions) onOmission('artifacts', o);
    const want = new Map<string, WantedFile>(plan.files.map((p) => [p.relativePath, { sizeBytes: p.entry.size, md5: p.entry.digest, names: [`${a.name}:${a.version}/${p.entry.path}`] }]));
    diffs.push(...(await compareFileSet(artifactFilesPath(a), want, containerId, held, ctx, 'file', countFile, countMd5)));
    if (plan.manifestFile) {
      const bytes = Buffer.from(manifest.json, 'utf8');
      const wantManifest = new Map<string, WantedFile>([[MANIFEST_FILE_NAME, { sizeBytes: bytes.length, md5: createHash('md5').update(bytes).digest('base64') }]]);
      diffs.push(...(await compareFileSet(artifactManifestPath(a), wantManifest, containerId, held, ctx, 'file', countFile, countMd5)));
    }
    fields.push(...mapArtifactFields(a, caps));
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
  return diffs;
}
