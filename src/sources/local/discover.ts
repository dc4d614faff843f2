/**
 * Finds W&B run folders on disk. A run folder is recognised by its content, not its name (run IDs
 * can contain `-` and `_`, and users rename folders): modern folders hold `run-<id>.wandb`, legacy
 * (< 0.10) folders hold `wandb-history.jsonl`, `wandb-events.jsonl` or `wandb-metadata.json` at top level.
 */
import { readdir, realpath, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

export interface RunFolder {
  dir: string;
  name: string;
  format: 'log' | 'legacy';
  /** The `.wandb` log (modern folders; none when only files/ is left). */
  logPath?: string;
  /** Root of the run's files: `files/` (modern) or the folder itself (legacy). */
  filesDir: string;
  /** Run id from the log's file name or the folder name; the log's run record may override it. */
  runId: string;
  /** Start time from the folder name (`YYYYMMDD_HHMMSS`, local time of the writer), for ordering. */
  timespec?: string;
  offline: boolean;
}

const NAME_RE = /(offline-run|run|dryrun)-(\d{8}_\d{6})-(.+)$/;
const LEGACY_MARKERS = ['wandb-history.jsonl', 'wandb-events.jsonl', 'wandb-metadata.json'];

/** A folder that could not be listed, and the error's code (EACCES…): discovery cannot tell what it holds. */
export type OnUnreadable = (dir: string, code: string) => void;

/** Inspects one directory: a RunFolder when it is a run folder, else null. */
export async function asRunFolder(dir: string, onUnreadable?: OnUnreadable): Promise<RunFolder | null> {
  let entries: import('node:fs').Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    if (code !== 'ENOENT' && code !== 'ENOTDIR') onUnreadable?.(dir, code);
    return null;
  }
  const name = basename(dir);
  const m = NAME_RE.exec(name);
  const log = entries.find((e) => e.isFile() && /^run-.+\.wandb$/.test(e.name));
  if (log) {
    return {
      dir, name, format: 'log', logPath: join(dir, log.name), filesDir: join(dir, 'files'),
      runId: log.name.slice('run-'.length, -'.wandb'.length),
      timespec: m?.[2], offline: m?.[1] === 'offline-run',
    };
  }
  // The files/ folder of a modern run folder holds wandb-metadata.json too: it is not a legacy run.
  if (name === 'files' && isModernRunFolder(dirname(dir))) return null;
  if (entries.some((e) => e.isFile() && LEGACY_MARKERS.includes(e.name))) {
    return {
      dir, name, format: 'legacy', filesDir: dir, runId: m?.[3] ?? name,
      timespec: m?.[2], offline: m?.[1] === 'dryrun',
    };
  }
  // A modern folder whose log is gone (copied without it, or deleted): what files/ holds is still the run's.
  if (m && entries.some((e) => e.isDirectory() && e.name === 'files') && (await holdsRunFiles(join(dir, 'files')))) {
    return { dir, name, format: 'log', filesDir: join(dir, 'files'), runId: m[3], timespec: m[2], offline: m[1] === 'offline-run' };
  }
  return null;
}

const FILES_MARKERS = ['wandb-metadata.json', 'wandb-summary.json', 'config.yaml', 'output.log'];

async function holdsRunFiles(dir: string): Promise<boolean> {
  const names = await readdir(dir).catch(() => [] as string[]);
  return names.some((n) => FILES_MARKERS.includes(n));
}

/** A folder named as the SDK names run folders (legacy ones hold no files/ folder). */
function isModernRunFolder(dir: string): boolean {
  return NAME_RE.test(basename(dir));
}

/**
 * `path` is one run folder, a `wandb/` folder of run folders, or a project root holding `wandb/`
 * or `.wandb/`. Linked folders are followed to where they are, and each folder is listed once.
 */
export async function discoverRunFolders(path: string, onUnreadable?: OnUnreadable): Promise<RunFolder[]> {
  const self = await asRunFolder(path, onUnreadable);
  if (self) return [self];
  const found: RunFolder[] = [];
  const scan = async (dir: string, depth: number): Promise<void> => {
    let entries: import('node:fs').Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return; // `path` itself was said by asRunFolder; a wandb/ below it was listable a moment ago
    }
    for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      if (!e.isDirectory() && !e.isSymbolicLink()) continue;
      // A linked folder is read where it is, under its own name, once: runs gathered by links are
      // the user's, and the SDK's latest-run link names a run folder listed beside it.
      const real = await realpath(join(dir, e.name)).catch(() => undefined);
      if (!real || seen.has(real) || !(await stat(real).then((s) => s.isDirectory(), () => false))) continue;
      seen.add(real);
      const sub = e.isSymbolicLink() ? real : join(dir, e.name);
      const rf = await asRunFolder(sub, onUnreadable);
      if (rf) found.push(rf);
      else if (depth > 0 && (e.name === 'wandb' || e.name === '.wandb')) await scan(sub, depth - 1);
    }
  };
  const seen = new Set<string>();
  const st = await stat(path).catch(() => null);
  if (st?.isDirectory()) await scan(path, 1);
  return found;
}

/**
 * Folders of one run started at the same second: copies of one run folder (`run-… (copy)`), not a
 * resume, which the SDK gives a new folder named with its own, later start time. Read as one run, a
 * copy's console and system metrics would be migrated twice over.
 */
export function copiedRunFolders(folders: readonly RunFolder[]): RunFolder[][] {
  const groups = new Map<string, RunFolder[]>();
  for (const f of folders) {
    if (!f.timespec) continue;
    const k = `${f.runId}\u0000${f.timespec}`;
    groups.set(k, [...(groups.get(k) ?? []), f]);
  }
  return [...groups.values()].filter((g) => g.length > 1);
}

