/**
 * Asynchronous processing and the status protocol (neptune-api.md §3.5). A submitted RunOperation is
 * only queued; it is applied later, in submission order, and until then its status answers
 * `UNAVAILABLE` (14) — SCALE `sync/sync_process.py StatusTrackingThread.work` keeps polling while any
 * `code_by_count.code == UNAVAILABLE`. Requests and statuses are kept in SQLite so a restarted
 * emulator on the same file still answers for them and still processes what it had received.
 */
import { randomUUID } from 'node:crypto';
import { stmt, type Db } from '../neptune/store.ts';
import { IngestCode, RpcCode, rpcCodeFor, type IngestCodeValue } from './codes.ts';
import type { RequestStatus, ResultDetail } from './encode.ts';
import { applyRunOperation, type IngestRules, type Outcome } from './ingest.ts';
import { decodeRunOperation, type RunOperation } from './wire.ts';

interface Pending { seq: number; id: string; project: string; user: string; receivedMs: number; op: RunOperation; checks: number }

export interface QueueConfig {
  statusDelayMs: number;
  unavailableChecks: number;
  rules: IngestRules;
  now: () => number;
}

const UNAVAILABLE: RequestStatus = { codeByCount: [{ code: RpcCode.UNAVAILABLE, count: 1, detail: 0 }] };

/** Status of a processed request: OK with the applied count, then one entry per (code, ingest code) with its count. */
export function statusOf(o: Outcome): RequestStatus {
  if (o.fatal) {
    return { codeByCount: [{ code: rpcCodeFor(o.fatal.code), count: 1, detail: o.fatal.code }], sharedErrorMessage: o.fatal.message };
  }
  const counts = new Map<IngestCodeValue, number>();
  for (const i of o.issues) counts.set(i.code, (counts.get(i.code) ?? 0) + 1);
  const list = [...counts].sort((a, b) => a[0] - b[0]).map(([detail, count]) => ({ code: rpcCodeFor(detail), count, detail }));
  // request_status.proto: "in case all operations are successful {"OK": 1}, otherwise errors are reported".
  if (o.ok > 0 || list.length === 0) list.unshift({ code: RpcCode.OK, count: Math.max(o.ok, 1), detail: IngestCode.OK });
  return { codeByCount: list };
}

export class IngestQueue {
  private readonly pending: Pending[] = [];
  private stuck = false;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  /** Work counters; `decodeMs`/`applyMs` let a bench measure the emulator's own ingest cost (issue 10 "Fast"). */
  readonly counters = { ingestRequests: 0, processed: 0, pointsStored: 0, duplicatePoints: 0, decodeMs: 0, applyMs: 0 };

  constructor(private readonly db: Db, private readonly cfg: QueueConfig) {
    // Requests received but not processed before a restart on the same file.
    const rows = stmt(db, 'SELECT seq, id, project, username, received_ms, body FROM b_requests WHERE status IS NULL ORDER BY seq').all() as Array<{
      seq: number; id: string; project: string; username: string; received_ms: number; body: Buffer;
    }>;
    for (const r of rows) {
      this.pending.push({ seq: r.seq, id: r.id, project: r.project, user: r.username, receivedMs: r.received_ms, op: decodeRunOperation(r.body), checks: 0 });
    }
  }

  setStuck(v: boolean): void {
    this.stuck = v;
  }

  /** Background processing so data lands even when nobody polls; unref'd so it never holds the process. */
  start(intervalMs = 50): void {
    this.timer = setInterval(() => this.processReady(), intervalMs);
    this.timer.unref();
  }

  /** After this nothing is processed: a scheduled run must not touch a closed database. */
  stop(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
  }

  submit(op: RunOperation, body: Uint8Array, user: string): string {
    const id = randomUUID();
    const receivedMs = this.cfg.now();
    this.counters.ingestRequests += 1;
    if (this.appliesAtOnce()) {
      // Configured to process at once, with nothing queued before it: applied before the submit is
      // answered, so its first status is already final and its body need not be kept for a restart.
      // The decoded request then never outlives the handler (kept for later, its per-point objects
      // survived into V8's old generation and made garbage collection the emulator's largest cost).
      const seq = Number(stmt(this.db, 'INSERT INTO b_requests(id, project, username, received_ms) VALUES (?, ?, ?, ?)')
        .run(id, op.project, user, receivedMs).lastInsertRowid);
      this.process({ seq, id, project: op.project, user, receivedMs, op, checks: 0 }, receivedMs);
      return id;
    }
    const seq = Number(stmt(this.db, 'INSERT INTO b_requests(id, project, username, received_ms, body) VALUES (?, ?, ?, ?, ?)')
      .run(id, op.project, user, receivedMs, Buffer.from(body.buffer, body.byteOffset, body.byteLength)).lastInsertRowid);
    this.pending.push({ seq, id, project: op.project, user, receivedMs, op, checks: 0 });
    if (this.cfg.statusDelayMs === 0 && this.cfg.unavailableChecks === 0) setImmediate(() => this.processReady());
    return id;
  }

