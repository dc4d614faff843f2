import { constants, statSync } from 'node:fs';
import { access } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { RunFolder } from '../sources/local/discover.ts';
import { ConfigError } from '../core/errors.ts';

/**
 * `--source <path>` checked before anything else: a missing path, a file, or a folder without run
 * folders is the user's mistake, said plainly instead of a migration of nothing.
 */
export async function checkSourcePath(source: string): Promise<string> {
  const path = resolve(source);
  let isDir: boolean;
  try {
    isDir = statSync(path).isDirectory();
  } catch {
    throw new ConfigError([`--source ${source}: no such file or folder (${path}); pass "api" for the W&B API, or a wandb/ folder or run folder`]);
  }
  if (!isDir) throw new ConfigError([`--source ${source}: is a file, not a folder; pass a wandb/ folder, a folder holding one, or one run folder`]);
  // Loaded here, not at start: a migration from the W&B API never needs the run-folder reader (its protobuf runtime).
  const { copiedRunFolders, discoverRunFolders } = await import('../sources/local/index.ts');
  // What the user may not read is said now, before anything is written: an unreadable run folder would
  // be passed over without a word, an unreadable log stop the reading of every run.
  const unreadable: string[] = [];
  const folders = await discoverRunFolders(path, (dir, code) => unreadable.push(`${dir} (${code})`));
  // What each folder is read from when the run is listed: its log, or a legacy folder's JSONL streams.
  const listedFrom = (f: RunFolder): string[] => (f.logPath ? [f.logPath] : f.format === 'legacy' ? [join(f.dir, 'wandb-history.jsonl'), join(f.dir, 'wandb-events.jsonl')] : []);
  for (const file of folders.flatMap(listedFrom)) {
    await access(file, constants.R_OK).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'ENOENT') unreadable.push(`${file} (${e.code ?? e.message})`);
    });
  }
  if (unreadable.length > 0) {
    const shown = unreadable.slice(0, 5).join(', ') + (unreadable.length > 5 ? `, and ${unreadable.length - 5} more` : '');
    throw new ConfigError([`--source ${source}: cannot read ${unreadable.length} run folder(s) or log(s): ${shown}; make them readable (chmod) or move them out of ${path}, then run again (nothing was written)`]);
  }
  const copies = copiedRunFolders(folders);
  if (copies.length > 0) {
    throw new ConfigError(copies.map((g) => `--source ${source}: run ${g[0].runId} is in ${g.length} folders started at the same second: ${g.map((f) => f.dir).join(', ')}; they are copies of one run folder, not a resume (a resumed run gets a folder named with its later start): move the copies out of ${path}`));
  }
  if (folders.length === 0) {
    const parent = dirname(path);
    if (basename(path) === 'files' && (await discoverRunFolders(parent)).length === 1) {
      throw new ConfigError([`--source ${source}: is the files/ folder of run folder ${parent}; pass the run folder itself`]);
    }
    throw new ConfigError([
      `--source ${source}: no W&B run folders in ${path} (a run folder holds run-<id>.wandb, or wandb-history.jsonl / wandb-metadata.json; looked in it, its subfolders and its wandb/ folder)`,
    ]);
  }
  return path;
}
