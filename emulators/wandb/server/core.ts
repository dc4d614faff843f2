/** What resolvers and HTTP handlers share for one emulator instance (no globals). */
import type { GenEntity, GenProject, GenRun } from '../generator/types.ts';
import type { ParquetExporter } from './parquet-export.ts';
import type { RunDataCache } from './run-data.ts';
import type { UrlSigner } from './storage.ts';

export interface Core {
  entity: GenEntity;
  viewer: { username: string; defaultEntity: string };
  cache: RunDataCache;
  exporter: ParquetExporter;
  signer: UrlSigner;
  /** Base URL, known once the server listens. */
  baseUrl(): string;
}

export function findProject(core: Core, entity: string | null | undefined, name: string | null | undefined): GenProject | undefined {
  if ((entity ?? core.viewer.defaultEntity) !== core.entity.name) return undefined;
  return core.entity.projects.find((p) => p.name === name);
}

export function findRun(project: GenProject, id: string): GenRun | undefined {
  return project.runs.find((r) => r.id === id);
}

const enc = encodeURIComponent;

export function historyPath(entity: string, project: string, runId: string, i: number): string {
  return `/_storage/history/${enc(entity)}/${enc(project)}/${enc(runId)}/${i}.parquet`;
}

export function filePath(entity: string, project: string, runId: string, name: string): string {
  return `/_storage/files/${enc(entity)}/${enc(project)}/${enc(runId)}/${name.split('/').map(enc).join('/')}`;
}
