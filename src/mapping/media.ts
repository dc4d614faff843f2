import type { HistogramPoint, Omission, OmissionReason, SeriesPoint } from '../core/target.ts';
import { capabilitiesOf, type ExcludeOption, type MappingOptions } from './options.ts';
import { joinPath } from './paths.ts';
import type { SeriesPathPlanner } from './series-paths.ts';
import { addOmission, jsonText, mediaType } from './values.ts';

/**
 * History and summary media (mapping.md, "history media" rows; issue 11). A media value becomes
 * image-series points (images; a file series on Protocol B), histogram-series points (histograms, on
 * a target that has them) or files in a per-key file set; its bytes are a run file the value names
 * (`path`, `filenames`) or text made from the value itself (histograms, lists). Pure: the pipeline
 * fetches, renders and uploads.
 */

/** Where a media file's bytes come from. `table-csv`: the CSV rendering of a table JSON run file. */
export type MediaSource = { runFile: string; render?: 'table-csv' } | { text: string };

export interface MediaFile {
  /** The W&B key the value was logged under (report lines name it). */
  key: string;
  /** The file-set attribute (`media/histograms/<key>`, `summary/media/tables/<key>`). */
  fileSet: string;
  relativePath: string;
  source: MediaSource;
}

export interface MediaImage {
  key: string;
  /** Image-series attribute path. */
  path: string;
  step: number;
  timestampMs: number;
  runFile: string;
  name: string;
  description?: string;
}

export interface MediaHistogram {
  key: string;
  /** Histogram-series attribute path. */
  path: string;
  point: HistogramPoint;
}

export interface MappedMedia {
  images: MediaImage[];
  histograms: MediaHistogram[];
  files: MediaFile[];
  strings: Array<{ path: string; point: SeriesPoint<string> }>;
  omissions: Omission[];
}

export function emptyMedia(): MappedMedia {
  return { images: [], histograms: [], files: [], strings: [], omissions: [] };
}

/** `_type`s carried as the W&B file they name, by folder under `media/`. */
const FILE_KINDS: Readonly<Record<string, string>> = {
  'audio-file': 'audio',
  'video-file': 'video',
  'html-file': 'html',
  'object3D-file': 'object3D',
  'plotly-file': 'plotly',
  'molecule-file': 'molecule',
  'bokeh-file': 'bokeh',
  'graph-file': 'graph',
};
const TABLE_KINDS: ReadonlySet<string> = new Set(['table-file', 'joined-table', 'partitioned-table']);
/** `images` is the 2018 SDK's form: one tiled image per row at `media/images/<key>_<step>.jpg`. */
const IMAGE_KINDS: ReadonlySet<string> = new Set(['image-file', 'images/separated', 'images']);

