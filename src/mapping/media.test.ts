import { describe, expect, it } from 'vitest';
import { mapHistoryRow } from './history.ts';
import { histogramJson, mapSummaryMedia, tableCsv } from './media.ts';
import { defaultMappingOptions } from './options.ts';
import { SeriesPathPlanner } from './series-paths.ts';
import { protocolBCapabilities } from './capabilities.ts';

const row = (step: number, values: Record<string, unknown>) => ({ step, timestamp: 100 + step, values });

describe('mapping.md — history media (issue 11)', () => {
  it('image-file → image series <key> at the row step and timestamp, caption as description', () => {
    const out = mapHistoryRow(row(3, { 'pred/img': { _type: 'image-file', path: 'media/images/pred/img_3_ab.png', caption: 'a cat' } }), new SeriesPathPlanner(), defaultMappingOptions, 0);
    expect(out.media.images).toEqual([
      { key: 'pred/img', path: 'pred/img', step: 3, timestampMs: 103_000, runFile: 'media/images/pred/img_3_ab.png', name: 'img_3_ab.png', description: 'a cat' },
    ]);
    expect(out.omissions).toEqual([]);
  });
  it('images/separated: n images of one row at step + i/n, each with its caption', () => {
    const v = { _type: 'images/separated', count: 4, filenames: ['media/images/a0.png', 'media/images/a1.png', 'media/images/a2.png', 'media/images/a3.png'], captions: ['w', 'x', 'y', 'z'] };
    const out = mapHistoryRow(row(2, { grid: v }), new SeriesPathPlanner(), defaultMappingOptions, 0);
    expect(out.media.images.map((i) => [i.step, i.runFile, i.description])).toEqual([
      [2, 'media/images/a0.png', 'w'], [2.25, 'media/images/a1.png', 'x'], [2.5, 'media/images/a2.png', 'y'], [2.75, 'media/images/a3.png', 'z'],
    ]);
  });
  it('the 2018 `images` form: the row\'s sprite media/images/<key>_<step>.jpg, captions joined', () => {
    const out = mapHistoryRow(row(5, { examples: { _type: 'images', count: 2, captions: ['horse', 'dog'] } }), new SeriesPathPlanner(), defaultMappingOptions, 0);
    expect(out.media.images.map((i) => [i.step, i.runFile, i.description])).toEqual([[5, 'media/images/examples_5.jpg', 'horse, dog']]);
  });
  it('a float key after an image key of the same name is renamed, not mixed into the image series', () => {
    const planner = new SeriesPathPlanner();
    mapHistoryRow(row(0, { x: { _type: 'image-file', path: 'media/images/x.png' } }), planner, defaultMappingOptions, 0);
    const out = mapHistoryRow(row(1, { x: 1 }), planner, defaultMappingOptions, 0);
    expect(out.floats).toEqual([]);
    expect(out.omissions).toEqual([{ reason: 'type-mismatch', subject: 'x', count: 1, detail: 'number in an image series' }]);
  });
  it('histogram → media/histograms/<key>/<step>.json with bins and values; packedBins unpacked', () => {
    const out = mapHistoryRow(row(4, { 'w/hist': { _type: 'histogram', bins: [0, 1, 2], values: [3, 4] } }), new SeriesPathPlanner(), defaultMappingOptions, 0);
    expect(out.media.files).toEqual([{ key: 'w/hist', fileSet: 'media/histograms/w/hist', relativePath: '4.json', source: { text: '{"bins":[0,1,2],"values":[3,4]}' } }]);
    expect(histogramJson({ packedBins: { min: -1, size: 0.5, count: 4 }, values: [1, 2, 3, 4] })).toEqual({ bins: [-1, -0.5, 0, 0.5, 1], values: [1, 2, 3, 4] });
  });
  it('table-file → media/tables/<key>: the table JSON and its CSV rendering per step', () => {
    const out = mapHistoryRow(row(1, { preds: { _type: 'table-file', path: 'media/table/preds_1_ab.table.json', ncols: 2, nrows: 1 } }), new SeriesPathPlanner(), defaultMappingOptions, 0);
    expect(out.media.files).toEqual([
      { key: 'preds', fileSet: 'media/tables/preds', relativePath: '1.table.json', source: { runFile: 'media/table/preds_1_ab.table.json' } },
      { key: 'preds', fileSet: 'media/tables/preds', relativePath: '1.csv', source: { runFile: 'media/table/preds_1_ab.table.json', render: 'table-csv' } },
    ]);
    expect(tableCsv({ columns: ['id', 'text'], data: [[1, 'a,"b"'], [2, null]] })).toBe('id,text\r\n1,"a,""b"""\r\n2,\r\n');
  });
  it('html, plotly, audio … → media/<kind>/<key>/<step>.<ext>', () => {
    const out = mapHistoryRow(row(7, { page: { _type: 'html-file', path: 'media/html/page_7_x.html' }, fig: { _type: 'plotly-file', path: 'media/plotly/fig_7_y.plotly.json' } }), new SeriesPathPlanner(), defaultMappingOptions, 0);
    expect(out.media.files.map((f) => [f.fileSet, f.relativePath, f.source])).toEqual([
      ['media/html/page', '7.html', { runFile: 'media/html/page_7_x.html' }],
      ['media/plotly/fig', '7.plotly.json', { runFile: 'media/plotly/fig_7_y.plotly.json' }],
    ]);
  });
  it('lists: a string point of the JSON text up to 1000 characters, else media/lists/<key>/<step>.json; --exclude lists', () => {
    const long = Array.from({ length: 400 }, (_, i) => i);
    const out = mapHistoryRow(row(2, { short: [1, 'a', null], long }), new SeriesPathPlanner(), defaultMappingOptions, 0);
    expect(out.strings).toEqual([{ path: 'short', point: { step: 2, timestampMs: 102_000, value: '[1,"a",null]' } }]);
    expect(out.media.files).toEqual([{ key: 'long', fileSet: 'media/lists/long', relativePath: '2.json', source: { text: JSON.stringify(long) } }]);
    const off = mapHistoryRow(row(2, { short: [1] }), new SeriesPathPlanner(), { include: new Set(), exclude: new Set(['lists']) }, 0);
    expect(off.strings).toEqual([]);
    expect(off.omissions).toEqual([{ reason: 'excluded-by-default', subject: 'short', count: 1, detail: 'list value (--exclude lists)' }]);
  });
  it('a user key "media" moves aside: the namespace holds the media file sets', () => {
    const out = mapHistoryRow(row(0, { 'media/x': 1 }), new SeriesPathPlanner(), defaultMappingOptions, 0);
    expect(out.floats.map((f) => f.path)).toEqual(['media_/x']);
  });
  it('summary media → the same files under summary/media/…; unknown kinds are a line naming the key', () => {
    const out = mapSummaryMedia({ acc: 1, best: { _type: 'image-file', path: 'media/images/best.png' }, nest: { h: { _type: 'histogram', bins: [0, 1], values: [2] } }, t: { _type: 'wb_trace_tree' } }, defaultMappingOptions);
    expect(out.files).toEqual([
      { key: 'best', fileSet: 'summary/media/images/best', relativePath: 'summary.png', source: { runFile: 'media/images/best.png' } },
      { key: 'nest/h', fileSet: 'summary/media/histograms/nest/h', relativePath: 'summary.json', source: { text: '{"bins":[0,1],"values":[2]}' } },
    ]);
    expect(out.omissions).toEqual([{ reason: 'unsupported-value', subject: 'summary/t', count: 1, detail: 'wb_trace_tree value: not a media kind this version carries' }]);
  });
});

