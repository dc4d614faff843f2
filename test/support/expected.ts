/**
 * What mapping.md says a generated W&B run must become in Neptune, computed here from the
 * generator's ground truth, independently of src/mapping (so the two cannot share a mistake).
 */
import type { GenFile, GenRun } from '../../emulators/wandb/index.ts';

export interface ExpectedSeries {
  floats: Map<string, Array<{ step: number; timestampMs: number; value: number }>>;
  strings: Map<string, Array<{ step: number; timestampMs: number; value: string }>>;
  nonFinite: number;
  media: Map<string, number>;
  /** Issue 11: image-file values by key (image series), histograms and tables by key (file sets), in step order. */
  images: Map<string, Array<{ step: number; timestampMs: number; caption?: string; file: string }>>;
  /** Histograms that land as files (`media/histograms/<key>`): all of them on A; on B those a histogram series cannot hold. */
  histograms: Map<string, Array<{ step: number; bins: unknown; values: unknown }>>;
  /** Protocol B: histograms as histogram series (≤ 512 bins, edges increasing), bins unpacked from `packedBins`. */
  histogramSeries: Map<string, Array<{ step: number; timestampMs: number; bins: number[]; values: number[] }>>;
  tables: Map<string, Array<{ step: number; file: string }>>;
  /** Other media files by landing folder `media/<kind>/<key>` (joined tables under `tables`), the W&B file. */
  mediaFiles: Map<string, Array<{ step: number; file: string }>>;
  /** Lists too long for one string-series entry: one JSON file per step in `media/lists/<key>`. */
  lists: Map<string, Array<{ step: number; value: unknown[] }>>;
}

/** mapping.md: the folder under `media/` of each file kind. */
const FILE_DIRS: Record<string, string> = {
  'joined-table': 'tables', 'audio-file': 'audio', 'video-file': 'video', 'html-file': 'html', 'object3D-file': 'object3D',
  'plotly-file': 'plotly', 'molecule-file': 'molecule', 'bokeh-file': 'bokeh', 'graph-file': 'graph',
};

/** What one string-series entry holds, in characters: A 1000, B 1 MiB (262,144 code points at most 4 bytes each). */
const LIST_ENTRY = { a: 1000, b: 262_144 } as const;

/**
 * mapping.md, tables: the CSV rendering of a generated table JSON (its cells hold no comma, quote or
 * line break, so no quoting), CRLF line ends.
 */
export function expectedTableCsv(json: Buffer): string {
  const table = JSON.parse(json.toString('utf8')) as { columns: string[]; data: unknown[][] };
  return [table.columns, ...table.data].map((r) => r.map((c) => (c === null ? '' : String(c))).join(',')).join('\r\n') + '\r\n';
}

/** A step as Protocol B keeps it: whole + millionths, truncated (neptune-api.md §3.4), read back as whole + micro / 1e6. */
export function bStep(step: number): number {
  const whole = Math.floor(step);
  return whole + Math.trunc(Math.round((step - whole) * 1e12) / 1e6) / 1e6;
}

function unpackedBins(m: Record<string, unknown>): unknown {
  const p = m.packedBins as { min: number; size: number; count: number } | undefined;
  return m.bins ?? (p && Array.from({ length: p.count + 1 }, (_, i) => p.min + i * p.size));
}

/** Protocol B's histogram rules (neptune-api.md §3.8): ≤ 512 bins, finite increasing inner edges, one value per bin. */
function fitsHistogramSeries(bins: unknown, values: unknown): boolean {
  if (!Array.isArray(bins) || !Array.isArray(values) || bins.length > 513 || values.length !== bins.length - 1) return false;
  return bins.every((e, i) => typeof e === 'number' && !Number.isNaN(e) && (i === 0 || e > bins[i - 1]));
}

function isMedia(v: unknown): string | undefined {
  return v && typeof v === 'object' && !Array.isArray(v) && typeof (v as { _type?: unknown })._type === 'string'
    ? ((v as { _type: string })._type)
    : undefined;
}