/** Which `--exclude` switch governs a `_type` (undefined: not a kind this mapping carries). */
export function mediaSwitch(type: string): ExcludeOption | undefined {
  if (type === 'histogram') return 'histograms';
  if (TABLE_KINDS.has(type)) return 'tables';
  if (IMAGE_KINDS.has(type) || type in FILE_KINDS) return 'media';
  return undefined;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function ext(name: string, fallback: string): string {
  const base = name.slice(name.lastIndexOf('/') + 1);
  const dot = base.indexOf('.');
  return dot > 0 ? base.slice(dot + 1) : fallback;
}

/** Histogram bins and values; `packedBins {min,size,count}` (old data) are unpacked to edges. */
export function histogramJson(v: Record<string, unknown>): { bins: number[]; values: number[] } | undefined {
  const values = v.values;
  let bins = v.bins;
  const packed = v.packedBins as { min?: unknown; size?: unknown; count?: unknown } | undefined;
  if (!Array.isArray(bins) && packed && typeof packed.min === 'number' && typeof packed.size === 'number' && typeof packed.count === 'number') {
    bins = Array.from({ length: packed.count + 1 }, (_, i) => (packed.min as number) + i * (packed.size as number));
  }
  if (!Array.isArray(bins) || !Array.isArray(values)) return undefined;
  return { bins: bins as number[], values: values as number[] };
}

/**
 * A W&B histogram as one point of a Protocol B histogram series, or why it cannot be one (B's rules,
 * neptune-api.md §3.8 codes 50–53; `common.proto` `Histogram`: no NaN edge, ±Infinity only as the
 * outer edges, edges increasing, one value per bin). Values that are all whole non-negative numbers
 * are `counts`; any other (weights, densities) are `densities`, B's only floating-point form.
 */
export function histogramPoint(h: { bins: unknown[]; values: unknown[] }, maxBins: number): Omit<HistogramPoint, 'step' | 'timestampMs'> | { reason: OmissionReason; detail: string } {
  const edges = h.bins;
  const values = h.values;
  if (edges.length - 1 > maxBins) return { reason: 'field-limit', detail: `${edges.length - 1} bins, more than ${maxBins}` };
  if (!edges.every((e) => typeof e === 'number') || edges.some((e) => Number.isNaN(e))) return { reason: 'unsupported-value', detail: 'a bin edge is not a number' };
  const nums = edges as number[];
  if (nums.some((e, i) => !Number.isFinite(e) && i > 0 && i < nums.length - 1)) return { reason: 'unsupported-value', detail: 'an inner bin edge is infinite' };
  if (nums.length < 2 || nums.some((e, i) => i > 0 && !(e > nums[i - 1]))) return { reason: 'unsupported-value', detail: 'bin edges do not increase' };
  if (values.length !== nums.length - 1) return { reason: 'unsupported-value', detail: `${values.length} values for ${nums.length - 1} bins` };
  if (!values.every((v) => typeof v === 'number' && Number.isFinite(v))) return { reason: 'unsupported-value', detail: 'a bin value is not a finite number' };
  const vs = values as number[];
  const counts = vs.every((v) => Number.isSafeInteger(v) && v >= 0);
  return { edges: [...nums], values: [...vs], kind: counts ? 'counts' : 'densities' };
}

/** A table JSON (`{columns, data}`, W&B `table.py`) as CSV text (RFC 4180 quoting); undefined if it is not one. */
export function tableCsv(table: unknown): string | undefined {
  if (!table || typeof table !== 'object') return undefined;
  const { columns, data } = table as { columns?: unknown; data?: unknown };
  if (!Array.isArray(columns) || !Array.isArray(data)) return undefined;
  const cell = (v: unknown): string => {
    const s = typeof v === 'string' ? v : v === null || v === undefined ? '' : jsonText(v);
    return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  const rows = [columns, ...data.map((r) => (Array.isArray(r) ? r : [r]))];
  return rows.map((r) => (r as unknown[]).map(cell).join(',')).join('\r\n') + '\r\n';
}

function excluded(opts: MappingOptions, sw: ExcludeOption): boolean {
  return opts.exclude?.has(sw) ?? false;
}

export interface MediaWhere {
  /** `history`: a row at `step`; `summary`: the run's summary (files named `summary.*`). */
  root: 'history' | 'summary';
  step: number;
  timestampMs: number;
}

/**
 * One media value (an object with `_type`) at `key` → instructions, or a report line naming the key.
 * Images in history need `planner` (an image series is a history series path like any other).
 */
export function mapMediaValue(key: string, value: Record<string, unknown>, where: MediaWhere, planner: SeriesPathPlanner | undefined, opts: MappingOptions, out: MappedMedia): void {
  const type = mediaType(value)!;
  const sw = mediaSwitch(type);
  const subject = where.root === 'summary' ? `summary/${key}` : key;
  if (!sw) {
    addOmission(out.omissions, { reason: 'unsupported-value', subject, count: 1, detail: `${type} value: not a media kind this version carries` });
    return;
  }
  if (excluded(opts, sw)) {
    addOmission(out.omissions, { reason: 'excluded-by-default', subject, count: 1, detail: `${type} value (--exclude ${sw})` });
    return;
  }
  const label = where.root === 'summary' ? 'summary' : String(where.step);
  const fileSet = (dir: string) => (where.root === 'summary' ? `summary/media/${dir}/${joinPath(...key.split('/'))}` : `media/${dir}/${joinPath(...key.split('/'))}`);
  const missing = (what: string) => addOmission(out.omissions, { reason: 'unsupported-value', subject, count: 1, detail: `${type} value names no ${what}` });

  if (IMAGE_KINDS.has(type)) {
    const files = imageFiles(key, value, type, where.step);
    if (files.length === 0) return missing('image file');
    if (where.root === 'summary') {
      files.forEach((f, i) => out.files.push({ key, fileSet: fileSet('images'), relativePath: `${label}${files.length > 1 ? `_${i}` : ''}.${ext(f.file, 'png')}`, source: { runFile: f.file } }));
      return;
    }
    const sp = planner!.assign(key, 'image');
    if (sp.kind !== 'image') {
      addOmission(out.omissions, { reason: 'type-mismatch', subject, count: files.length, detail: `images in a ${sp.kind} series` });
      return;
    }
    const caps = capabilitiesOf(opts);
    const inSeries = caps.imageCaptions === 'string-series' && files.some((f) => f.caption !== undefined);
    const captions = inSeries ? planner!.assign(`${key}_caption`, 'string') : undefined;
    if (captions && captions.kind !== 'string') addOmission(out.omissions, { reason: 'type-mismatch', subject: `${key}_caption`, count: files.length, detail: `image captions in a ${captions.kind} series` });
    // Steps must increase strictly: n images of one row land at step + i/n (mapping.md); B keeps
    // millionths of a step, so up to a million images of one row stay apart.
    files.forEach((f, i) => {
      const step = where.step + i / files.length;
      out.images.push({
        key, path: sp.path, step, timestampMs: where.timestampMs, runFile: f.file,
        name: f.file.slice(f.file.lastIndexOf('/') + 1), ...(f.caption !== undefined && !inSeries ? { description: f.caption } : {}),
      });
      if (captions?.kind === 'string' && f.caption !== undefined) out.strings.push({ path: captions.path, point: { step, timestampMs: where.timestampMs, value: f.caption } });
    });
    return;
  }
  if (type === 'histogram') {
    const h = histogramJson(value);
    if (!h) return missing('bins and values');
    const caps = capabilitiesOf(opts);
    if (caps.histograms && where.root === 'history') {
      const p = histogramPoint(h, caps.histogramBins);
      if ('edges' in p) {
        const sp = planner!.assign(key, 'histogram');
        if (sp.kind === 'histogram') {
          out.histograms.push({ key, path: sp.path, point: { step: where.step, timestampMs: where.timestampMs, ...p } });
          return;
        }
        addOmission(out.omissions, { reason: 'type-mismatch', subject, count: 1, detail: `histogram in a ${sp.kind} series: written as a file in ${fileSet('histograms')}` });
      } else {
        addOmission(out.omissions, { reason: p.reason, subject, count: 1, detail: `histogram not a histogram-series point (${p.detail}): written as a file in ${fileSet('histograms')}` });
      }
    }
    out.files.push({ key, fileSet: fileSet('histograms'), relativePath: `${label}.json`, source: { text: jsonText(h) } });
    return;
  }
  const path = str(value.path);
  if (!path) return missing('file (path)');
  if (TABLE_KINDS.has(type)) {
    out.files.push({ key, fileSet: fileSet('tables'), relativePath: `${label}.${ext(path, 'json')}`, source: { runFile: path } });
    if (type === 'table-file') out.files.push({ key, fileSet: fileSet('tables'), relativePath: `${label}.csv`, source: { runFile: path, render: 'table-csv' } });
    return;
  }
  out.files.push({ key, fileSet: fileSet(FILE_KINDS[type]), relativePath: `${label}.${ext(path, 'bin')}`, source: { runFile: path } });
}

function imageFiles(key: string, v: Record<string, unknown>, type: string, step: number): Array<{ file: string; caption?: string }> {
  const caption = (c: unknown) => (typeof c === 'string' ? c : c === undefined || c === null ? undefined : jsonText(c));
  if (type === 'image-file') {
    const p = str(v.path);
    return p ? [{ file: p, caption: caption(v.caption) }] : [];
  }
  const captions = Array.isArray(v.captions) ? v.captions : [];
  if (type === 'images') {
    // W&B 0.5 (2018) wrote one sprite of `count` tiles per row; its captions go with it.
    return [{ file: `media/images/${key}_${step}.jpg`, caption: captions.length ? captions.map((c) => caption(c) ?? '').join(', ') : undefined }];
  }
  const names = Array.isArray(v.filenames) ? v.filenames.filter((f): f is string => typeof f === 'string') : [];
  return names.map((file, i) => ({ file, caption: caption(captions[i]) }));
}

/**
 * A list in a history row → one string point of its JSON text where it fits one entry of a string
 * series (A: 1000 characters, B: 1 MiB), else a file `<step>.json` in `media/lists/<key>` (mapping.md, lists).
 */
export function mapListValue(key: string, list: unknown[], where: MediaWhere, planner: SeriesPathPlanner, opts: MappingOptions, out: MappedMedia): void {
  if (excluded(opts, 'lists')) {
    addOmission(out.omissions, { reason: 'excluded-by-default', subject: key, count: 1, detail: 'list value (--exclude lists)' });
    return;
  }
  const text = jsonText(list);
  if ([...text].length <= capabilitiesOf(opts).stringSeriesEntryLength) {
    const sp = planner.assign(key, 'string');
    if (sp.kind !== 'string') {
      addOmission(out.omissions, { reason: 'type-mismatch', subject: key, count: 1, detail: `list in a ${sp.kind} series` });
      return;
    }
    out.strings.push({ path: sp.path, point: { step: where.step, timestampMs: where.timestampMs, value: text } });
    return;
  }
  out.files.push({ key, fileSet: `media/lists/${joinPath(...key.split('/'))}`, relativePath: `${where.step}.json`, source: { text } });
}

/** Media values of the summary (top level and nested dicts) → files under `summary/media/…`. */
export function mapSummaryMedia(summary: Record<string, unknown>, opts: MappingOptions): MappedMedia {
  const out = emptyMedia();
  const visit = (key: string, v: unknown) => {
    if (mediaType(v)) return mapMediaValue(key, v as Record<string, unknown>, { root: 'summary', step: 0, timestampMs: 0 }, undefined, opts, out);
    if (v && typeof v === 'object' && !Array.isArray(v)) for (const [k, x] of Object.entries(v)) visit(`${key}/${k}`, x);
  };
  for (const [k, v] of Object.entries(summary)) if (!k.startsWith('_')) visit(k, v);
  return out;
}
