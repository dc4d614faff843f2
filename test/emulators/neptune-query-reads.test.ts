/**
 * The official 3.x reader against the emulator, replayed without Python: the requests neptune-query
 * 1.11.0 sent for `list_attributes`, `fetch_experiments_table` and `fetch_metrics` (recorded by hand
 * against `npm run emulator:neptune` after a `--protocol b` migration of the all-shapes entity), with
 * their bodies and headers as sent; only the run's `sys/id` is the one this emulator gives the run.
 * Before the emulator served them: `GET /api/backend/v1/clients/config` without `X-Neptune-Api-Token`
 * was 400 (neptune-query never sends it: internal/api_utils.py `get_config_and_token_urls`), and
 * `…/leaderboard/attributes/definitions/query` and `…/proto/leaderboard/attributes/query` were 404.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bSession, codes } from '../../emulators/neptune-b/test-session.ts';
import { decodeAttributes, encodeCreate, encodeUpdate, fieldsOf } from '../../emulators/neptune-b/test-wire.ts';
import { startNeptuneEmulator } from '../../emulators/neptune/server.ts';
import { call } from '../../emulators/neptune/test-client.ts';
import type { NeptuneEmulator } from '../../emulators/neptune/types.ts';

interface Recorded { method: string; path: string; query: string; headers: Record<string, string>; body: Record<string, unknown> | null }
const recorded = JSON.parse(readFileSync(new URL('./neptune-query-1.11.0-requests.json', import.meta.url), 'utf8')) as { requests: Record<string, Recorded> };

const PROJECT = 'demo/vision-models';
const T0 = Date.UTC(2025, 2, 2, 3, 0, 0);
let emu: NeptuneEmulator;
let b: Awaited<ReturnType<typeof bSession>>;

beforeAll(async () => {
  emu = await startNeptuneEmulator({ protocolB: { statusDelayMs: 0 } });
  b = await bSession(emu);
  // The run neptune-query looked at (experiment `finished-full-export`), and others it must tell apart:
  // `old-media` held the experiment name `media-everything` until `xmmva7tu` claimed it (no longer its head).
  const runs = [['v2khxt1g', 'finished-full-export'], ['other-run', 'other'], ['old-media', 'media-everything'], ['xmmva7tu', 'media-everything'], ['was98kwz', 'empty-run']];
  for (const [i, [runId, name]] of runs.entries()) {
    expect(codes((await b.ingestProcessed(encodeCreate(PROJECT, runId, { family: runId, experimentId: name, creationTime: T0 + i * 1000 }, true), PROJECT)).status)).toEqual({ 0: 1 });
  }
  for (const [runId, seed] of [['xmmva7tu', 1n], ['was98kwz', 4n], ['old-media', 100n]] as const) {
    await b.ingestProcessed(encodeUpdate(PROJECT, runId, [{ timestamp: T0, assign: { 'config/seed': { int: seed } } }]), PROJECT);
  }
  const { status } = await b.ingestProcessed(encodeUpdate(PROJECT, 'v2khxt1g', [
    { timestamp: T0, assign: {
      'config/big_int': { int: 1099511627783n }, 'config/seed': { int: 3n }, 'config/use_amp': { bool: true }, 'config/learning_rate': { float: 0.001 },
      'config/optimizer/name': { string: 'adam' }, 'config/ключ': { string: 'значение ✓' }, 'wandb/run_id': { string: 'v2khxt1g' },
    } },
    ...[0, 1, 2].map((i) => ({ step: i, timestamp: T0 + i * 500, append: { 'train/loss': { float: 1 / (i + 1) }, epoch: { float: i }, 'monitoring/stdout': { string: `line ${i}` } } })),
  ]), PROJECT);
  expect(codes(status)).toEqual({ 0: 16 });
  await b.ingestProcessed(encodeUpdate(PROJECT, 'other-run', [{ timestamp: T0, assign: { 'config/seed': { int: 9n } }, step: 0, append: { 'train/loss': { float: 7 } } }]), PROJECT);
});
afterAll(async () => emu.close());

async function replay(name: string, body?: Record<string, unknown>): Promise<{ status: number; json: any; bytes: Buffer }> {
  const r = recorded.requests[name];
  return b.api(r.path, Object.fromEntries(new URLSearchParams(r.query)), { method: r.method, headers: r.headers, body: body ?? r.body ?? undefined });
}

/** The run's `sys/id`, found as neptune-query finds it: the recorded search, projected on `sys/id`. */
async function sysId(): Promise<string> {
  const r = await replay('search');
  expect(r.status).toBe(200);
  const entries = fieldsOf(r.bytes).get(3) ?? [];
  expect(entries).toHaveLength(1);
  return decodeAttributes(entries[0] as Uint8Array)['sys/id'].value as string;
}