/**
 * README, "What goes where": a path that would turn an earlier path into a namespace (`loss` then
 * `loss/val`), or sit where an earlier one's namespace is, gets `_` on the clashing segment
 * (`loss_/val`). Paths in first-seen order → the path each one lands on.
 */
export function collisionFree(paths: Iterable<string>): Map<string, string> {
  const out = new Map<string, string>();
  const taken = new Set<string>();
  const spaces = new Set<string>();
  for (const path of paths) {
    if (out.has(path)) continue;
    const segs = path.split('/');
    const upTo = (i: number) => segs.slice(0, i + 1).join('/');
    // Suffix a segment until it is free: never an earlier field, and the last never an earlier namespace.
    for (let i = 0; i < segs.length; i++) while (taken.has(upTo(i)) || (i === segs.length - 1 && spaces.has(upTo(i)))) segs[i] += '_';
    const final = segs.join('/');
    out.set(path, final);
    taken.add(final);
    for (let i = 1; i < segs.length; i++) spaces.add(segs.slice(0, i).join('/'));
  }
  return out;
}

function renamedKeys<T>(m: Map<string, T>): Map<string, T> {
  const to = collisionFree(m.keys());
  return new Map([...m].map(([k, v]) => [to.get(k)!, v]));
}

export function expectedHistory(run: GenRun, protocol: 'a' | 'b' = 'a'): ExpectedSeries {
  const out: ExpectedSeries = {
    floats: new Map(), strings: new Map(), nonFinite: 0, media: new Map(), images: new Map(), histograms: new Map(), histogramSeries: new Map(),
    tables: new Map(), mediaFiles: new Map(), lists: new Map(),
  };
  const push = <T>(m: Map<string, T[]>, key: string, v: T) => {
    let list = m.get(key);
    if (!list) m.set(key, (list = []));
    list.push(v);
  };
  const seen = new Set<string>();
  for (const row of run.history()) {
    const step = row._step as number;
    const ts = Math.round((row._timestamp as number) * 1000);
    const visit = (key: string, v: unknown) => {
      if (v === null || v === undefined) return;
      if (typeof v === 'number' || typeof v === 'boolean') {
        const n = Number(v);
        if (!Number.isFinite(n)) return void out.nonFinite++;
        seen.add(key);
        let list = out.floats.get(key);
        if (!list) out.floats.set(key, (list = []));
        list.push({ step, timestampMs: ts, value: n });
      } else if (typeof v === 'string') {
        seen.add(key);
        let list = out.strings.get(key);
        if (!list) out.strings.set(key, (list = []));
        list.push({ step, timestampMs: ts, value: v });
      } else if (isMedia(v)) {
        const m = v as Record<string, unknown>;
        out.media.set(isMedia(v)!, (out.media.get(isMedia(v)!) ?? 0) + 1);
        // Images are a history series like any other: their key takes part in the renames.
        // n images of one row at step + i/n; on B their captions are a string series `<key>_caption` beside.
        const images = m._type === 'image-file' ? [{ file: m.path as string, caption: m.caption as string | undefined }]
          : m._type === 'images/separated' ? (m.filenames as string[]).map((file, i) => ({ file, caption: (m.captions as string[] | undefined)?.[i] })) : [];
        if (images.length) seen.add(key);
        images.forEach((x, i) => {
          const at = step + i / images.length;
          push(out.images, key, { step: at, timestampMs: ts, caption: x.caption, file: x.file });
          if (protocol === 'b' && x.caption !== undefined) {
            seen.add(`${key}_caption`);
            push(out.strings, `${key}_caption`, { step: bStep(at), timestampMs: ts, value: x.caption });
          }
        });
        if (m._type === 'histogram') {
          const bins = unpackedBins(m);
          if (protocol === 'b' && fitsHistogramSeries(bins, m.values)) push(out.histogramSeries, key, { step, timestampMs: ts, bins: bins as number[], values: m.values as number[] });
          else push(out.histograms, key, { step, bins, values: m.values });
        }
        if (m._type === 'table-file') push(out.tables, key, { step, file: m.path as string });
        if (FILE_DIRS[m._type as string]) push(out.mediaFiles, `media/${FILE_DIRS[m._type as string]}/${key}`, { step, file: m.path as string });
      } else if (Array.isArray(v)) {
        // mapping.md, lists: the list's JSON text as a string point where it fits one entry, else a file per step.
        if ([...JSON.stringify(v)].length > LIST_ENTRY[protocol]) return void push(out.lists, key, { step, value: v });
        seen.add(key);
        let list = out.strings.get(key);
        if (!list) out.strings.set(key, (list = []));
        list.push({ step, timestampMs: ts, value: JSON.stringify(v) });
      } else if (v && typeof v === 'object' && !Array.isArray(v)) {
        for (const [k, x] of Object.entries(v)) visit(`${key}/${k}`, x);
      }
    };
    for (const [k, v] of Object.entries(row)) if (!k.startsWith('_')) visit(k, v);
  }
  // Float and string series share one namespace: rename over both, in first-seen order.
  const to = collisionFree(seen);
  out.floats = new Map([...out.floats].map(([k, v]) => [to.get(k)!, v]));
  out.strings = new Map([...out.strings].map(([k, v]) => [to.get(k)!, v]));
  out.images = new Map([...out.images].map(([k, v]) => [to.get(k)!, v]));
  return out;
}

