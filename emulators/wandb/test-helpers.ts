/** Helpers for the emulator's own tests: plain fetch, no product code. */
import type { WandbEmulator } from './server/http.ts';

export const KEY = 'k'.repeat(40);

export function basic(key: string): string {
  return 'Basic ' + Buffer.from(`api:${key}`).toString('base64');
}

export interface GqlResponse {
  status: number;
  headers: Headers;
  // `any` at a parsing boundary: tests walk arbitrary response shapes
  body: { data?: Record<string, any>; errors?: { message: string }[] };
}

export async function gql(emu: WandbEmulator, query: string, variables: Record<string, unknown> = {}, key: string | null = KEY): Promise<GqlResponse> {
  const headers: Record<string, string> = { 'Content-Type': 'application/json' };
  if (key !== null) headers.Authorization = basic(key);
  const res = await fetch(`${emu.url}/graphql`, { method: 'POST', headers, body: JSON.stringify({ query, variables }), signal: AbortSignal.timeout(30_000) });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : {} };
}

export const RUN_FRAGMENT = `fragment RunFragment on Run {
    id tags name displayName sweepName state config group jobType commit readOnly createdAt heartbeatAt
    description notes systemMetrics summaryMetrics historyLineCount user { name username } historyKeys
}`;

export const RUNS_QUERY = `#graphql
        query Runs($project: String!, $entity: String!, $cursor: String, $perPage: Int = 50, $order: String, $filters: JSONString) {
            project(name: $project, entityName: $entity) {
                internalId
                runCount(filters: $filters)
                readOnly
                runs(filters: $filters, after: $cursor, first: $perPage, order: $order) {
                    edges { node { projectId ...RunFragment } cursor }
                    pageInfo { endCursor hasNextPage }
                }
            }
        }
        ${RUN_FRAGMENT}`;

export const RUN_QUERY = `#graphql
        query Run($project: String!, $entity: String!, $name: String!) {
            project(name: $project, entityName: $entity) { run(name: $name) { projectId ...RunFragment } }
        }
        ${RUN_FRAGMENT}`;

export const HISTORY_PAGE = `query HistoryPage($entity: String!, $project: String!, $run: String!, $minStep: Int64!, $maxStep: Int64!, $pageSize: Int!) {
            project(name: $project, entityName: $entity) {
                run(name: $run) { history(minStep: $minStep, maxStep: $maxStep, samples: $pageSize) }
            }
        }`;

export const PARQUET_HISTORY = `query RunParquetHistory($entity: String!, $project: String!, $runName: String!, $liveKeys: [String!]!) {
    project(name: $project, entityName: $entity) {
        run(name: $runName) { parquetHistory(liveKeys: $liveKeys) { parquetUrls liveData } }
    }
}`;

export const RUN_FILES = `#graphql
            query RunFiles($project: String!, $entity: String!, $name: String!, $fileCursor: String,
                $fileLimit: Int = 50, $fileNames: [String] = [], $upload: Boolean = false, $pattern: String) {
                project(name: $project, entityName: $entity) {
                    internalId
                    run(name: $name) {
                        fileCount
                        files(names: $fileNames, after: $fileCursor, first: $fileLimit, pattern: $pattern) {
                            edges { node { id name url(upload: $upload) directUrl sizeBytes mimetype updatedAt md5 } cursor }
                            pageInfo { endCursor hasNextPage }
                        }
                    }
                }
            }`;
