import type { RunFile } from '../core/records.ts';
import type { OmissionReason } from '../core/target.ts';
import { includesMediaFiles, type MappingOptions } from './options.ts';

export type FileTarget = 'source_code/files' | 'checkpoints' | 'files';

export type FilePlacement =
  /** `renamed`: why `relativePath` is not the W&B name (reported as a rename). */
  | { kind: 'upload'; target: FileTarget; relativePath: string; renamed?: string }
  | { kind: 'skip'; reason: OmissionReason; detail: string };

/**
 * A W&B file name as the relative path it lands at in a file set: `\` is a folder separator (names
 * saved on Windows), a leading `/` (a file saved by absolute path) and empty or `.` segments are
 * dropped. A name with a `..` segment would climb out of the run's files: it cannot be placed.
 */
export function fileRelativePath(name: string): { path: string; renamed?: string } | { invalid: string } {
  const segments = name.replace(/\\/g, '/').split('/');
  if (segments.includes('..')) return { invalid: 'the name climbs out of the run\'s files ("..")' };
  const kept = segments.filter((s) => s !== '' && s !== '.');
  if (kept.length === 0) return { invalid: 'the name has no file name in it' };
  const path = kept.join('/');
  if (path === name) return { path };
  const why: string[] = [];
  if (name.includes('\\')) why.push('"\\" read as a folder separator');
  if (segments[0] === '') why.push('leading "/" dropped (a file saved by absolute path)');
  if (segments.slice(1, -1).includes('') || segments.includes('.')) why.push('empty and "." segments dropped');
  if (segments.length > 1 && segments[segments.length - 1] === '') why.push('trailing "/" dropped');
  return { path, renamed: why.join('; ') };
}

/** mapping.md, Files: where a W&B run file lands, or why it does not. */
export function placeFile(file: RunFile, opts: MappingOptions): FilePlacement {
  const rel = fileRelativePath(file.name);
  if ('invalid' in rel) return { kind: 'skip', reason: 'invalid-path', detail: rel.invalid };
  const name = rel.path;
  const upload = (target: FileTarget): FilePlacement => ({ kind: 'upload', target, relativePath: name, ...(rel.renamed ? { renamed: rel.renamed } : {}) });
  if (file.sizeBytes === 0) return { kind: 'skip', reason: 'empty-file', detail: 'zero-byte file' };
  const base = name.split('/').pop() ?? name;
  if (name.startsWith('artifact/') && !opts.include.has('artifacts'))
    return { kind: 'skip', reason: 'excluded-by-default', detail: 'artifact file (--include artifacts)' };
  if (name.startsWith('media/') && !includesMediaFiles(opts))
    return { kind: 'skip', reason: 'excluded-by-default', detail: 'raw media file, carried through its history value (--include media-files)' };
  if ((name === 'config.yaml' || base.startsWith('wandb-')) && !name.startsWith('code/') && !opts.include.has('wandb-files'))
    return { kind: 'skip', reason: 'excluded-by-default', detail: 'W&B bookkeeping file (--include wandb-files)' };
  if (name.startsWith('code/') || name === 'requirements.txt') return upload('source_code/files');
  if (/ckpt|checkpoint/i.test(name)) return upload('checkpoints');
  return upload('files');
}
