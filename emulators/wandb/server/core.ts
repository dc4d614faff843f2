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
  /** Base URL of the API (GraphQL, `/files/`), known once the server listens. */
  baseUrl(): string;
  /**
   * Base URL of the storage bucket, another origin (as GCS/S3 are to api.wandb.ai): signed URLs point
   * there, so a client that sends its W&B key to another host is seen doing it.
   */
  storageUrl(): string;
  /** Whether the signed URLs of this answer are handed out already expired (fault `staleFirstUrls`). */
  staleUrls(key: string): boolean;
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

/** The W&B-hosted URL path of a run file: `File.url` is `{base_url}/files/<entity>/<project>/<run>/<name>` (wandb-api.md §2.5). */
export function hostedFilePath(entity: string, project: string, runId: string, name: string): string {
  return `/files/${enc(entity)}/${enc(project)}/${enc(runId)}/${name.split('/').map(enc).join('/')}`;
}

export function filePath(entity: string, project: string, runId: string, name: string): string {
  return `/_storage/files/${enc(entity)}/${enc(project)}/${enc(runId)}/${name.split('/').map(enc).join('/')}`;
}