describe('neptune-query 1.11.0 requests, replayed', () => {
  it('client config without the API token header, as neptune-query asks it', async () => {
    const r = recorded.requests.clientConfig;
    const res = await call(`${emu.url}${r.path}`, { headers: r.headers });
    expect(res.status).toBe(200);
    expect(res.json.apiUrl).toBe(emu.url);
    expect(res.json.security.openIdDiscovery).toMatch(/openid-configuration$/);
  });

  it('attribute definitions: by type, by anchored name, paged', async () => {
    const id = `${PROJECT}/${await sysId()}`;
    const defs = await replay('definitions', { ...recorded.requests.definitions.body, experimentIdsFilter: [id] });
    expect(defs.status).toBe(200);
    expect(defs.json).toEqual({ entries: [{ name: 'epoch', type: 'floatSeries' }, { name: 'train/loss', type: 'floatSeries' }], nextPage: { limit: 10000 } });
    const byName = await replay('definitionsByName', { ...recorded.requests.definitionsByName.body, experimentIdsFilter: [id] });
    expect(byName.json.entries).toEqual([{ name: 'train/loss', type: 'floatSeries' }]);
    // Every type, one a page: the client follows nextPageToken until none comes back.
    const all: unknown[] = [];
    let token: string | undefined;
    for (let pages = 0; pages < 50; pages++) {
      const p = await replay('definitions', { projectIdentifiers: [PROJECT], experimentIdsFilter: [id], attributeNameFilter: { mustMatchAny: [{ mustMatchRegexes: ['^config/'], mustNotMatchRegexes: ['seed'] }] }, nextPage: { limit: 1, ...(token ? { nextPageToken: token } : {}) } });
      all.push(...p.json.entries);
      token = p.json.nextPage.nextPageToken;
      if (!token) break;
    }
    expect(all).toEqual([
      { name: 'config/big_int', type: 'int' }, { name: 'config/learning_rate', type: 'float' }, { name: 'config/optimizer/name', type: 'string' },
      { name: 'config/use_amp', type: 'bool' }, { name: 'config/ключ', type: 'string' },
    ]);
  });

  it('attribute values: the named attributes of the run, with their values', async () => {
    const short = await sysId();
    const r = await replay('values', { ...recorded.requests.values.body, experimentIdsFilter: [`${PROJECT}/${short}`] });
    expect(r.status).toBe(200);
    const f = fieldsOf(r.bytes);
    const entries = (f.get(1) ?? []) as Uint8Array[];
    expect(entries).toHaveLength(1);
    expect(new TextDecoder().decode(fieldsOf(entries[0]).get(2)![0] as Uint8Array)).toBe(short);
    const values = decodeAttributes(entries[0], 3);
    expect(values).toEqual({
      'config/big_int': { type: 'int', value: 1099511627783n }, 'config/seed': { type: 'int', value: 3n }, 'config/use_amp': { type: 'bool', value: true },
      'config/learning_rate': { type: 'float', value: 0.001 }, 'config/optimizer/name': { type: 'string', value: 'adam' }, 'config/ключ': { type: 'string', value: 'значение ✓' },
    });
    // no next page: the client stops
    expect(fieldsOf((f.get(2) ?? [])[0] as Uint8Array).get(1)).toBeUndefined();
  });

  it('searching runs: MATCHES, OR of names, typed values, sorting; experiments are their names\' current holders', async () => {
    const names = async (name: string) => {
      const r = await replay(name);
      expect(r.status).toBe(200);
      const f = fieldsOf(r.bytes);
      return { count: Number(f.get(1)![0]), names: (f.get(3) ?? []).map((e) => decodeAttributes(e as Uint8Array)['sys/name'].value) };
    };
    expect(await names('searchRegex')).toEqual({ count: 1, names: ['media-everything'] });
    expect(await names('searchOr')).toEqual({ count: 2, names: ['empty-run', 'media-everything'] });
    expect(await names('searchTyped')).toEqual({ count: 1, names: ['finished-full-export'] });
    expect(await names('searchSorted')).toEqual({ count: 4, names: ['other', 'empty-run', 'finished-full-export'] });
  });
});
