import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startStack, type Stack } from '../../emulators/stack.ts';

/**
 * Both emulators for a test file, in a temporary folder of their own (the W&B emulator's exports go to
 * `<dir>/export`); `closeStackInTemp` ends them and removes the folder.
 */
export async function startStackInTemp(prefix: string, opts: Omit<Parameters<typeof startStack>[0], 'workDir'>): Promise<{ stack: Stack; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  try {
    return { stack: await startStack({ ...opts, workDir: join(dir, 'export') }), dir };
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}

export async function closeStackInTemp(stack: Stack | undefined, dir: string | undefined): Promise<void> {
  await stack?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
}