/**
 * Flattened config/summary leaves: `root/a/b` → the JS value Neptune should hold. mapping.md: in a
 * summary every top-level `_` key is a W&B internal; in a config only `_wandb` is (`_name_or_path`
 * is user data).
 */
export function expectedTree(root: 'config' | 'summary', tree: Record<string, unknown>): Map<string, unknown> {
  const out = new Map<string, unknown>();
  const internal = (k: string) => (root === 'config' ? k === '_wandb' : k.startsWith('_'));
  const walk = (prefix: string, obj: Record<string, unknown>, top: boolean) => {
    for (const [k, v] of Object.entries(obj)) {
      if (top && internal(k)) continue;
      if (isMedia(v)) continue;
      if (v && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length) {
        walk(`${prefix}/${k}`, v as Record<string, unknown>, false);
        continue;
      }
      if (typeof v === 'number' && !Number.isFinite(v)) out.set(`${prefix}/${k}`, String(v));
      else if (typeof v === 'number' && Number.isInteger(v) && Math.abs(v) >= 2 ** 31 && !Number.isSafeInteger(v)) out.set(`${prefix}/${k}`, String(v));
      else if (v === null || Array.isArray(v) || (typeof v === 'object' && v !== null)) out.set(`${prefix}/${k}`, JSON.stringify(v));
      else out.set(`${prefix}/${k}`, v);
    }
  };
  walk(root, tree, true);
  return renamedKeys(out);
}

/** mapping.md, Files: the file set a generated file lands in, or undefined when left out by default. */
export function expectedFileSet(f: GenFile): string | undefined {
  if (f.sizeBytes === 0) return undefined;
  const base = f.name.split('/').pop()!;
  if (f.name.startsWith('media/') || f.name.startsWith('artifact/') || f.name === 'config.yaml' || base.startsWith('wandb-')) return undefined;
  if (f.name.startsWith('code/') || f.name === 'requirements.txt') return 'source_code/files';
  if (/ckpt|checkpoint/i.test(f.name)) return 'checkpoints';
  return 'files';
}

export function fileBytes(f: GenFile): Buffer {
  const c = f.content();
  return Buffer.isBuffer(c) ? c : Buffer.concat([...c]);
}

export function consoleText(run: GenRun): string[] {
  return typeof run.consoleLines === 'function' ? [...run.consoleLines()] : run.consoleLines;
}
