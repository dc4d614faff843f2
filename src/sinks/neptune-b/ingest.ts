import { HttpError, TargetError } from '../../core/errors.ts';
import { sleep as realSleep } from '../../http/sleep.ts';
import type { NeptuneApi } from '../neptune/api.ts';
import { RPC_UNAVAILABLE } from './codes.ts';
import {
  decodeBulkIngestResultDetail,
  decodeBulkRequestStatus,
  decodeSubmitResponse,
  encodeBulkCheckDetail,
  encodeRequestIdList,
  type IngestDetail,
  type RequestStatus,
} from './messages.ts';

const PROTOBUF = 'application/x-protobuf';
/** neptune-scale `MAX_REQUESTS_STATUS_BATCH_SIZE`. */
export const MAX_STATUS_IDS = 1000;

export interface IngestOptions {
  /** First wait between status polls; doubles up to `maxPollMs`. @default 5 */
  firstPollMs?: number;
  /** @default 1000 (neptune-scale polls about once a second) */
  maxPollMs?: number;
  /** Give up on a request the server keeps reporting UNAVAILABLE after this long. @default 600_000 */
  processingTimeoutMs?: number;
  /** Injected in tests. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  now?: () => number;
}

/** Statistics of the ingest protocol, for the report's request counts and the benchmark. */
export interface IngestStats {
  ingestRequests: number;
  statusChecks: number;
  detailChecks: number;
}

/**
 * `POST /api/client/v1/ingest` and the status protocol (neptune-api.md §3.5): a submit returns a
 * request id; `/ingest/check` says, per id, whether the server processed it (UNAVAILABLE = not yet)
 * and with which codes; `/ingest/checkDetails` names the paths behind non-OK codes.
 */
export class IngestClient {
  readonly stats: IngestStats = { ingestRequests: 0, statusChecks: 0, detailChecks: 0 };
  private readonly sleep: NonNullable<IngestOptions['sleep']>;
  private readonly now: () => number;

  constructor(
    private readonly api: NeptuneApi,
    private readonly opts: IngestOptions = {},
  ) {
    this.sleep = opts.sleep ?? realSleep;
    this.now = opts.now ?? Date.now;
  }

  /** Sends one `RunOperation`; resolves with its request id once the server accepted it (not processed it). */
  async submit(body: Uint8Array, what: string, signal?: AbortSignal): Promise<string> {
    let res;
    try {
      res = await this.api.call({
        method: 'POST',
        path: '/api/client/v1/ingest',
        raw: body,
        contentType: PROTOBUF,
        headers: { accept: PROTOBUF },
        signal,
        what,
      });
    } catch (e) {
      if (e instanceof HttpError && e.status === 413) {
        throw new TargetError(`Neptune refused ${what}: request too large (${body.byteLength} bytes; HTTP 413)`, { cause: e });
      }
      throw e;
    }
    this.stats.ingestRequests++;
    const id = decodeSubmitResponse(res.body);
    if (!id) throw new TargetError(`Neptune accepted ${what} without a request id`);
    return id;
  }

  /** One `/ingest/check` round for up to 1000 ids; statuses in the order asked. */
  async check(project: string, ids: readonly string[], signal?: AbortSignal): Promise<RequestStatus[]> {
    const res = await this.api.call({
      method: 'POST',
      path: '/api/client/v1/ingest/check',
      query: { projectIdentifier: project },
      raw: encodeRequestIdList(ids),
      contentType: PROTOBUF,
      headers: { accept: PROTOBUF },
      signal,
      what: `ingest status of ${ids.length} requests`,
    });
    this.stats.statusChecks++;
    const statuses = decodeBulkRequestStatus(res.body);
    if (statuses.length !== ids.length) throw new TargetError(`Neptune answered ${statuses.length} statuses for ${ids.length} request ids`);
    return statuses;
  }

  /**
   * Waits until the server processed every request (no UNAVAILABLE left), polling in bulk; a request
   * still unprocessed after the timeout fails the flush (nothing is recorded as written).
   */
  async waitProcessed(project: string, ids: readonly string[], signal?: AbortSignal): Promise<Map<string, RequestStatus>> {
    const done = new Map<string, RequestStatus>();
    let pending = [...ids];
    let wait = this.opts.firstPollMs ?? 5;
    const deadline = this.now() + (this.opts.processingTimeoutMs ?? 600_000);
    while (pending.length) {
      const still: string[] = [];
      for (let i = 0; i < pending.length; i += MAX_STATUS_IDS) {
        const chunk = pending.slice(i, i + MAX_STATUS_IDS);
        const statuses = await this.check(project, chunk, signal);
        chunk.forEach((id, k) => {
          const s = statuses[k];
          if (s.codes.some((c) => c.code === RPC_UNAVAILABLE)) still.push(id);
          else done.set(id, s);
        });
      }
      pending = still;
      if (!pending.length) break;
      if (this.now() >= deadline) {
        throw new TargetError(`Neptune has not processed ${pending.length} ingest request(s) after ${Math.round((this.opts.processingTimeoutMs ?? 600_000) / 1000)} s (status UNAVAILABLE); run the migration again to resume`);
      }
      await this.sleep(wait, signal);
      wait = Math.min(wait * 2, this.opts.maxPollMs ?? 1000);
    }
    return done;
  }

  /** Paths behind non-OK codes (`/ingest/checkDetails`); empty when the server does not offer it. */
  async details(project: string, ids: readonly string[], signal?: AbortSignal): Promise<IngestDetail[] | undefined> {
    const out: IngestDetail[] = [];
    for (let i = 0; i < ids.length; i += MAX_STATUS_IDS) {
      const chunk = ids.slice(i, i + MAX_STATUS_IDS);
      let cursor: string | undefined;
      do {
        const res = await this.api.call({
          method: 'POST',
          path: '/api/client/v1/ingest/checkDetails',
          query: { projectIdentifier: project },
          raw: encodeBulkCheckDetail(project, chunk, cursor),
          contentType: PROTOBUF,
          headers: { accept: PROTOBUF },
          acceptStatus: [404, 405, 501],
          signal,
          what: `ingest details of ${chunk.length} requests`,
        });
        this.stats.detailChecks++;
        if (res.status !== 200) return undefined;
        const page = decodeBulkIngestResultDetail(res.body);
        out.push(...page.details);
        cursor = page.nextCursor;
      } while (cursor);
    }
    return out;
  }
}
