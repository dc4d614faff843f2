import type { NeptuneApi } from './api.ts';
import type { FieldType } from './rules.ts';

export interface ExistingState {
  /** Every field the server holds for the container, with its type. */
  fields: Map<string, FieldType>;
  /** Float/string/image series: the last step the server stored. */
  lastSteps: Map<string, number>;
  /** String sets (`sys/tags`, …): their values (swagger `StringSetAttributeDTO.values`). */
  sets: Map<string, string[]>;
}

interface AttributeJson {
  name?: unknown;
  type?: unknown;
  floatSeriesProperties?: { lastStep?: unknown };
  stringSeriesProperties?: { lastStep?: unknown };
  imageSeriesProperties?: { lastStep?: unknown };
  stringSetProperties?: { values?: unknown };
}

/** `GET /api/leaderboard/v1/attributes?experimentId=` → fields and series last steps (ExperimentAttributesDTO). */
export async function readExistingState(api: NeptuneApi, containerId: string, signal?: AbortSignal): Promise<ExistingState> {
  const { data } = await api.json<{ attributes?: AttributeJson[]; fields?: AttributeJson[] }>({
    method: 'GET',
    path: '/api/leaderboard/v1/attributes',
    query: { experimentId: containerId },
    signal,
    what: 'existing fields',
  });
  // The swagger calls the list `attributes`; some client versions read `fields`.
  const list = data?.attributes ?? data?.fields ?? [];
  const fields = new Map<string, FieldType>();
  const lastSteps = new Map<string, number>();
  const sets = new Map<string, string[]>();
  for (const a of list) {
    if (typeof a.name !== 'string' || typeof a.type !== 'string') continue;
    fields.set(a.name, a.type);
    const last = a.floatSeriesProperties?.lastStep ?? a.stringSeriesProperties?.lastStep ?? a.imageSeriesProperties?.lastStep;
    if (typeof last === 'number' && Number.isFinite(last)) lastSteps.set(a.name, last);
    const values = a.stringSetProperties?.values;
    if (Array.isArray(values)) sets.set(a.name, values.filter((v): v is string => typeof v === 'string'));
  }
  return { fields, lastSteps, sets };
}

interface FileEntryJson {
  name?: unknown;
  fileType?: unknown;
  size?: unknown;
}

async function listDir(api: NeptuneApi, containerId: string, attribute: string, dir: string, signal?: AbortSignal): Promise<FileEntryJson[]> {
  const { data } = await api.json<FileEntryJson[]>({
    method: 'GET',
    path: '/api/leaderboard/v1/attributes/ls',
    query: { experimentId: containerId, attribute, path: dir },
    signal,
    what: `files of ${attribute}`,
  });
  return Array.isArray(data) ? data : [];
}

/** Whether a FileSet field holds `subPath` with exactly `size` bytes (one `ls` of its directory). */
export async function fileSetHolds(api: NeptuneApi, containerId: string, attribute: string, subPath: string, size: number, signal?: AbortSignal): Promise<boolean> {
  const cut = subPath.lastIndexOf('/');
  const [dir, name] = cut < 0 ? ['', subPath] : [subPath.slice(0, cut), subPath.slice(cut + 1)];
  return (await listDir(api, containerId, attribute, dir, signal)).some((e) => e.name === name && e.fileType !== 'directory' && e.size === size);
}

/**
 * Every file a FileSet field holds, as relative path → size, walking its directories with
 * `GET /api/leaderboard/v1/attributes/ls` (swagger `lsFileSetAttribute`: one directory per call).
 */
export async function listFileSetEntries(api: NeptuneApi, containerId: string, attribute: string, signal?: AbortSignal): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  const dirs = [''];
  while (dirs.length > 0) {
    const dir = dirs.shift()!;
    for (const e of await listDir(api, containerId, attribute, dir, signal)) {
      if (typeof e.name !== 'string') continue;
      const rel = dir ? `${dir}/${e.name}` : e.name;
      if (e.fileType === 'directory') dirs.push(rel);
      else out.set(rel, typeof e.size === 'number' ? e.size : -1);
    }
  }
  return out;
}
