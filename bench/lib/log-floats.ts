/** Serialises float points as Protocol A `logFloats` operations, the way the official client batches them. */
export interface FloatPoint { step: number; timestampMs: number; value: number }

/** One JSON array of operations: each series cut into ops of `pointsPerOp` entries. */
export function logFloatsBody(series: ReadonlyArray<{ path: string; points: readonly FloatPoint[] }>, pointsPerOp: number): string {
  const ops: string[] = [];
  for (const s of series) ops.push(...logFloatsOps(s.path, s.points, pointsPerOp));
  return `[${ops.join(',')}]`;
}

/** The operations (JSON text, one per op) for one series. */
export function logFloatsOps(path: string, points: readonly FloatPoint[], pointsPerOp: number): string[] {
  const out: string[] = [];
  const p = JSON.stringify(path);
  for (let i = 0; i < points.length; i += pointsPerOp) {
    const entries: string[] = [];
    const end = Math.min(points.length, i + pointsPerOp);
    for (let j = i; j < end; j++) {
      const pt = points[j];
      entries.push(`{"step":${pt.step},"timestampMilliseconds":${pt.timestampMs},"value":${JSON.stringify(pt.value)}}`);
    }
    out.push(`{"path":${p},"logFloats":{"entries":[${entries.join(',')}]}}`);
  }
  return out;
}
