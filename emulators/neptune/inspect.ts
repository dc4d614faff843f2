/** Test-side read-back of exactly what the emulator stored (no HTTP involved). */
import { stateOf } from './containers.ts';
import { blobEntries, findContainer, findProject, listAttrs, listProjects, seriesPoints, setValues, type Db, stmt } from './store.ts';
import type { NeptuneInspect } from './types.ts';

export function makeInspect(db: Db): NeptuneInspect {
  return {
    projects: () => listProjects(db).map((p) => ({
      id: p.id, workspace: p.workspace, name: p.name, key: p.key, visibility: p.visibility,
      ...(p.description !== null ? { description: p.description } : {}),
    })),
    runs(projectQualifiedName) {
      const p = findProject(db, projectQualifiedName);
      if (!p) return [];
      const rows = stmt(db, "SELECT id, short_id, custom_id FROM containers WHERE project_id = ? AND type = 'run' ORDER BY created_ms, rowid").all(p.id) as Array<{
        id: string; short_id: string; custom_id: string | null;
      }>;
      return rows.map((r) => ({ id: r.id, shortId: r.short_id, ...(r.custom_id !== null ? { customId: r.custom_id } : {}) }));
    },
    attributes(runId) {
      const c = findContainer(db, runId);
      const out: Record<string, { type: string; value?: unknown }> = {};
      if (!c) return out;
      for (const a of listAttrs(db, runId)) {
        if (a.type === 'experimentState') out[a.path] = { type: a.type, value: stateOf(c) };
        else if (['string', 'int', 'float', 'bool', 'datetime', 'artifact', 'gitRef'].includes(a.type)) {
          out[a.path] = { type: a.type, value: a.value === null ? undefined : (JSON.parse(a.value) as unknown) };
        } else out[a.path] = { type: a.type };
      }
      return out;
    },
    floatSeries: (runId, path) => seriesPoints(db, runId, path).map((p) => ({ step: p.step, timestampMs: p.ts, value: p.num ?? NaN })),
    stringSeries: (runId, path) => seriesPoints(db, runId, path).map((p) => ({ step: p.step, timestampMs: p.ts, value: p.str ?? '' })),
    stringSet: (runId, path) => setValues(db, runId, path),
    file(runId, path) {
      const a = stmt(db, "SELECT 1 FROM attrs WHERE container_id = ? AND path = ? AND type = 'file'").get(runId, path);
      return a ? blobEntries(db, runId, path)[0]?.data : undefined;
    },
    fileSet(runId, path) {
      const out: Record<string, Buffer> = {};
      for (const e of blobEntries(db, runId, path)) out[e.sub_path] = e.data;
      return out;
    },
  };
}
