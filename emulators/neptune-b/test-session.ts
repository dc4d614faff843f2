/** Plain-fetch Protocol B helpers for the emulator's own tests (never product code). */
import { call, session } from '../neptune/test-client.ts';
import type { NeptuneEmulator } from '../neptune/types.ts';
import { decodeBulkStatus, decodeSubmit, encodeRequestIds, type TStatus } from './test-wire.ts';

export const PROJECT = 'demo/b-project';

export async function bSession(emu: NeptuneEmulator) {
  const s = await session(emu);
  const proto = (path: string, body: Uint8Array, query: Record<string, string> = {}) =>
    s.api(path, query, { method: 'POST', raw: Buffer.from(body), headers: { 'content-type': 'application/x-protobuf' } });

  /** POST /api/client/v1/ingest; returns the request id of a 200. */
  const ingest = async (body: Uint8Array): Promise<string> => {
    const r = await proto('/api/client/v1/ingest', body);
    if (r.status !== 200) throw new Error(`ingest answered ${r.status}: ${r.bytes.toString('utf8')}`);
    return decodeSubmit(r.bytes).requestIds[0];
  };
  const check = async (ids: string[], project = PROJECT): Promise<TStatus[]> => {
    const r = await proto('/api/client/v1/ingest/check', encodeRequestIds(ids), { projectIdentifier: project });
    if (r.status !== 200) throw new Error(`check answered ${r.status}`);
    return decodeBulkStatus(r.bytes);
  };
  /** Ingests and checks once; the emulator is configured to process on the first check. */
  const ingestProcessed = async (body: Uint8Array, project = PROJECT): Promise<{ id: string; status: TStatus }> => {
    const id = await ingest(body);
    const [status] = await check([id], project);
    return { id, status };
  };
  return { ...s, proto, ingest, check, ingestProcessed, call };
}

/** The ingest codes (detail) of a status with their counts, e.g. {0: 3, 24: 1}. */
export function codes(s: TStatus): Record<number, number> {
  return Object.fromEntries(s.codes.map((c) => [c.detail, c.count]));
}
