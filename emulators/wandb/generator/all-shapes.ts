/** The `all-shapes` preset: a small entity holding one run of every shape a reader must survive. */
import { withArtifacts } from './artifacts.ts';
import { bufferFile } from './files.ts';
import type { HistoryPlan, KeyPlan } from './history-plan.ts';
import { mulberry32, runId } from './prng.ts';
import { buildRun, checkpointFiles, type RunPlan } from './run-builder.ts';
import type { MediaKind } from './media-kinds.ts';
import type { GenEntity, GenFile, GenProject } from './types.ts';

/** Display name of the all-shapes run that logs every media kind (other generators attach to it by name). */
export const MEDIA_EVERYTHING = 'media-everything';

const BASE_MS = Date.UTC(2025, 2, 1, 9, 0, 0);
const DAY = 86_400_000;

const wandbInternal = {
  cli_version: '0.19.0', python_version: '3.11.4', is_jupyter_run: false,
  t: { '1': [1, 5, 53, 55], '2': [1, 5, 53, 55], '3': [13, 16, 23], '4': '3.11.4', '5': '0.19.0' },
  m: [{ '1': 'train/loss', '5': 1, '6': [1] }],
};

export function nestedConfig(seed: number): Record<string, unknown> {
  return {
    learning_rate: 0.001,
    batch_size: 64,
    seed,
    optimizer: { name: 'adam', betas: [0.9, 0.999], params: { weight_decay: 0.01, schedule: null } },
    layers: [64, 128, { type: 'attention', heads: 8 }],
    big_int: 2 ** 40 + 7,
    max_safe_int: Number.MAX_SAFE_INTEGER,
    negative: -3,
    use_amp: true,
    nothing: null,
    'ключ': 'значение ✓',
    _wandb: wandbInternal,
  };
}

function hist(seed: number, rows: number, keys: KeyPlan[], extra: Partial<HistoryPlan> = {}): HistoryPlan {
  return { seed, rows, stepStart: 0, stepStride: 1, keys, startSec: 0, rowSeconds: 0.5, ...extra };
}

function floatKeys(names: string[]): KeyPlan[] {
  return names.map((key) => ({ key, kind: 'float' as const }));
}

function fillerFiles(count: number, updatedAt: string): GenFile[] {
  const out: GenFile[] = [];
  for (let i = 0; i < count; i++) out.push(bufferFile(`artifacts/part_${String(i).padStart(3, '0')}.txt`, `part ${i}\n`.repeat(i + 1), updatedAt));
  return out;
}

function notebook(): string {
  return JSON.stringify({
    cells: [{ cell_type: 'code', source: ['import wandb\n', 'wandb.init()\n'], metadata: {}, outputs: [], execution_count: 1 }],
    metadata: {}, nbformat: 4, nbformat_minor: 5,
  }, null, 1);
}

