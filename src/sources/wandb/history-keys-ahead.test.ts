/**
 * The export's download does not wait for the run's historyKeys (needed only to read the export): both
 * are asked for at once. Here historyKeys answers only once the download has started, so a reader that
 * asked for them first would never start it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../core/logger.ts';
import type { RunInfo } from '../../core/records.ts';
import type { HttpClient } from '../../http/client.ts';
import type { GraphqlTransport } from './graphql.ts';
import { readHistoryBlocks } from './history.ts';
import { RUN_HISTORY_KEYS, RUN_PARQUET_HISTORY } from './queries.ts';

const dirs: string[] = [];
afterEach(() => { for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true }); });

describe('the export download and historyKeys', () => {
  it('are asked for at once', { timeout: 5000 }, async () => {
    const events: string[] = [];
    let downloadStarted!: () => void;
    const started = new Promise<void>((r) => (downloadStarted = r));
    const gql = {
      async graphql(query: string) {
        if (query === RUN_PARQUET_HISTORY) {
          events.push('export asked');
          return { project: { run: { parquetHistory: { parquetUrls: ['https://storage.example/0.parquet'], liveData: [] } } } };
        }
        if (query === RUN_HISTORY_KEYS) {
          events.push('historyKeys asked');
          await started;
          events.push('historyKeys answered');
          return { project: { run: { historyKeys: { keys: {}, lastStep: 99 } } } };
        }
        throw new Error(`unexpected query ${query.slice(0, 40)}`);
      },
    } as unknown as GraphqlTransport;
    const http = {
      stream: async () => {
        events.push('download started');
        downloadStarted();
        throw new Error('storage is down');
      },
    } as unknown as HttpClient;
    const tmp = mkdtempSync(join(tmpdir(), 'w2n-keys-ahead-'));
    dirs.push(tmp);
    const run: RunInfo = { key: { entity: 'e', project: 'p', runId: 'r' }, displayName: 'r', tags: [], state: 'finished', createdAt: '2024-01-01T00:00:00Z', lastStep: 99, config: {}, summary: {} };
    const deps = { gql, route: () => ({ http, headers: {} }), tmpDir: tmp, pageSize: 10, preferParquet: true, log: silentLogger };
    const read = async () => { for await (const _ of readHistoryBlocks(deps, run, 0)) void _; };
    await expect(read()).rejects.toThrow('storage is down');
    expect(events.slice(0, 3)).toEqual(['export asked', 'historyKeys asked', 'download started']);
  });
});
