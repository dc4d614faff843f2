import type { TargetRun } from '../core/sink.ts';
import type { FileSetAnswer, FileSetEntry } from '../core/target.ts';

/**
 * Uploads several file sets of one run, with the target's answer (refused, already present) per set in order. A target
 * that takes many sets in one call gets them so (Protocol B: the FileRefs of every set in one ingest,
 * one status wait, instead of a wait of ~0.3 s or more per set); else one call per set, at once, all
 * ended before it answers (a failure must not return while other uploads still read the local copies
 * the caller deletes next).
 */
export async function uploadSets(
  target: Pick<TargetRun, 'uploadFileSet' | 'uploadFileSets'>,
  sets: ReadonlyArray<{ path: string; entries: readonly FileSetEntry[] }>,
  signal?: AbortSignal,
): Promise<FileSetAnswer[]> {
  if (sets.length === 0) return [];
  if (target.uploadFileSets) return target.uploadFileSets(sets, signal);
  const answers = await Promise.allSettled(sets.map((s) => target.uploadFileSet(s.path, s.entries, signal)));
  const failed = answers.find((a) => a.status === 'rejected');
  if (failed) throw failed.reason;
  return answers.map((a) => (a as PromiseFulfilledResult<FileSetAnswer>).value);
}

/**
 * Whether a target's refusal from a set's upload names this entry: by its relative path (Protocol B),
 * its path in the set (`files/out.log`: Protocol A names the entries of a refused package so), or the
 * set itself (a refusal of the whole upload: every entry of it is refused).
 */
export function refusalNames(subject: string, set: string, relativePath: string): boolean {
  return subject === relativePath || subject === set || subject === `${set}/${relativePath}`;
}
