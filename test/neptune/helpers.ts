import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startNeptuneEmulator } from '../../emulators/neptune/index.ts';
import type { NeptuneEmulator, NeptuneEmulatorOptions } from '../../emulators/neptune/index.ts';
import { createNeptuneClient, type NeptuneClient, type NeptuneClientOptions } from '../../src/sinks/neptune/index.ts';

export interface Rig {
  emu: NeptuneEmulator;
  client: NeptuneClient;
  dir: string;
  file(name: string, data: Buffer | string): string;
  close(): Promise<void>;
}

/** An emulator plus a client pointed at it, with fast retries so fault tests stay quick. */
export async function rig(emuOpts: NeptuneEmulatorOptions = {}, clientOpts: Partial<NeptuneClientOptions> = {}): Promise<Rig> {
  const emu = await startNeptuneEmulator({ workspaces: ['demo'], ...emuOpts });
  const client = createNeptuneClient({
    token: emu.apiToken(),
    ...clientOpts,
    http: { service: 'Neptune', retry: { retries: 6, baseDelayMs: 5, maxDelayMs: 50 }, ...clientOpts.http },
  });
  const dir = mkdtempSync(join(tmpdir(), 'neptune-it-'));
  return {
    emu,
    client,
    dir,
    file(name, data) {
      const p = join(dir, name);
      writeFileSync(p, data);
      return p;
    },
    async close() {
      await client.close();
      await emu.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function points(n: number, from = 0): Array<{ step: number; timestampMs: number; value: number }> {
  return Array.from({ length: n }, (_, i) => ({ step: from + i, timestampMs: 1_700_000_000_000 + (from + i) * 1000, value: Math.sin(from + i) }));
}
