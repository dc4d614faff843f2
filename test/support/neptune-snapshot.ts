import { createHash } from 'node:crypto';
import type { NeptuneEmulator } from '../../emulators/neptune/index.ts';

/** Attributes that differ between two otherwise equal migrations (server times, migration timestamps). */
const VOLATILE = /^(sys\/(id|creation_time|modification_time|ping_time|running_time|monitoring_time|state|size|owner)|wandb\/migration\/completed_at)$/;

/**
 * Everything the Neptune emulator holds, as a comparable value: per project and run (by custom run
 * id), every field with its value, every series point, every file-set entry's digest.
 */
export function neptuneSnapshot(emu: NeptuneEmulator): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const p of emu.inspect.projects()) {
    const qn = `${p.workspace}/${p.name}`;
    for (const r of emu.inspect.runs(qn)) {
      const attrs = emu.inspect.attributes(r.id);
      const run: Record<string, unknown> = {};
      for (const [path, a] of Object.entries(attrs).sort(([x], [y]) => (x < y ? -1 : 1))) {
        if (VOLATILE.test(path)) continue;
        if (a.type === 'floatSeries') run[path] = emu.inspect.floatSeries(r.id, path);
        else if (a.type === 'stringSeries') run[path] = emu.inspect.stringSeries(r.id, path);
        else if (a.type === 'stringSet') run[path] = [...emu.inspect.stringSet(r.id, path)].sort();
        else if (a.type === 'fileSet')
          run[path] = Object.fromEntries(
            Object.entries(emu.inspect.fileSet(r.id, path))
              .sort(([x], [y]) => (x < y ? -1 : 1))
              .map(([k, v]) => [k, createHash('md5').update(v).digest('base64')]),
          );
        else run[path] = a;
      }
      out[`${qn}/${r.customId ?? r.shortId}`] = run;
    }
  }
  return out;
}

/**
 * Finds the Neptune run of a W&B run: custom run id = W&B run id, or for an id longer than Neptune
 * keeps, the run whose `wandb/run_id` holds the full id.
 */
export function neptuneRunId(emu: NeptuneEmulator, project: string, wandbRunId: string): string | undefined {
  const runs = emu.inspect.runs(project);
  return (runs.find((r) => r.customId === wandbRunId) ?? runs.find((r) => emu.inspect.attributes(r.id)['wandb/run_id']?.value === wandbRunId))?.id;
}

/**
 * The console lines (`monitoring/stdout`) Neptune holds for a W&B run, whichever protocol wrote them:
 * the emulator's A store by custom run id, else its B store by run id.
 */
export function heldStdout(stack: { neptune: NeptuneEmulator }, project: string, runId: string): string[] {
  const run = stack.neptune.inspect.runs(project).find((r) => r.customId === runId);
  if (run) return stack.neptune.inspect.stringSeries(run.id, 'monitoring/stdout').map((p) => p.value);
  return stack.neptune.b.inspect.stringSeries(project, runId, 'monitoring/stdout').map((p) => p.value);
}
