import { rmSync } from 'node:fs';
import { afterEach } from 'vitest';

interface Closable {
  close(): Promise<void>;
}

/**
 * After each test: closes what it opened, in the order `open` gives (a target before the emulator it
 * talks to), then `forget` clears the test file's variables so the next test opens its own, and the
 * temporary folders pushed to the returned list are removed.
 */
export function closeAfterEach(open: () => ReadonlyArray<Closable | undefined>, forget: () => void): string[] {
  const dirs: string[] = [];
  afterEach(async () => {
    try {
      for (const c of open()) await c?.close();
    } finally {
      forget();
      for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
    }
  });
  return dirs;
}
