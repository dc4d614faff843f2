/**
 * History values of every W&B media kind beyond the single image / histogram / table of history-plan.ts,
 * for the all-shapes run `media-everything` (issue 11). The JSON of each value is what the SDK's
 * `to_json` writes into history (wandb-api.md, media `_type`s: `images/separated` with `filenames` and
 * `captions`, `histogram` with `bins`/`values` or the compacted `packedBins{min,size,count}`, `<kind>-file`
 * with `path`, `sha256`, `size`, `joined-table` naming its two tables); the files they name are run files.
 */
import { createHash } from 'node:crypto';
import { hash01, hashString, pseudoBytes } from './prng.ts';

export type MediaKind =
  | 'images'
  | 'np-histogram'
  | 'packed-histogram'
  | 'wide-histogram'
  | 'joined-table'
  | 'audio-file'
  | 'video-file'
  | 'html-file'
  | 'object3D-file'
  | 'plotly-file'
  | 'molecule-file'
  | 'bokeh-file'
  | 'graph-file'
  | 'short-list'
  | 'long-list'
  | 'number-list';

/** Folder under `media/` and file extension the SDK uses for each file kind. */
const FILE_KINDS: Record<string, { dir: string; ext: string; text?: (step: number) => string }> = {
  'audio-file': { dir: 'audio', ext: 'wav' },
  'video-file': { dir: 'videos', ext: 'mp4' },
  'html-file': { dir: 'html', ext: 'html', text: (s) => `<html><body><p>step ${s} ✓</p></body></html>` },
  'object3D-file': { dir: 'object3D', ext: 'pts.json', text: (s) => JSON.stringify([[0, 0, s], [1, 1, s + 1]]) },
  'plotly-file': { dir: 'plotly', ext: 'plotly.json', text: (s) => JSON.stringify({ data: [{ x: [0, 1], y: [s, s * 2] }], layout: {} }) },
  'molecule-file': { dir: 'molecule', ext: 'pdb', text: (s) => `HETATM    1  C   UNL     1       0.000   ${s}.000   0.000  1.00  0.00           C\nEND\n` },
  'bokeh-file': { dir: 'bokeh', ext: 'bokeh.json', text: (s) => JSON.stringify({ doc: { roots: { references: [] } }, step: s }) },
  'graph-file': { dir: 'graph', ext: 'graph.json', text: (s) => JSON.stringify({ nodes: [{ id: 'conv1' }, { id: 'fc' }], edges: [['conv1', 'fc']], step: s }) },
};

function safe(key: string): string {
  return key.replace(/[^A-Za-z0-9_.-]/g, '_');
}

function tag(seed: number, key: string, i: number): string {
  return createHash('sha256').update(`${seed}:${key}:${i}`).digest('hex').slice(0, 20);
}

const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** The run files a value at row i names (path → bytes), in the order the value lists them. */
export function mediaKindFiles(seed: number, key: string, kind: MediaKind, i: number, step: number): Array<{ name: string; bytes: Buffer }> {
  const h = tag(seed, key, i);
  const s = hashString(key) ^ (seed * 7919 + i);
  if (kind === 'images') {
    return [0, 1, 2].map((j) => ({ name: `media/images/${safe(key)}_${step}_${h}_${j}.png`, bytes: Buffer.concat([PNG, pseudoBytes(s + j, 40 + j)]) }));
  }
  if (kind === 'joined-table') {
    const bytes = Buffer.from(JSON.stringify({ _type: 'joined-table', table1: `${safe(key)}_a.table.json`, table2: `${safe(key)}_b.table.json`, join_key: 'id', step }), 'utf8');
    return [{ name: `media/joined-table/${safe(key)}_${step}_${h}.joined-table.json`, bytes }];
  }
  const f = FILE_KINDS[kind];
  if (!f) return [];
  const bytes = f.text ? Buffer.from(f.text(step), 'utf8') : pseudoBytes(s, 96 + (s % 50));
  return [{ name: `media/${f.dir}/${safe(key)}_${step}_${h}.${f.ext}`, bytes }];
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** The history value of a media key at row i. */
export function mediaKindValue(seed: number, key: string, ki: number, kind: MediaKind, i: number, step: number): unknown {
  const r = (j: number) => hash01(seed, ki, i, j);
  switch (kind) {
    case 'images': {
      const files = mediaKindFiles(seed, key, kind, i, step);
      return { _type: 'images/separated', count: files.length, format: 'png', width: 8, height: 8, filenames: files.map((f) => f.name), captions: files.map((_, j) => `step ${step} · sample ${j}`) };
    }
    case 'np-histogram': {
      // np.histogram(x, density=True): densities, uneven edges.
      const bins = [-2, -1, -0.5, 0, 0.5, 1, 2];
      return { _type: 'histogram', bins, values: bins.slice(1).map((_, j) => Math.round(r(j) * 1e6) / 1e6) };
    }
    case 'packed-histogram':
      // What W&B keeps for evenly spaced bins: min, size and count instead of the edges.
      return { _type: 'histogram', packedBins: { min: -1, size: 0.25, count: 8 }, values: Array.from({ length: 8 }, (_, j) => Math.floor(r(j) * 40)) };
    case 'wide-histogram':
      // More bins than Protocol B's 512: lands as a file there, reported.
      return { _type: 'histogram', bins: Array.from({ length: 601 }, (_, j) => j / 100), values: Array.from({ length: 600 }, (_, j) => (j * 7 + i) % 13) };
    case 'short-list':
      return [step, `tok-${i % 5}`, null];
    case 'long-list':
      return Array.from({ length: 250 }, (_, j) => Math.round(r(j) * 1e6) / 1e3);
    case 'number-list':
      return [i, i * 0.5, -(i + 1)];
    default: {
      const [file] = mediaKindFiles(seed, key, kind, i, step);
      const base = { path: file.name, sha256: sha(file.bytes), size: file.bytes.length };
      if (kind === 'joined-table') return { _type: 'joined-table', ...base, join_key: 'id' };
      return { _type: kind, ...base };
    }
  }
}