describe('mapping.md column B — histograms as histogram series, image captions beside the file series (issues 10, 11)', () => {
  const B = { ...defaultMappingOptions, capabilities: protocolBCapabilities() };
  it('a histogram → one histogram-series point at the row step: counts when whole numbers, densities otherwise; packedBins unpacked', () => {
    const out = mapHistoryRow(row(4, {
      w: { _type: 'histogram', bins: [0, 0.5, 1], values: [2, 3] },
      d: { _type: 'histogram', bins: [-Infinity, 0, Infinity], values: [0.25, 0.75] },
      p: { _type: 'histogram', packedBins: { min: -1, size: 0.5, count: 2 }, values: [1, 0] },
    }), new SeriesPathPlanner(), B, 0);
    expect(out.media.histograms).toEqual([
      { key: 'w', path: 'w', point: { step: 4, timestampMs: 104_000, edges: [0, 0.5, 1], values: [2, 3], kind: 'counts' } },
      { key: 'd', path: 'd', point: { step: 4, timestampMs: 104_000, edges: [-Infinity, 0, Infinity], values: [0.25, 0.75], kind: 'densities' } },
      { key: 'p', path: 'p', point: { step: 4, timestampMs: 104_000, edges: [-1, -0.5, 0], values: [1, 0], kind: 'counts' } },
    ]);
    expect(out.media.files).toEqual([]);
    expect(out.omissions).toEqual([]);
  });
  it('more than 512 bins, or edges B refuses → the A-style file and a report line with the reason', () => {
    const wide = { _type: 'histogram', bins: Array.from({ length: 514 }, (_, i) => i), values: Array.from({ length: 513 }, () => 1) };
    const cases: Array<[unknown, string, string]> = [
      [wide, 'field-limit', '513 bins, more than 512'],
      [{ _type: 'histogram', bins: [0, 2, 1], values: [1, 1] }, 'unsupported-value', 'bin edges do not increase'],
      [{ _type: 'histogram', bins: [0, NaN], values: [1] }, 'unsupported-value', 'a bin edge is not a number'],
      [{ _type: 'histogram', bins: [0, Infinity, 2], values: [1, 1] }, 'unsupported-value', 'an inner bin edge is infinite'],
      [{ _type: 'histogram', bins: [0, 1, 2], values: [1] }, 'unsupported-value', '1 values for 2 bins'],
    ];
    for (const [v, reason, detail] of cases) {
      const out = mapHistoryRow(row(1, { h: v }), new SeriesPathPlanner(), B, 0);
      expect(out.media.histograms).toEqual([]);
      expect(out.media.files.map((f) => [f.fileSet, f.relativePath])).toEqual([['media/histograms/h', '1.json']]);
      expect(out.omissions).toEqual([{ reason, subject: 'h', count: 1, detail: expect.stringContaining(detail) }]);
    }
  });
  it('summary histograms stay files; Protocol A keeps every histogram a file', () => {
    expect(mapSummaryMedia({ h: { _type: 'histogram', bins: [0, 1], values: [1] } }, B).files.map((f) => f.fileSet)).toEqual(['summary/media/histograms/h']);
    const a = mapHistoryRow(row(1, { h: { _type: 'histogram', bins: [0, 1], values: [1] } }), new SeriesPathPlanner(), defaultMappingOptions, 0);
    expect([a.media.histograms, a.media.files.length]).toEqual([[], 1]);
  });
  it('image captions: no description (a FileRef has none) but a string series <key>_caption at the images\' steps', () => {
    const v = { _type: 'images/separated', filenames: ['media/images/a0.png', 'media/images/a1.png'], captions: ['x', 'y'] };
    const out = mapHistoryRow(row(2, { grid: v }), new SeriesPathPlanner(), B, 0);
    expect(out.media.images.map((i) => [i.path, i.step, i.description])).toEqual([['grid', 2, undefined], ['grid', 2.5, undefined]]);
    expect(out.strings).toEqual([
      { path: 'grid_caption', point: { step: 2, timestampMs: 102_000, value: 'x' } },
      { path: 'grid_caption', point: { step: 2.5, timestampMs: 102_000, value: 'y' } },
    ]);
  });
  it('a list longer than 1000 characters is a string point on B (1 MiB entries), a file on A', () => {
    const long = Array.from({ length: 400 }, (_, i) => i);
    const b = mapHistoryRow(row(1, { l: long }), new SeriesPathPlanner(), B, 0);
    expect([b.strings.map((s) => s.point.value), b.media.files]).toEqual([[JSON.stringify(long)], []]);
    const a = mapHistoryRow(row(1, { l: long }), new SeriesPathPlanner(), defaultMappingOptions, 0);
    expect([a.strings, a.media.files.map((f) => f.fileSet)]).toEqual([[], ['media/lists/l']]);
  });
});
