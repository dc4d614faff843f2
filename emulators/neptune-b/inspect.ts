/** Test-side read-back of what Protocol B stored (no HTTP involved); runs are addressed by project + B run id. */
import { findProject, listAttrs, setValues, stmt, type Db } from '../neptune/store.ts';
import { bRun, objectRow, runByRunId } from './store.ts';
import type { BAttribute, BPoint, FileRefValue, HistogramValue, ProtocolBInspect } from './types.ts';

function runId(db: Db, project: string, id: string): string | undefined {
  const p = findProject(db, project);
  return p ? runByRunId(db, p.id, id)?.id : undefined;
}

type Row = { step: number; ts: number; num: number | null; str: string | null; ratio?: number };

function rows(db: Db, cid: string, path: string): Row[] {
  return stmt(db, 'SELECT p.step, p.ts, p.num, p.str FROM series_points p JOIN series s ON s.id = p.series_id WHERE s.container_id = ? AND s.path = ? ORDER BY p.step')
    .all(cid, path) as Row[];
}

function series<T>(db: Db, project: string, run: string, path: string, value: (r: Row) => T): Array<BPoint<T>> {
  const cid = runId(db, project, run);
  return cid ? rows(db, cid, path).map((r) => ({ step: r.step, timestampMs: r.ts, value: value(r) })) : [];
}

function attrValue(type: string, json: string | null): unknown {
  if (json === null) return undefined;
  if (type === 'int') return BigInt(json);
  const v = JSON.parse(json) as unknown;
  // Non-finite floats are stored as the strings "NaN", "Infinity", "-Infinity".
  if (type === 'float' && typeof v === 'string') return Number(v);
  return v;
}

export function makeInspectB(db: Db, pendingIds: () => string[]): ProtocolBInspect {
  return {
    run(project, id) {
      const cid = runId(db, project, id);
      if (!cid) return undefined;
      const c = stmt(db, 'SELECT short_id FROM containers WHERE id = ?').get(cid) as { short_id: string };
      const b = bRun(db, cid);
      const created = stmt(db, "SELECT value FROM attrs WHERE container_id = ? AND path = 'sys/creation_time'").get(cid) as { value: string } | undefined;
      return {
        id: cid, shortId: c.short_id, family: b?.family ?? id, creationTimeMs: b?.creation_ms ?? Number(created?.value ?? 0),
        ...(b?.experiment_id ? { experimentId: b.experiment_id } : {}),
        ...(b?.fork_run_id ? { forkParent: { project: b.fork_project ?? project, runId: b.fork_run_id, step: b.fork_step ?? 0 } } : {}),
      };
    },
    attributes(project, id) {
      const out: Record<string, BAttribute> = {};
      const cid = runId(db, project, id);
      if (!cid) return out;
      for (const a of listAttrs(db, cid)) {
        const v = a.type === 'stringSet' ? setValues(db, cid, a.path) : attrValue(a.type, a.value);
        out[a.path] = v === undefined ? { type: a.type } : { type: a.type, value: v };
      }
      return out;
    },
    floatSeries: (project, id, path) => series(db, project, id, path, (r) => r.num ?? NaN),
    stringSeries: (project, id, path) => series(db, project, id, path, (r) => r.str ?? ''),
    histogramSeries: (project, id, path) => series(db, project, id, path, (r) => JSON.parse(r.str ?? '{}') as HistogramValue),
    fileRefSeries: (project, id, path) => series(db, project, id, path, (r) => JSON.parse(r.str ?? '{}') as FileRefValue),
    stringSet(project, id, path) {
      const cid = runId(db, project, id);
      return cid ? setValues(db, cid, path) : [];
    },
    object(project, path) {
      const o = objectRow(db, project, path);
      return o ? { data: o.data, mimeType: o.mime } : undefined;
    },
    pendingRequests: pendingIds,
  };
}
