/**
 * What a Protocol B run holds in the emulator, as one comparable value (read through the emulator's
 * own inspect, never through the writer): fields, string sets, series point by point, and the bytes
 * behind every FileRef. The migration's completion time is the one value two migrations differ in.
 */
import type { NeptuneEmulator } from '../../emulators/neptune/index.ts';

const WRITTEN_SYS = new Set(['sys/name', 'sys/description', 'sys/tags', 'sys/group_tags', 'sys/custom_run_id', 'sys/creation_time']);

export function bRunSnapshot(emu: NeptuneEmulator, project: string, runId: string): Record<string, unknown> {
  const b = emu.b.inspect;
  const run = b.run(project, runId);
  if (!run) return { missing: true };
  const out: Record<string, unknown> = { family: run.family, experimentId: run.experimentId, creationTimeMs: run.creationTimeMs };
  for (const [path, a] of Object.entries(b.attributes(project, runId)).sort(([x], [y]) => x.localeCompare(y))) {
    // Server-kept times (sys/modification_time, sys/ping_time…) and the migration's completion time differ.
    if (path === 'wandb/migration/completed_at' || (path.startsWith('sys/') && !WRITTEN_SYS.has(path))) continue;
    if (a.type === 'floatSeries') out[path] = b.floatSeries(project, runId, path);
    else if (a.type === 'stringSeries') out[path] = b.stringSeries(project, runId, path);
    else if (a.type === 'stringSet') out[path] = [...b.stringSet(project, runId, path)].sort();
    else if (a.type === 'fileRef') {
      const ref = a.value as { path: string };
      out[path] = { ...a, bytes: b.object(project, ref.path)?.data.toString('base64') };
    } else out[path] = a;
  }
  return out;
}
