/** Relay-style paging with opaque cursors, shared by projects, runs, files and log lines. */

export interface Connection<N> {
  totalCount: number;
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
  edges: { node: N; cursor: string }[];
}

export function encodeCursor(kind: string, index: number): string {
  return Buffer.from(`${kind}:${index}`, 'utf8').toString('base64');
}

/** Index of the item the cursor names; throws (→ GraphQL error) on a foreign or malformed cursor. */
export function decodeCursor(kind: string, cursor: string): number {
  const text = Buffer.from(cursor, 'base64').toString('utf8');
  const m = /^([a-z]+):(\d+)$/.exec(text);
  if (!m || m[1] !== kind) throw new Error(`invalid cursor for ${kind}`);
  return Number(m[2]);
}

export interface PageArgs {
  after?: string | null;
  first?: number | null;
}

export function paginate<T, N>(kind: string, items: T[], args: PageArgs, defaultFirst: number, toNode: (t: T, i: number) => N): Connection<N> {
  const start = args.after ? decodeCursor(kind, args.after) + 1 : 0;
  const first = args.first ?? defaultFirst;
  if (first < 0) throw new Error('first must be non-negative');
  const end = Math.min(items.length, start + first);
  const edges: Connection<N>['edges'] = [];
  for (let i = start; i < end; i++) edges.push({ node: toNode(items[i], i), cursor: encodeCursor(kind, i) });
  return {
    totalCount: items.length,
    pageInfo: {
      hasNextPage: end < items.length,
      hasPreviousPage: start > 0,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges[edges.length - 1]?.cursor ?? null,
    },
    edges,
  };
}
