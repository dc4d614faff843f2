import type { NeptuneEmulator } from '../../emulators/neptune/index.ts';

/** Series points a Neptune run holds in the emulator (float and string series), read independently of the product. */
export function pointsHeld(emu: NeptuneEmulator, runId: string): number {
  let n = 0;
  for (const [path, a] of Object.entries(emu.inspect.attributes(runId))) {
    if (a.type === 'floatSeries') n += emu.inspect.floatSeries(runId, path).length;
    if (a.type === 'stringSeries') n += emu.inspect.stringSeries(runId, path).length;
  }
  return n;
}

/** Series points every run of every project holds. */
export function allPointsHeld(emu: NeptuneEmulator): number {
  let n = 0;
  for (const p of emu.inspect.projects()) for (const r of emu.inspect.runs(`${p.workspace}/${p.name}`)) n += pointsHeld(emu, r.id);
  return n;
}
