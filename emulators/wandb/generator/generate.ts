/** generateEntity: the deterministic ground truth for every emulator-backed test. */
import { allShapes } from './all-shapes.ts';
import { mulberry32, runId } from './prng.ts';
import { buildRun } from './run-builder.ts';
import type { GenEntity, GeneratorSpec } from './types.ts';

const BASE_MS = Date.UTC(2025, 5, 1, 12, 0, 0);

function bigRun(seed: number, entity: string, points: number): GenEntity {
  const keys = Array.from({ length: 10 }, (_, i) => ({ key: `metric_${i}`, kind: 'float' as const }));
  const rows = Math.ceil(points / keys.length);
  const run = buildRun({
    id: runId(mulberry32(seed)), displayName: 'big-run', state: 'running', createdMs: BASE_MS, user: 'alice', host: 'gpu-node-big',
    config: { points, keys: keys.length }, systemEvents: 1000, eventsFileListed: false, consoleLines: 1000,
    // a small live tail after the exported bulk, as W&B has while a run is still logging
    liveTail: Math.min(500, Math.floor(rows / 10)),
    history: { seed, rows, stepStart: 0, stepStride: 1, keys, startSec: BASE_MS / 1000, rowSeconds: 0.01 },
  });
  return { name: entity, projects: [{ name: 'big-project', createdAt: new Date(BASE_MS).toISOString(), runs: [run] }] };
}

function manySmallRuns(seed: number, entity: string, count: number): GenEntity {
  const rand = mulberry32(seed);
  const states = ['finished', 'finished', 'finished', 'crashed', 'failed', 'killed', 'running'] as const;
  const runs = Array.from({ length: count }, (_, i) => buildRun({
    id: runId(rand), displayName: `small-${i}`, state: states[i % states.length], createdMs: BASE_MS + i * 60_000,
    user: i % 2 ? 'alice' : 'bob', tags: [`batch-${i % 10}`], group: `g${i % 5}`, config: { index: i, lr: 0.001 * (1 + (i % 7)) },
    systemEvents: 5, eventsFileListed: i % 4 === 0, consoleLines: 5, liveTail: i % 7 === 6 ? 3 : 0,
    history: { seed: seed * 1000 + i, rows: 20, stepStart: 0, stepStride: 1, keys: [{ key: 'loss', kind: 'float' }, { key: 'acc', kind: 'float' }], startSec: BASE_MS / 1000 + i * 60, rowSeconds: 1 },
  }));
  return { name: entity, projects: [{ name: 'many-runs', createdAt: new Date(BASE_MS).toISOString(), runs }] };
}

export function generateEntity(spec: GeneratorSpec): GenEntity {
  const entity = spec.entity ?? 'emulated-team';
  switch (spec.preset) {
    case 'all-shapes':
      return allShapes(spec.seed, entity);
    case 'big-run':
      return bigRun(spec.seed, entity, spec.points ?? 5_000_000);
    case 'many-small-runs':
      return manySmallRuns(spec.seed, entity, spec.runs ?? 500);
  }
}
