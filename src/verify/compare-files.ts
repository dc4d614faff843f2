import type { RunInfo } from '../core/records.ts';
import type { FileTarget } from '../mapping/files.ts';
import type { HeldField } from '../sinks/neptune/read-back.ts';
import { expectedFiles, type ExpectedFile, type OnOmission } from './expected.ts';
import type { Difference, DifferenceScope, RunVerification } from './types.ts';
import type { VerifyRunContext } from './verify-run.ts';

const FILE_SETS: readonly FileTarget[] = ['source_code/files', 'checkpoints', 'files'];

/** W&B lists MD5s in base64; some servers give hex: compare them in one form. */
export function base64Md5(v: string): string {
  return /^[0-9a-f]{32}$/i.test(v) ? Buffer.from(v, 'hex').toString('base64') : v;
}

/** A file Neptune should hold, as the source gives it. */
export interface WantedFile {
  sizeBytes: number;
  /** Base64 MD5 of the source's bytes, where known (or computed). */
  md5?: string;
  /** Other names of the file: the W&B file name or key the report names. */
  names?: string[];
}

/**
 * One set of files (A: a file set; B: the `FileRef` fields under `set/`): every wanted file present,
 * same size, same MD5 where the source gives one; a file Neptune holds there that is not wanted is a
 * difference too. Neptune's copy is streamed through a hash, never held. Under Protocol B the bytes
 * are always read: a `FileRef` records a size, but its object is uploaded apart from it (§3.6).
 */
export async function compareFileSet(
  set: string,
  want: ReadonlyMap<string, WantedFile>,
  containerId: string,
  held: ReadonlyMap<string, HeldField>,
  ctx: VerifyRunContext,
  scope: DifferenceScope,
  count: () => void,
  onMd5: () => void,
): Promise<Difference[]> {
  const have = await ctx.reader.fileSet(containerId, set, held, ctx.signal);
  const diffs: Difference[] = [];
  for (const [rel, f] of want) {
    count();
    const subject = `${set}/${rel}`;
    const names = f.names ? { names: f.names } : {};
    const size = have.get(rel);
    if (size === undefined) {
      diffs.push({ scope, subject, ...names, detail: `missing in Neptune (W&B: ${f.sizeBytes} bytes)` });
      continue;
    }
    if (size !== f.sizeBytes) {
      diffs.push({ scope, subject, ...names, detail: `W&B: ${f.sizeBytes} bytes, Neptune: ${size} bytes` });
      continue;
    }
    if (!f.md5 && ctx.reader.protocol !== 'b') continue;
    const got = await ctx.reader.fileDigest(containerId, set, rel, held, ctx.signal);
    if (f.md5) onMd5();
    if (!got) diffs.push({ scope, subject, ...names, detail: `Neptune refers to ${size} bytes that its storage does not hold` });
    else if (got.size !== f.sizeBytes) diffs.push({ scope, subject, ...names, detail: `W&B: ${f.sizeBytes} bytes, Neptune's stored copy: ${got.size} bytes` });
    else if (f.md5 && got.md5 !== base64Md5(f.md5)) diffs.push({ scope, subject, ...names, detail: `same size, other bytes: MD5 ${base64Md5(f.md5)} in W&B, ${got.md5} in Neptune` });
  }
  for (const [rel, size] of have) {
    if (!want.has(rel)) diffs.push({ scope, subject: `${set}/${rel}`, detail: `in Neptune (${size} bytes) but not a file of the W&B run` });
  }
  return diffs;
}

/** The run's files (`source_code/files`, `checkpoints`, `files`) as the mapping places them. */
export async function compareFiles(
  run: RunInfo,
  containerId: string,
  held: ReadonlyMap<string, HeldField>,
  ctx: VerifyRunContext,
  onOmission: OnOmission,
  result: RunVerification,
): Promise<Difference[]> {
  const wanted = new Map<FileTarget, Map<string, WantedFile>>(FILE_SETS.map((t) => [t, new Map()]));
  for await (const f of expectedFiles(run, ctx.source, ctx.mapping, onOmission, ctx.signal)) wanted.get(f.target)!.set(f.relativePath, wantedFile(f));
  const diffs: Difference[] = [];
  for (const set of FILE_SETS) {
    diffs.push(...(await compareFileSet(set, wanted.get(set)!, containerId, held, ctx, 'file', () => result.checked.files++, () => result.checked.md5++)));
  }
  return diffs;
}

function wantedFile(f: ExpectedFile): WantedFile {
  return { sizeBytes: f.file.sizeBytes, ...(f.file.md5 ? { md5: f.file.md5 } : {}), ...(f.file.name !== f.relativePath ? { names: [f.file.name] } : { names: [f.relativePath] }) };
}
