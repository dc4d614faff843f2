import type { RunFile } from '../core/records.ts';
import type { OmissionReason } from '../core/target.ts';
import type { MappingOptions } from './options.ts';

export type FileTarget = 'source_code/files' | 'checkpoints' | 'files';

export type FilePlacement =
  | { kind: 'upload'; target: FileTarget; relativePath: string }
  | { kind: 'skip'; reason: OmissionReason; detail: string };

/** mapping.md, Files: where a W&B run file lands, or why it does not. */
export function placeFile(file: RunFile, opts: MappingOptions): FilePlacement {
  const name = file.name.replace(/^\/+/, '');
  if (file.sizeBytes === 0) return { kind: 'skip', reason: 'empty-file', detail: 'zero-byte file' };
  const base = name.split('/').pop() ?? name;
  if (name.startsWith('artifact/') && !opts.include.has('artifacts'))
    return { kind: 'skip', reason: 'excluded-by-default', detail: 'artifact file (--include artifacts)' };
  if (name.startsWith('media/') && !opts.include.has('media'))
    return { kind: 'skip', reason: 'excluded-by-default', detail: 'media file (--include media)' };
  if ((name === 'config.yaml' || base.startsWith('wandb-')) && !name.startsWith('code/') && !opts.include.has('wandb-files'))
    return { kind: 'skip', reason: 'excluded-by-default', detail: 'W&B bookkeeping file (--include wandb-files)' };
  if (name.startsWith('code/') || name === 'requirements.txt')
    return { kind: 'upload', target: 'source_code/files', relativePath: name };
  if (/ckpt|checkpoint/i.test(name)) return { kind: 'upload', target: 'checkpoints', relativePath: name };
  return { kind: 'upload', target: 'files', relativePath: name };
}
