import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { encodeLog } from '../../src/sources/local/wandb-log/test-log-writer.ts';

/** A modern run folder as the SDK leaves it: `run-<id>.wandb` of the given records, and `files/…`. */
export function writeRunFolder(parent: string, name: string, runId: string, records: Uint8Array[], files: Record<string, string> = {}): string {
  const dir = join(parent, name);
  mkdirSync(join(dir, 'files'), { recursive: true });
  writeFileSync(join(dir, `run-${runId}.wandb`), encodeLog(records).bytes);
  for (const [file, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, 'files', file)), { recursive: true });
    writeFileSync(join(dir, 'files', file), content);
  }
  return dir;
}
