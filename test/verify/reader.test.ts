import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startNeptuneEmulator, type NeptuneEmulator } from '../../emulators/neptune/index.ts';
import { createNeptuneSession } from '../../src/sinks/neptune/client.ts';
import { ensureProject } from '../../src/sinks/neptune/projects.ts';
import { VerifyTarget } from '../../src/verify/reader.ts';

/**
 * verify's side of `--protocol`: the protocol is chosen as migrate chooses it (by name, or `auto` asks
 * the server's 3.x status endpoint), the mapping gets that protocol's capabilities, and verify never
 * creates anything on the server (a project that does not exist is not asked about at all).
 */
let emu: NeptuneEmulator;
let target: VerifyTarget | undefined;
beforeEach(async () => {
  emu = await startNeptuneEmulator({ workspaces: ['demo'] });
});
afterEach(async () => {
  await target?.close();
  await emu.close();
});

const open = (protocol: 'a' | 'b' | 'auto') => (target = new VerifyTarget({ env: { NEPTUNE_API_TOKEN: emu.apiToken() }, protocol }));

describe('VerifyTarget', () => {
  it('a project that does not exist: nothing created, no protocol asked', async () => {
    const t = open('auto');
    expect(await t.project('demo', 'nothing-here')).toBeUndefined();
    const { reader } = await t.readerFor(undefined);
    expect(reader.protocol).toBe('a');
    expect(t.protocol).toBeUndefined();
    expect(emu.inspect.projects()).toEqual([]);
  });

  it('auto: a 3.x server (the emulator answers the status endpoint) is read over B, with B capabilities', async () => {
    const t = open('auto');
    // The project exists (a migration made it); verify only looks it up.
    const session = createNeptuneSession({ token: emu.apiToken() });
    const created = await ensureProject(session.api, 'demo', 'made-by-migrate', {});
    await session.http.close();
    const project = (await t.project('demo', 'made-by-migrate'))!;
    expect(project.id).toBe(created.id);
    const { reader, capabilities } = await t.readerFor(project);
    expect(reader.protocol).toBe('b');
    expect(t.protocol).toBe('b');
    expect(capabilities).toMatchObject({ protocol: 'b', intRange: 'int64', files: 'files' });
  });

  it('by name: --protocol a reads over A whatever the server offers', async () => {
    const t = open('a');
    const { reader, capabilities } = await t.readerFor({ id: 'x', name: 'p', workspace: 'demo' } as never);
    expect(reader.protocol).toBe('a');
    expect(capabilities.protocol).toBe('a');
  });
});
