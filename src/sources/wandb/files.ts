import { runPath } from '../../core/records.ts';
import type { RunFile, RunKey } from '../../core/records.ts';
import { SourceDataError } from '../../core/errors.ts';
import type { GraphqlTransport } from './graphql.ts';
import { RUN_FILES } from './queries.ts';
import { toIsoUtc } from './run-info.ts';

/** Where a listed file's bytes are; kept out of RunFile (signed URLs must not reach ledgers or logs). */
export interface FileLocation {
  url?: string;
  directUrl?: string;
}

export interface FileNode {
  id: string;
  name: string;
  url?: string | null;
  directUrl?: string | null;
  sizeBytes?: number | string | null;
  mimetype?: string | null;
  updatedAt?: string | null;
  md5?: string | null;
}

/** A page of `files` (the `FileEdges` fragment). */
export interface FileConnection {
  edges: { node: FileNode | null; cursor: string }[];
  pageInfo: { endCursor?: string | null; hasNextPage: boolean };
}

interface RunFilesData {
  project: { run: { fileCount?: number | null; files: FileConnection | null } | null } | null;
}

export interface ListedFile {
  file: RunFile;
  location: FileLocation;
}

/** One page's files, and the cursor of the next page (undefined: it was the last). */
export function filesOfPage(conn: FileConnection, cursor: string | null): { files: ListedFile[]; next?: string } {
  const files: ListedFile[] = [];
  for (const edge of conn.edges) {
    const n = edge.node;
    if (!n) continue;
    const file: RunFile = { name: n.name, sizeBytes: n.sizeBytes === null || n.sizeBytes === undefined ? 0 : Number(n.sizeBytes) };
    if (n.md5) file.md5 = n.md5;
    const updated = toIsoUtc(n.updatedAt);
    if (updated) file.updatedAt = updated;
    files.push({ file, location: { url: n.url ?? undefined, directUrl: n.directUrl ?? undefined } });
  }
  const lastCursor = conn.edges.at(-1)?.cursor ?? conn.pageInfo.endCursor ?? null;
  const more = conn.pageInfo.hasNextPage && lastCursor && lastCursor !== cursor;
  return more ? { files, next: lastCursor } : { files };
}

/**
 * Pages through `RunFiles` (next cursor = last edge's cursor, like the SDK). `names` looks specific
 * files up; `after` continues a listing whose first page came another way (a batched run document).
 */
export async function* listRunFiles(
  gql: GraphqlTransport,
  key: RunKey,
  opts: { names?: string[]; pageSize?: number; after?: string },
  signal?: AbortSignal,
): AsyncGenerator<ListedFile> {
  const where = `files of ${runPath(key)}`;
  let cursor: string | null = opts.after ?? null;
  for (;;) {
    const data: RunFilesData = await gql.graphql<RunFilesData>(
      RUN_FILES,
      {
        project: key.project,
        entity: key.entity,
        name: key.runId,
        fileNames: opts.names ?? [],
        pattern: null,
        fileLimit: opts.pageSize ?? 50,
        fileCursor: cursor,
      },
      where,
      signal,
    );
    if (!data.project) throw new SourceDataError(`${where}: the project was not found`);
    if (!data.project.run) throw new SourceDataError(`${where}: the run was not found`);
    const conn = data.project.run.files;
    if (!conn) return;
    const page = filesOfPage(conn, cursor);
    yield* page.files;
    if (page.next === undefined) return;
    cursor = page.next;
  }
}

/** Console output files in reading order: `output.log` first, then multipart chunks `logs/output_*.log` by name. */
export function consoleFileOrder(names: string[]): string[] {
  const chunks = names.filter((n) => /^logs\/output_[^/]*\.log$/.test(n)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return [...(names.includes('output.log') ? ['output.log'] : []), ...chunks];
}

/** The console files the reader turns into lines: `output.log` and the multipart chunks `logs/output_*.log`. */
export function isConsoleFile(name: string): boolean {
  return name === 'output.log' || name.startsWith('logs/output_');
}