export function allShapes(seed: number, entity: string): GenEntity {
  const rand = mulberry32(seed);
  let n = 0;
  const plan = (p: Omit<RunPlan, 'id' | 'createdMs' | 'user' | 'history'> & { rows: number; keys: KeyPlan[]; hist?: Partial<HistoryPlan>; id?: string }): RunPlan => {
    const createdMs = BASE_MS + (n++) * DAY / 4;
    const { rows, keys, hist: h, id, ...rest } = p;
    const generated = runId(rand);
    return {
      id: id ?? generated, createdMs, user: n % 3 === 0 ? 'bob' : 'alice', host: `gpu-node-0${n % 4}`,
      commit: n % 2 ? 'a3f9c2e1b7d4405f8e6a2b1c9d0e7f6a5b4c3d2e' : undefined,
      history: hist(seed * 100 + n, rows, keys, { startSec: createdMs / 1000, ...h }),
      ...rest,
    };
  };
  const ts = (ms: number): string => new Date(ms).toISOString();

  const vision: RunPlan[] = [
    plan({ displayName: 'empty-run', state: 'failed', rows: 0, keys: [], systemEvents: 3, eventsFileListed: false, consoleLines: 2, config: { lr: 0.1 }, tags: ['empty'] }),
    plan({ displayName: 'crashed-run', state: 'crashed', rows: 300, keys: floatKeys(['train/loss', 'train/acc']), systemEvents: 20, eventsFileListed: false, consoleLines: 40, config: nestedConfig(seed), tags: ['baseline'], notes: 'OOM at step 300' }),
    plan({ displayName: 'running-live-tail', state: 'running', rows: 1500, liveTail: 120, keys: [...floatKeys(['loss', 'lr']), { key: 'special', kind: 'special' }], systemEvents: 60, eventsFileListed: false, consoleLines: 100, config: nestedConfig(seed + 1), tags: ['live'], group: 'exp-A', jobType: 'train' }),
    plan({
      displayName: 'finished-full-export', state: 'finished', rows: 2000, systemEvents: 200, eventsFileListed: false, consoleLines: 300,
      keys: [
        ...floatKeys(['train/loss', 'val/loss']), { key: 'epoch', kind: 'int' }, { key: 'phase', kind: 'string' },
        { key: 'is_best', kind: 'bool' }, { key: 'nested', kind: 'nested', every: 10 },
        { key: 'samples', kind: 'image', every: 200, offset: 199 }, { key: 'weights', kind: 'histogram', every: 100 },
        { key: 'preds', kind: 'table', every: 500, offset: 499 },
      ],
      config: nestedConfig(seed + 2), configWrap: 'value', tags: ['baseline', 'full'], group: 'exp-A', jobType: 'train',
    }),
    plan({ displayName: 'many-keys', state: 'finished', rows: 200, systemEvents: 10, eventsFileListed: false, consoleLines: 10, config: { width: 300 },
      keys: floatKeys(Array.from({ length: 300 }, (_, i) => `metrics/group_${Math.floor(i / 30)}/m${i}`)) }),
    plan({ displayName: 'sparse-and-gaps', state: 'finished', rows: 1000, systemEvents: 30, eventsFileListed: false, consoleLines: 50, config: { sparse: true },
      hist: { stepStart: 1000, gapEvery: 50, gapSize: 37 },
      keys: [{ key: 'dense', kind: 'float' }, { key: 'every7', kind: 'float', every: 7, offset: 3 }, { key: 'eval/acc', kind: 'float', every: 100, offset: 99 }] }),
    plan({ displayName: '実験-αβγ 🚀 ünïcödé', state: 'finished', rows: 150, systemEvents: 10, eventsFileListed: false, consoleLines: 30, tags: ['日本語', 'ünïcödé', 'emoji-🚀'],
      keys: [{ key: '損失', kind: 'float' }, { key: 'métrica/ñ', kind: 'float' }, { key: 'état', kind: 'string' }],
      config: { '学習率': 0.01, 'modèle': { '名前': 'résnet-50', 'couches': [1, 2, 3] }, _wandb: wandbInternal }, notes: 'ノート: ünïcödé notes ✓' }),
    plan({ displayName: 'huge-summary', state: 'finished', rows: 100, systemEvents: 5, eventsFileListed: false, consoleLines: 5, config: {},
      keys: floatKeys(['loss']),
      extraSummary: Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`eval/class_${String(i).padStart(4, '0')}/acc`, (i % 97) / 97])) }),
    plan({ displayName: 'many-files', state: 'finished', rows: 50, systemEvents: 12, eventsFileListed: true, consoleLines: 120, longLines: true, consoleChunks: 3,
      keys: floatKeys(['loss']), config: nestedConfig(seed + 3),
      extraFiles: [
        ...checkpointFiles(seed, ts(BASE_MS)), ...fillerFiles(55, ts(BASE_MS)),
        bufferFile('code/_session_history.ipynb', notebook(), ts(BASE_MS)),
        bufferFile('code/train.py', 'import wandb\nrun = wandb.init()\n', ts(BASE_MS)),
        bufferFile('empty.txt', '', ts(BASE_MS)),
        bufferFile('diff.patch', 'diff --git a/x b/x\n', ts(BASE_MS)),
      ] }),
    // No events file and W&B kept a third of the 90 samples it counts: only a sampled form is offered.
    plan({ displayName: 'sampled-system-metrics', state: 'finished', rows: 60, keys: floatKeys(['loss']), systemEvents: 90, systemEventsKeptEvery: 3,
      eventsFileListed: false, consoleLines: 5, config: { sampled: true } }),
  ];

  const sweep = 'swp7k2q9';
  const nlp: RunPlan[] = Array.from({ length: 4 }, (_, i) => plan({
    displayName: `sweep-trial-${i}`, state: i === 3 ? 'killed' : 'finished', rows: 400, sweep, group: 'cv-fold', jobType: i % 2 ? 'eval' : 'train',
    systemEvents: 40, eventsFileListed: true, zonelessDates: true, consoleLines: 60, configWrap: i % 2 ? 'value' : 'value-desc',
    keys: [...floatKeys(['loss', 'accuracy']), { key: 'tokens/sec', kind: 'int', every: 5 }],
    config: { lr: 10 ** -(i + 2), dropout: i / 10, model: { name: 'bert-base', layers: 12 } }, tags: [`fold-${i}`, 'sweep'],
  }));
  nlp.push(
    // A user-chosen run id longer than the 36 characters Neptune keeps as a custom run id.
    plan({ id: 'user-chosen-run-id-longer-than-neptune-allows-0001', displayName: 'long-run-id', state: 'finished', rows: 40,
      keys: floatKeys(['loss']), systemEvents: 4, eventsFileListed: false, consoleLines: 3, config: { lr: 0.02 } }),
    // W&B serves a config that is not valid JSON (cut short): the run still migrates, raw text kept.
    plan({ displayName: 'invalid-config-json', state: 'crashed', rows: 30, keys: floatKeys(['loss']), systemEvents: 3, eventsFileListed: false,
      consoleLines: 3, config: {}, configJson: '{"lr": {"value": 0.1}, "layers": {"value": [64, 128' }),
  );

  const rl: RunPlan[] = [
    plan({ displayName: 'nan-and-strings', state: 'finished', rows: 500, systemEvents: 25, eventsFileListed: true, consoleLines: 20,
      keys: [{ key: 'reward', kind: 'special' }, { key: 'policy', kind: 'string' }, { key: 'value', kind: 'float' }],
      config: { gamma: 0.99, eps: NaN, clip: Infinity }, extraSummary: { best_reward: Infinity, worst: -Infinity, unstable: NaN } }),
    plan({ displayName: 'big-steps', state: 'finished', rows: 200, systemEvents: 10, eventsFileListed: false, consoleLines: 10, hist: { stepStart: 5000, stepStride: 10 },
      keys: floatKeys(['episode_return']), config: { env: 'CartPole-v1' } }),
    plan({ displayName: 'running-not-exported', state: 'running', rows: 80, liveTail: 'all', systemEvents: 8, eventsFileListed: false, consoleLines: 15,
      keys: floatKeys(['loss']), config: { fresh: true } }),
    plan({ displayName: 'killed-system-only', state: 'killed', rows: 0, keys: [], systemEvents: 30, eventsFileListed: true, consoleLines: 5, config: {} }),
    // `loss` is a series and `loss/val` would make it a namespace: one of them must be renamed.
    plan({ displayName: 'colliding-keys', state: 'finished', rows: 120, systemEvents: 6, eventsFileListed: false, consoleLines: 4, config: { collide: true },
      keys: [{ key: 'loss', kind: 'float' }, { key: 'loss/val', kind: 'float', every: 4 }, { key: 'acc', kind: 'float' }] }),
  ];

  // Made last so that the runs above keep their ids and creation times. Every media kind in history
  // (rows 0–4 in the parquet export, 5–7 in the live tail) and, as each key's last value, in the summary.
  const media = (key: string, m: MediaKind, every = 1, offset = 0): KeyPlan => ({ key, kind: 'media', media: m, every, offset });
  vision.push(plan({
    displayName: MEDIA_EVERYTHING, state: 'running', rows: 8, liveTail: 3, systemEvents: 4, eventsFileListed: false, consoleLines: 4,
    config: { media: true }, tags: ['media'],
    keys: [
      { key: 'loss', kind: 'float' },
      { key: 'samples', kind: 'image', every: 2 }, media('grid', 'images', 2, 1),
      { key: 'weights', kind: 'histogram' }, media('grads', 'np-histogram', 2), media('acts', 'packed-histogram', 2, 1), media('wide', 'wide-histogram', 4, 3),
      { key: 'preds', kind: 'table', every: 3 }, media('joined', 'joined-table', 3, 1),
      media('audio', 'audio-file', 3, 2), media('video', 'video-file', 3, 2), media('page', 'html-file', 3, 2), media('cloud', 'object3D-file', 3, 2),
      media('fig', 'plotly-file', 3, 2), media('mol', 'molecule-file', 3, 2), media('bokeh', 'bokeh-file', 3, 2), media('net', 'graph-file', 3, 2),
      media('tokens', 'short-list'), media('ids', 'long-list', 2, 1), media('vec', 'number-list'),
    ],
  }));

  const project = (name: string, plans: RunPlan[], i: number): GenProject => ({
    name, createdAt: new Date(BASE_MS - (10 - i) * DAY).toISOString().slice(0, 19) + 'Z', runs: plans.map(buildRun),
  });
  return withArtifacts({ name: entity, projects: [project('vision-models', vision, 0), project('nlp_experiments', nlp, 1), project('rl-sandbox', rl, 2)] });
}
