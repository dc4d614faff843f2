import type { RunInfo } from '../core/records.ts';
import type { FileTarget } from '../mapping/files.ts';
import type { HeldField } from '../sinks/neptune/read-back.ts';
import { expectedFiles, type ExpectedFile, type OnOmission } from './expected.ts';
import type { Difference, RunVerification } from './types.ts';
import type { VerifyRunContext } from './verify-run.ts';

const FILE_SETS: readonly FileTarget[] = ['source_code/files', 'checkpoints', 'files'];

/** W&B lists MD5s in base64; some servers give hex: compare them in one form. */
function base64Md5(v: string): string {
  return /^[0-9a-f]{32}$/i.test(v) ? Buffer.from(v, 'hex').toString('base64') : v;
}

/**
 * The run's files: every file the mapping places is in its file set with the same size, and the same
 * MD5 where the source gives one (Neptune's copy is streamed through a hash, never held); a file in
 * those sets that the W&B run does not give is a difference too.
 */
export async function compareFiles(
  run: RunInfo,
  containerId: string,
  held: ReadonlyMap<string, HeldField>,
  ctx: VerifyRunContext,
  onOmission: OnOmission,
  result: RunVerification,
): Promise<Difference[]> {
  const wanted = new Map<FileTarget, Map<string, ExpectedFile>>(FILE_SETS.map((t) => [t, new Map()]));
  for await (const f of expectedFiles(run, ctx.source, ctx.mapping, onOmission, ctx.signal)) wanted.get(f.target)!.set(f.relativePath, f);
  const diffs: Difference[] = [];
  for (const set of FILE_SETS) {
    const want = wanted.get(set)!;
    const isSet = held.get(set)?.type === 'fileSet';
    if (want.size === 0 && !isSet) continue;
    const have = isSet ? await ctx.reader.fileSet(containerId, set, ctx.signal) : new Map<string, number>();
    for (const [rel, f] of want) {
      result.checked.files++;
      const subject = `${set}/${rel}`;
      const names = f.file.name !== rel ? [f.file.name] : [rel];
      const size = have.get(rel);
      if (size === undefined) {
        diffs.push({ scope: 'file', subject, names, detail: `missing in Neptune (W&B: ${f.file.sizeBytes} bytes)` });
        continue;
      }
      if (size !== f.file.sizeBytes) {
        diffs.push({ scope: 'file', subject, names, detail: `W&B: ${f.file.sizeBytes} bytes, Neptune: ${size} bytes` });
        continue;
      }
      if (f.file.md5) {
        result.checked.md5++;
        const md5 = await ctx.reader.fileMd5(containerId, set, rel, ctx.signal);
        if (md5 !== base64Md5(f.file.md5)) diffs.push({ scope: 'file', subject, names, detail: `same size, other bytes: MD5 ${base64Md5(f.file.md5)} in W&B, ${md5} in Neptune` });
      }
    }
    for (const [rel, size] of have) {
      if (!want.has(rel)) diffs.push({ scope: 'file', subject: `${set}/${rel}`, detail: `in Neptune (${size} bytes) but not a file of the W&B run` });
    }
  }
  return diffs;
}
