import Database from 'better-sqlite3';

/**
 * Damage done to the Neptune emulator's SQLite store behind its back (the emulator started with
 * `storage: <file>`), so a test can check that `verify` finds it. The tables are the emulator's own
 * (emulators/neptune/store.ts): series + series_points, attrs, blobs, containers; and Protocol B's
 * storage objects (emulators/neptune-b/store.ts `b_objects`), which a `FileRef` points at.
 */
export class NeptuneCorruptor {
  private readonly db: Database.Database;

  constructor(file: string) {
    this.db = new Database(file);
    this.db.pragma('busy_timeout = 5000');
  }

  private seriesId(containerId: string, path: string): number {
    const row = this.db.prepare('SELECT id FROM series WHERE container_id = ? AND path = ?').get(containerId, path) as { id: number } | undefined;
    if (!row) throw new Error(`no series ${path} in ${containerId}`);
    return row.id;
  }

  /** The steps a series holds, in order. */
  steps(containerId: string, path: string): number[] {
    return (this.db.prepare('SELECT step FROM series_points WHERE series_id = ? ORDER BY step').all(this.seriesId(containerId, path)) as Array<{ step: number }>).map((r) => r.step);
  }

  dropPoint(containerId: string, path: string, step: number): void {
    const n = this.db.prepare('DELETE FROM series_points WHERE series_id = ? AND step = ?').run(this.seriesId(containerId, path), step).changes;
    if (n !== 1) throw new Error(`no point at step ${step} of ${path}`);
  }

  setFloat(containerId: string, path: string, step: number, value: number): void {
    const n = this.db.prepare('UPDATE series_points SET num = ? WHERE series_id = ? AND step = ?').run(value, this.seriesId(containerId, path), step).changes;
    if (n !== 1) throw new Error(`no point at step ${step} of ${path}`);
  }

  setString(containerId: string, path: string, step: number, value: string): void {
    const n = this.db.prepare('UPDATE series_points SET str = ? WHERE series_id = ? AND step = ?').run(value, this.seriesId(containerId, path), step).changes;
    if (n !== 1) throw new Error(`no point at step ${step} of ${path}`);
  }

  deleteFile(containerId: string, fileSet: string, subPath: string): void {
    const n = this.db.prepare('DELETE FROM blobs WHERE container_id = ? AND path = ? AND sub_path = ?').run(containerId, fileSet, subPath).changes;
    if (n !== 1) throw new Error(`no file ${subPath} in ${fileSet}`);
  }

  /** Same size, one byte changed: only the MD5 can tell. */
  flipByte(containerId: string, fileSet: string, subPath: string): void {
    const row = this.db.prepare('SELECT data FROM blobs WHERE container_id = ? AND path = ? AND sub_path = ?').get(containerId, fileSet, subPath) as { data: Buffer } | undefined;
    if (!row) throw new Error(`no file ${subPath} in ${fileSet}`);
    const data = Buffer.from(row.data);
    data[0] ^= 0xff;
    this.db.prepare('UPDATE blobs SET data = ? WHERE container_id = ? AND path = ? AND sub_path = ?').run(data, containerId, fileSet, subPath);
  }

  removeField(containerId: string, path: string): void {
    const n = this.db.prepare('DELETE FROM attrs WHERE container_id = ? AND path = ?').run(containerId, path).changes;
    if (n !== 1) throw new Error(`no field ${path}`);
  }

  setField(containerId: string, path: string, json: unknown): void {
    const n = this.db.prepare('UPDATE attrs SET value = ? WHERE container_id = ? AND path = ?').run(JSON.stringify(json), containerId, path).changes;
    if (n !== 1) throw new Error(`no field ${path}`);
  }

  /** A field's stored value as its text (Protocol B keeps an int64 as its digits). */
  setFieldText(containerId: string, path: string, text: string): void {
    const n = this.db.prepare('UPDATE attrs SET value = ? WHERE container_id = ? AND path = ?').run(text, containerId, path).changes;
    if (n !== 1) throw new Error(`no field ${path}`);
  }

  /** Protocol A: one image of an image series (base64 `data` in its point) changed at the same size. */
  flipImageByte(containerId: string, path: string, step: number): void {
    const id = this.seriesId(containerId, path);
    const row = this.db.prepare('SELECT str FROM series_points WHERE series_id = ? AND step = ?').get(id, step) as { str: string } | undefined;
    if (!row) throw new Error(`no image at step ${step} of ${path}`);
    const image = JSON.parse(row.str) as { data: string };
    const data = Buffer.from(image.data, 'base64');
    data[data.length - 1] ^= 0xff;
    this.db.prepare('UPDATE series_points SET str = ? WHERE series_id = ? AND step = ?').run(JSON.stringify({ ...image, data: data.toString('base64') }), id, step);
  }

  /** Protocol B: the stored object a `FileRef` points at, gone (the ref stays). */
  deleteObject(project: string, storagePath: string): void {
    const n = this.db.prepare('DELETE FROM b_objects WHERE project = ? AND path = ?').run(project, storagePath).changes;
    if (n !== 1) throw new Error(`no stored object ${storagePath} in ${project}`);
  }

  /** Protocol B: a stored object's bytes changed at the same size. */
  flipObjectByte(project: string, storagePath: string): void {
    const row = this.db.prepare('SELECT data FROM b_objects WHERE project = ? AND path = ?').get(project, storagePath) as { data: Buffer } | undefined;
    if (!row) throw new Error(`no stored object ${storagePath} in ${project}`);
    const data = Buffer.from(row.data);
    data[0] ^= 0xff;
    this.db.prepare('UPDATE b_objects SET data = ? WHERE project = ? AND path = ?').run(data, project, storagePath);
  }

  /** The JSON text of a Protocol B object-series point (a `FileRef` or a histogram) at each step, in step order. */
  private objectPoints(containerId: string, path: string): Array<{ step: number; str: string }> {
    return this.db.prepare('SELECT step, str FROM series_points WHERE series_id = ? ORDER BY step').all(this.seriesId(containerId, path)) as Array<{ step: number; str: string }>;
  }

  /** Protocol B: the storage paths of a file series' `FileRef`s, by step. */
  fileRefs(containerId: string, path: string): Array<{ step: number; path: string }> {
    return this.objectPoints(containerId, path).map((p) => ({ step: p.step, path: (JSON.parse(p.str) as { path: string }).path }));
  }

  /** Protocol B: one bin value of a histogram-series point changed. */
  setHistogramValue(containerId: string, path: string, step: number, bin: number, value: number): void {
    const id = this.seriesId(containerId, path);
    const row = this.db.prepare('SELECT str FROM series_points WHERE series_id = ? AND step = ?').get(id, step) as { str: string } | undefined;
    if (!row) throw new Error(`no histogram at step ${step} of ${path}`);
    const h = JSON.parse(row.str) as { values: number[] };
    if (bin >= h.values.length) throw new Error(`no bin ${bin} at step ${step} of ${path}`);
    h.values[bin] = value;
    this.db.prepare('UPDATE series_points SET str = ? WHERE series_id = ? AND step = ?').run(JSON.stringify(h), id, step);
  }

  deleteRun(containerId: string): void {
    this.db.prepare('DELETE FROM attrs WHERE container_id = ?').run(containerId);
    this.db.prepare('DELETE FROM containers WHERE id = ?').run(containerId);
  }

  close(): void {
    this.db.close();
  }
}