  /** Whether a request submitted now is applied before its submit is answered (then nothing of it is kept). */
  appliesAtOnce(): boolean {
    return this.pending.length === 0 && this.cfg.statusDelayMs === 0 && this.cfg.unavailableChecks === 0 && !this.stuck && !this.stopped;
  }

  private ready(p: Pending, now: number): boolean {
    return !this.stuck && now - p.receivedMs >= this.cfg.statusDelayMs && p.checks >= this.cfg.unavailableChecks;
  }

  /** Applies queued requests in order, stopping at the first that is not ready (order per run must hold). */
  processReady(): void {
    if (this.stopped) return;
    const now = this.cfg.now();
    while (this.pending.length > 0 && this.ready(this.pending[0], now)) this.process(this.pending.shift() as Pending, now);
  }

  /** Applies one request and records its status and per-path codes. */
  private process(p: Pending, now: number): void {
    let outcome: Outcome;
    const t0 = performance.now();
    try {
      outcome = applyRunOperation(this.db, this.cfg.rules, p.op, p.user, now);
    } catch {
      outcome = { ok: 0, issues: [], pointsStored: 0, fatal: { path: '', code: IngestCode.INTERNAL, message: 'internal error while processing' } };
    }
    this.counters.applyMs += performance.now() - t0;
    this.counters.processed += 1;
    this.counters.pointsStored += outcome.pointsStored;
    this.counters.duplicatePoints += outcome.issues.filter((i) => i.code === IngestCode.SERIES_POINT_DUPLICATE).length;
    const status = JSON.stringify(statusOf(outcome));
    this.db.transaction(() => {
      stmt(this.db, 'UPDATE b_requests SET status = ?, body = NULL WHERE id = ?').run(status, p.id);
      const ins = stmt(this.db, 'INSERT INTO b_request_details(request_id, path, code, message) VALUES (?, ?, ?, ?)');
      for (const i of outcome.fatal ? [outcome.fatal] : outcome.issues) ins.run(p.id, i.path, i.code, i.message);
    })();
  }

  /**
   * `POST /ingest/check`: one status per id, same order (client.proto BulkRequestStatus). An id this
   * server never issued (or issued for another project) answers NOT_FOUND.
   */
  check(ids: string[], project: string): RequestStatus[] {
    this.processReady();
    // Counted after processing: the first `unavailableChecks` checks of a request answer UNAVAILABLE.
    // Requests are processed in order, so asking about one also counts for every earlier one: a
    // client that polls only its newest id must not wait forever behind one it stopped asking about.
    const asked = new Set(ids);
    let last = -1;
    this.pending.forEach((p, i) => { if (asked.has(p.id)) last = i; });
    for (let i = 0; i <= last; i++) this.pending[i].checks += 1;
    const get = stmt(this.db, 'SELECT project, status FROM b_requests WHERE id = ?');
    return ids.map((id) => {
      const row = get.get(id) as { project: string; status: string | null } | undefined;
      if (!row || row.project !== project) return { codeByCount: [{ code: RpcCode.NOT_FOUND, count: 1, detail: 0 }], sharedErrorMessage: `request '${id}' not found` };
      if (row.status === null) return UNAVAILABLE;
      return JSON.parse(row.status) as RequestStatus;
    });
  }

  /** `POST /ingest/checkDetails`: the per-path codes of processed requests, paged by an opaque cursor. */
  details(ids: string[], project: string, cursor: string | undefined, limit: number): { details: ResultDetail[]; next: string } {
    this.processReady();
    const all: ResultDetail[] = [];
    const own = stmt(this.db, 'SELECT project FROM b_requests WHERE id = ?');
    const rows = stmt(this.db, 'SELECT path, code, message FROM b_request_details WHERE request_id = ? ORDER BY rowid');
    for (const id of ids) {
      const r = own.get(id) as { project: string } | undefined;
      if (!r || r.project !== project) continue;
      for (const d of rows.all(id) as Array<{ path: string; code: number; message: string }>) all.push({ requestId: id, ...d });
    }
    const from = cursor ? Number(cursor) || 0 : 0;
    const page = all.slice(from, from + limit);
    return { details: page, next: from + limit < all.length ? String(from + limit) : '' };
  }

  pendingIds(): string[] {
    return this.pending.map((p) => p.id);
  }
}
