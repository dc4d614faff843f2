/**
 * Writes a run's exported history (rows with `_step < exportedBelowStep`) as parquet files in
 * workDir, lazily on first request and streamed chunk by chunk so memory stays bounded. Layout is
 * documented in FIXTURES.md ("Parquet export layout").
 */
import { mkdirSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setImmediate as yieldLoop } from 'node:timers/promises';
import { ParquetWriter, fileWriter } from 'hyparquet-writer';
import type { SchemaElement } from 'hyparquet-writer';
import { stringifyExtJson } from '../ext-json.ts';
import type { GenRun } from '../generator/types.ts';
import { mergeShape, shapeSchema, writable, type Shape } from './parquet-nested.ts';
import { rewriteAsDataPageV1 } from './parquet-v1.ts';
import { type ColumnKind, type RunDataCache, rowsInRange } from './run-data.ts';

export interface ExportOptions {
  rowsPerFile?: number;
  rowsPerChunk?: number;
  /** DATA_PAGE_V2 pages as hyparquet-writer writes them (default), or DATA_PAGE v1 as pyarrow does by default. */
  pages?: 'v1' | 'v2';
}

function schemaElement(name: string, kind: ColumnKind): SchemaElement {
  switch (kind) {
    case 'int64': return { name, type: 'INT64', repetition_type: 'REQUIRED' };
    case 'double': return { name, type: 'DOUBLE', repetition_type: 'OPTIONAL' };
    case 'bool': return { name, type: 'BOOLEAN', repetition_type: 'OPTIONAL' };
    default: return { name, type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' };
  }
}

/** A column as written: its kind, and for a `json` key the nested shape it is written as (parquet-nested.ts). */
type Column = [name: string, kind: ColumnKind | 'nested'];

function cell(kind: ColumnKind | 'nested', v: unknown): unknown {
  if (kind === 'nested') return v ?? null;
  if (kind === 'int64') return BigInt(v as number);
  if (v === null || v === undefined) return null;
  switch (kind) {
    case 'double': return typeof v === 'number' ? v : null;
    case 'bool': return typeof v === 'boolean' ? v : null;
    case 'string': return typeof v === 'string' ? v : stringifyExtJson(v);
    default: return stringifyExtJson(v); // json: objects, lists and mixed-type keys as extended-JSON text
  }
}

function safe(s: string): string {
  return s.replace(/[^A-Za-z0-9_.-]/g, (c) => '%' + c.charCodeAt(0).toString(16));
}

export class ParquetExporter {
  private inFlight = new Map<string, Promise<string[]>>();
  private readonly rowsPerFile: number;
  private readonly rowsPerChunk: number;
  private readonly pages: 'v1' | 'v2';

  constructor(private readonly workDir: string, private readonly cache: RunDataCache, opts: ExportOptions = {}) {
    this.rowsPerFile = opts.rowsPerFile ?? 200_000;
    this.rowsPerChunk = opts.rowsPerChunk ?? 20_000;
    this.pages = opts.pages ?? 'v2';
  }

  /** Paths of the run's export files (none when nothing is exported); created once, then reused. */
  files(entity: string, project: string, run: GenRun): Promise<string[]> {
    const dir = join(this.workDir, safe(entity), safe(project), safe(run.id));
    let p = this.inFlight.get(dir);
    if (!p) {
      p = this.build(dir, run);
      this.inFlight.set(dir, p);
      p.catch(() => this.inFlight.delete(dir));
    }
    return p;
  }

  /** The `json` keys written as nested columns, with their shapes (one pass over the exported rows). */
  private nestedShapes(run: GenRun, kinds: [string, ColumnKind][]): Map<string, Shape | undefined> {
    const json = kinds.filter(([, k]) => k === 'json').map(([name]) => name);
    const shapes = new Map<string, Shape | undefined>();
    if (json.length === 0) return shapes;
    for (const row of rowsInRange(run, -Infinity, run.exportedBelowStep)) {
      for (const k of json) if (k in row) shapes.set(k, mergeShape(shapes.get(k), row[k]));
    }
    for (const [k, s] of shapes) if (!s || !writable(s)) shapes.delete(k);
    return shapes;
  }

  private async build(dir: string, run: GenRun): Promise<string[]> {
    const fingerprint = `v2:${run.historyRowCount}:${run.lastStep}:${run.exportedBelowStep}:${this.rowsPerFile}:${this.pages}`;
    const manifestPath = join(dir, 'manifest.json');
    if (existsSync(manifestPath)) {
      const m = JSON.parse(readFileSync(manifestPath, 'utf8')) as { fingerprint: string; files: string[] };
      if (m.fingerprint === fingerprint) return m.files.map((f) => join(dir, f));
    }
    mkdirSync(dir, { recursive: true });
    const kinds = [...this.cache.statsOf(run).columns];
    const shapes = this.nestedShapes(run, kinds);
    const columns: Column[] = kinds.map(([name, kind]) => [name, shapes.has(name) ? 'nested' : kind]);
    const schema: SchemaElement[] = [
      { name: 'root', num_children: columns.length },
      ...columns.flatMap(([name, kind]) => (kind === 'nested' ? shapeSchema(name, shapes.get(name)) : [schemaElement(name, kind)])),
    ];
    const names: string[] = [];
    let writer: ParquetWriter | undefined;
    let tmpPath = '';
    let rowsInFile = 0;
    let chunk: unknown[][] = columns.map(() => []);
    let chunkRows = 0;

    const flushChunk = async (): Promise<void> => {
      if (chunkRows === 0 || !writer) return;
      await writer.write({
        columnData: columns.map(([name], ci) => ({ name, data: chunk[ci] as never })),
        rowGroupSize: chunkRows,
      });
      chunk = columns.map(() => []);
      chunkRows = 0;
      await yieldLoop(); // let other requests run while a big export is written
    };
    const closeFile = async (): Promise<void> => {
      if (!writer) return;
      await flushChunk();
      await writer.finish();
      if (this.pages === 'v1') rewriteAsDataPageV1(tmpPath);
      const name = `part-${String(names.length).padStart(5, '0')}.parquet`;
      renameSync(tmpPath, join(dir, name));
      names.push(name);
      writer = undefined;
      rowsInFile = 0;
    };

    for (const row of rowsInRange(run, -Infinity, run.exportedBelowStep)) {
      if (!writer) {
        tmpPath = join(dir, `part-${names.length}.tmp`);
        writer = new ParquetWriter({ writer: fileWriter(tmpPath), schema, createdBy: 'wandb-emulator',
          kvMetadata: [{ key: 'wandb-emulator.layout', value: 'v2' }] });
      }
      for (let ci = 0; ci < columns.length; ci++) chunk[ci].push(cell(columns[ci][1], row[columns[ci][0]]));
      chunkRows++;
      rowsInFile++;
      if (chunkRows >= this.rowsPerChunk) await flushChunk();
      if (rowsInFile >= this.rowsPerFile) await closeFile();
    }
    await closeFile();
    writeFileSync(manifestPath, JSON.stringify({ fingerprint, files: names }));
    return names.map((f) => join(dir, f));
  }
}
