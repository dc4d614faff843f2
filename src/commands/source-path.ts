import { statSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
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
  const { discoverRunFolders } = await import('../sources/local/index.ts');
  if ((await discoverRunFolders(path)).length === 0) {
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
