/**
 * The run's files as the cloud would list them: everything under `files/` (modern) or in the
 * legacy run folder, with relative `/`-separated names, sizes and base64 MD5 computed from disk.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, readdir, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import type { RunFile } from '../../core/records.ts';

export interface ListedFile {
  file: RunFile;
  path: string;
}

/**
 * Walks `root`; symlinks are followed when they resolve to a file. What is not listed is reported
 * through `onSkip` with its reason: dangling symlinks, symlinks to folders (not followed: they may
 * point anywhere on the machine, or loop), FIFOs, sockets and devices, folders and files that cannot be read.
 */
export async function* listRunFiles(
  root: string,
  onSkip: (name: string, why: string) => void,
  signal?: AbortSignal,
): AsyncGenerator<ListedFile> {
  const walk = async function* (dir: string): AsyncGenerator<ListedFile> {
    let entries: import('node:fs').Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (error) {
      // The root may legitimately be missing (a modern folder without files/); anything else is said.
      const code = (error as NodeJS.ErrnoException).code;
      if (!(dir === root && code === 'ENOENT')) onSkip(relative(root, dir).split(sep).join('/') || '.', `folder cannot be read (${code ?? String(error)})`);
      return;
    }
    for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      signal?.throwIfAborted();
      const p = join(dir, e.name);
      const name = relative(root, p).split(sep).join('/');
      if (e.isDirectory()) {
        yield* walk(p);
        continue;
      }
      const l = await lstat(p);
      const st = l.isSymbolicLink() ? await stat(p).catch(() => null) : l;
      if (!st) {
        onSkip(name, 'dangling symlink');
        continue;
      }
      if (st.isDirectory()) {
        onSkip(name, 'symlink to a directory (not followed)');
        continue;
      }
      if (!st.isFile()) {
        onSkip(name, `not a regular file (${kindOf(st)})`);
        continue;
      }
      let md5: string;
      try {
        md5 = await md5Base64(p, signal);
      } catch (error) {
        // A file the user may not read is left out with its reason, as a folder that cannot be read is:
        // it is not the ledger's failure, nor the other files' and runs'.
        const code = (error as NodeJS.ErrnoException).code;
        if (code !== 'EACCES' && code !== 'EPERM') throw error;
        onSkip(name, `cannot be read (${code})`);
        continue;
      }
      yield { path: p, file: { name, sizeBytes: st.size, md5, updatedAt: st.mtime.toISOString() } };
    }
  };
  yield* walk(root);
}

function kindOf(st: import('node:fs').Stats): string {
  if (st.isFIFO()) return 'a FIFO';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  return 'not a file';
}

export async function md5Base64(path: string, signal?: AbortSignal): Promise<string> {
  const h = createHash('md5');
  for await (const chunk of createReadStream(path, { signal })) h.update(chunk as Buffer);
  return h.digest('base64');
}
