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
 * one file set made distinct (`distinctPaths`), so that no file overwrites another.
 */
export function placeFiles(files: readonly RunFile[], opts: MappingOptions): Map<string, FilePlacement> {
  const out = new Map<string, FilePlacement>();
  const uploads: Array<{ name: string; set: string; path: string }> = [];
  for (const f of files) {
    const p = placeFile(f, opts);
    out.set(f.name, p);
    if (p.kind === 'upload') uploads.push({ name: f.name, set: p.target, path: p.relativePath });
  }
  for (const [name, m] of distinctPaths(uploads)) {
    const p = out.get(name) as Extract<FilePlacement, { kind: 'upload' }>;
    out.set(name, { ...p, relativePath: m.path, renamed: p.renamed ? `${p.renamed}; ${m.why}` : m.why });
  }
  return out;
}

/**
 * Names whose paths collide in one set (`back\slash.txt` and `back/slash.txt` both at
 * `back/slash.txt`): the name that already is the path keeps it (names are unique, so at most one
 * does); the others, in name order, take the first free path with `_` added before the extension
 * (`slash_.txt`, `slash__.txt`, …) — the rule of the history keys, applied to file names. Returns
 * the names that move, with their path and why (naming the one that kept it). It depends on the set
 * of names, not on their order.
 */
export function distinctPaths(items: ReadonlyArray<{ name: string; set: string; path: string }>): Map<string, { path: string; why: string }> {
  const slot = (set: string, path: string): string => `${set}\u0000${path}`;
  const bySlot = new Map<string, Array<{ name: string; set: string; path: string }>>();
  for (const it of items) {
    const k = slot(it.set, it.path);
    const group = bySlot.get(k);
    if (group) group.push(it);
    else bySlot.set(k, [it]);
  }
  const taken = new Set(bySlot.keys());
  const byName = (a: { name: string }, b: { name: string }): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  const moved = new Map<string, { path: string; why: string }>();
  // Groups in path order, so that the paths their names move to do not depend on the input's order.
  for (const [, group] of [...bySlot].sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (group.length < 2) continue;
    const { set, path } = group[0];
    const keeper = group.find((x) => x.name === path) ?? [...group].sort(byName)[0];
    for (const it of group.filter((x) => x !== keeper).sort(byName)) {
      let to = path;
      do to = suffixBeforeExtension(to);
      while (taken.has(slot(set, to)));
      taken.add(slot(set, to));
      moved.set(it.name, { path: to, why: `${path} is the path of W&B file ${keeper.name}` });
    }
  }
  return moved;
}

/** `a/b.txt` → `a/b_.txt`; `a/.env` → `a/.env_`; `a/b` → `a/b_`. */
function suffixBeforeExtension(path: string): string {
  const slash = path.lastIndexOf('/');
  const dot = path.lastIndexOf('.');
  return dot > slash + 1 ? `${path.slice(0, dot)}_${path.slice(dot)}` : `${path}_`;
}
