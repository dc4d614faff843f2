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

/** Walks `root`; symlinks are followed when they resolve to a file, reported through `onSkip` when dangling. */
export async function* listRunFiles(
  root: string,
  onSkip: (name: string, why: string) => void,
  signal?: AbortSignal,
): AsyncGenerator<ListedFile> {
  const walk = async function* (dir: string): AsyncGenerator<ListedFile> {
    let entries: import('node:fs').Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
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
      if (!st.isFile()) continue; // directories behind symlinks, sockets, fifos: not run files
      const md5 = await md5Base64(p, signal);
      yield { path: p, file: { name, sizeBytes: st.size, md5, updatedAt: st.mtime.toISOString() } };
    }
  };
  yield* walk(root);
}

export async function md5Base64(path: string, signal?: AbortSignal): Promise<string> {
  const h = createHash('md5');
  for await (const chunk of createReadStream(path, { signal })) h.update(chunk as Buffer);
  return h.digest('base64');
}
