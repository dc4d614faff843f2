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

/**
 * mapping.md, Files, for a run's whole listing: `placeFile` for each, then names whose paths collide in
 * one file set (`back\slash.txt` and `back/slash.txt`) made distinct, so that no file overwrites
 * another. A name that already is its path keeps it (W&B names are unique, so at most one does); the
 * others, in W&B-name order, take the first free path with `_` added before the extension
 * (`slash_.txt`, `slash__.txt`, …) — the rule of the history keys, applied to file names — and
 * say which W&B file kept the path. It depends on the set of names, not on their listing order.
 */
export function placeFiles(files: readonly RunFile[], opts: MappingOptions): Map<string, FilePlacement> {
  const out = new Map<string, FilePlacement>();
  const byPath = new Map<string, RunFile[]>();
  const slot = (target: string, path: string): string => `${target}\u0000${path}`;
  for (const f of files) {
    const p = placeFile(f, opts);
    out.set(f.name, p);
    if (p.kind !== 'upload') continue;
    const k = slot(p.target, p.relativePath);
    const group = byPath.get(k);
    if (group) group.push(f);
    else byPath.set(k, [f]);
  }
  const taken = new Set(byPath.keys());
  const byName = (a: RunFile, b: RunFile): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  // Groups in path order, so that the paths their files move to do not depend on the listing's order.
  for (const [k, group] of [...byPath].sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (group.length < 2) continue;
    const path = k.slice(k.indexOf('\u0000') + 1);
    const keeper = group.find((f) => f.name === path) ?? [...group].sort(byName)[0];
    for (const f of group.filter((x) => x !== keeper).sort(byName)) {
      const p = out.get(f.name) as Extract<FilePlacement, { kind: 'upload' }>;
      let moved = path;
      do moved = suffixBeforeExtension(moved);
      while (taken.has(slot(p.target, moved)));
      taken.add(slot(p.target, moved));
      const why = `${path} is the path of W&B file ${keeper.name}`;
      out.set(f.name, { ...p, relativePath: moved, renamed: p.renamed ? `${p.renamed}; ${why}` : why });
    }
  }
  return out;
}

/** `a/b.txt` → `a/b_.txt`; `a/.env` → `a/.env_`; `a/b` → `a/b_`. */
function suffixBeforeExtension(path: string): string {
  const slash = path.lastIndexOf('/');
  const dot = path.lastIndexOf('.');
  return dot > slash + 1 ? `${path.slice(0, dot)}_${path.slice(dot)}` : `${path}_`;
}
