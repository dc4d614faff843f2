/** GraphQL resolvers for `Run` and `File`: field methods are called by graphql-js's default resolver. */
import { stringifyExtJson, toPlainJsonValue } from '../ext-json.ts';
import type { GenFile, GenProject, GenRun } from '../generator/types.ts';
import { artifactConnection, runArtifacts } from './artifacts.ts';
import { paginate, decodeCursor, encodeCursor, type PageArgs } from './connection.ts';
import { type Core, filePath, historyPath, hostedFilePath } from './core.ts';
import { consoleLinesOf, evenSample, rowsFrom, rowsInRange } from './run-data.ts';

type Row = Record<string, unknown>;

function count<T>(it: Iterable<T>): number {
  let n = 0;
  for (const _ of it) n++;
  return n;
}

function likeToRegExp(pattern: string): RegExp {
  const body = pattern.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/%/g, '.*').replace(/_/g, '.');
  return new RegExp(`^${body}$`, 's');
}

function pick(obj: Row, keys: string[] | null | undefined): Row {
  if (!keys || keys.length === 0) return obj;
  return Object.fromEntries(keys.filter((k) => k in obj).map((k) => [k, obj[k]]));
}

export class FileNode {
  constructor(private readonly core: Core, private readonly runNode: RunNode, private readonly f: GenFile, private readonly stale = false) {}
  get id(): string { return Buffer.from(`File:${this.runNode.name}:${this.f.name}`).toString('base64'); }
  get name(): string { return this.f.name; }
  /**
   * `url` is the W&B-hosted URL, which answers a 302 to a signed storage URL; `directUrl` is a signed
   * storage URL itself, valid for the signer's lifetime (wandb-api.md §2.5; issue 8: on real W&B
   * `File.url` redirects, and signed URLs expire).
   */
  url(): string { return this.core.baseUrl() + hostedFilePath(this.core.entity.name, this.runNode.projectName, this.runNode.name, this.f.name); }
  get directUrl(): string {
    return this.core.storageUrl() + this.core.signer.sign(filePath(this.core.entity.name, this.runNode.projectName, this.runNode.name, this.f.name), this.stale);
  }
  get sizeBytes(): number { return this.f.sizeBytes; }
  get md5(): string { return this.f.md5; }
  get digest(): string { return this.f.md5; }
  get mimetype(): string | null { return this.f.mimetype ?? null; }
  get updatedAt(): string | null { return this.f.updatedAt ?? null; }
  get storagePath(): string { return `wandb-storage/${this.core.entity.name}/${this.runNode.projectName}/${this.runNode.name}/${this.f.name}`; }
}

export class RunNode {
  constructor(private readonly core: Core, private readonly r: GenRun, private readonly p: GenProject, private readonly projectIndex: number, readonly projectNode: unknown) {}

  get projectName(): string { return this.p.name; }
  private get runKey(): string { return `${this.core.entity.name}/${this.p.name}/${this.r.id}`; }
  get id(): string { return Buffer.from(`Run:v1:${this.r.id}:${this.p.name}:${this.core.entity.name}`).toString('base64'); }
  get name(): string { return this.r.id; }
  get projectId(): string { return String(1000 + this.projectIndex); }
  get displayName(): string { return this.r.displayName; }
  get tags(): string[] { return this.r.tags; }
  get sweepName(): string | null { return this.r.sweep ?? null; }
  get state(): string { return this.r.state; }
  get group(): string | null { return this.r.group ?? null; }
  get jobType(): string | null { return this.r.jobType ?? null; }
  get commit(): string | null { return this.r.commit ?? null; }
  get readOnly(): boolean { return false; }
  get createdAt(): string { return this.r.createdAt; }
  get heartbeatAt(): string { return this.r.heartbeatAt; }
  get description(): string | null { return this.r.notes ?? null; }
  get notes(): string | null { return this.r.notes ?? null; }
  get project(): unknown { return this.projectNode; }
  get user(): Row { return { id: Buffer.from(`User:${this.r.user}`).toString('base64'), name: this.r.user, username: this.r.user }; }
  get historyLineCount(): number { return this.r.historyRowCount; }
  get eventsLineCount(): number { return this.r.systemEventCount; }
  get fileCount(): number { return this.r.files.length; }
  get logLineCount(): number { return this.core.cache.consoleCount(this.r); }
  get computeSeconds(): number { return Number((this.r.summary._wandb as { runtime?: number } | undefined)?.runtime ?? 0); }
  get exitcode(): number | null { return { running: null, finished: 0, crashed: 1, failed: 1, killed: 255 }[this.r.state]; }
  get stopped(): boolean { return this.r.state === 'killed'; }

  private wrappedConfig(keys?: string[] | null): Row {
    const out: Row = {};
    for (const [k, v] of Object.entries(pick(this.r.config, keys))) out[k] = this.r.configWrap === 'value' ? { value: v } : { value: v, desc: null };
    return out;
  }
  // An unreadable config text is served as is (GenRun.configJson, generator/types.ts).
  config(args: { keys?: string[] | null }): string { return this.r.configJson ?? stringifyExtJson(this.wrappedConfig(args.keys)); }
  wandbConfig(args: { keys?: string[] | null }): string { return stringifyExtJson(this.wrappedConfig(args.keys ?? ['_wandb'])); }
  summaryMetrics(args: { keys?: string[] | null }): string { return stringifyExtJson(pick(this.r.summary, args.keys)); }

  get systemMetrics(): string {
    let last: Row = {};
    for (const e of this.r.systemEvents()) last = e;
    return stringifyExtJson(Object.fromEntries(Object.entries(last).filter(([k]) => k.startsWith('system.'))));
  }

  get historyKeys(): unknown {
    const hk = this.core.cache.statsOf(this.r).historyKeys;
    // an empty run has no lastStep; the SDK then uses -1 (wandb-api.md §2.6)
    return this.r.lastStep < 0 ? { keys: hk.keys } : hk;
  }

  history(args: { samples?: number | null; minStep?: number | null; maxStep?: number | null }): string[] {
    const min = args.minStep ?? -Infinity;
    const max = args.maxStep ?? Infinity;
    const ranged = args.minStep != null || args.maxStep != null;
    const total = ranged ? count(rowsInRange(this.r, min, max)) : this.r.historyRowCount;
    return [...evenSample(rowsInRange(this.r, min, max), total, args.samples ?? 500)].map(stringifyExtJson);
  }

  events(args: { samples?: number | null }): string[] {
    return [...evenSample(this.r.systemEvents(), this.r.systemEventCount, args.samples ?? 500)].map(stringifyExtJson);
  }

  /**
   * `maxStep` is exclusive, as in `history(minStep, maxStep)`: the SDK's `scan_history(keys=[…])` pages
   * `[offset, offset + page_size)` and starts the next page at the previous `maxStep` (wandb 0.17.9
   * wandb/apis/public/history.py `SampledHistoryScan._load_next`), so an inclusive bound repeats rows.
   */
  sampledHistory(args: { specs: string[] }): unknown[] {
    return args.specs.map((specText) => {
      const spec = JSON.parse(specText) as { keys?: string[]; minStep?: number; maxStep?: number; samples?: number };
      const keys = spec.keys ?? [];
      const matching = (): Iterable<Row> => (function* (r: GenRun) {
        for (const row of rowsInRange(r, spec.minStep ?? -Infinity, spec.maxStep ?? Infinity)) {
          if (keys.every((k) => k in row)) yield keys.length ? pick(row, keys) : row;
        }
      })(this.r);
      return [...evenSample(matching(), count(matching()), spec.samples ?? 500)].map(toPlainJsonValue);
    });
  }

  async parquetHistory(args: { liveKeys: string[] }): Promise<{ parquetUrls: string[]; liveData: unknown[] }> {
    const files = await this.core.exporter.files(this.core.entity.name, this.p.name, this.r);
    const stale = this.core.staleUrls(`parquetHistory:${this.runKey}`);
    const parquetUrls = files.map((_, i) => this.core.storageUrl() + this.core.signer.sign(historyPath(this.core.entity.name, this.p.name, this.r.id, i), stale));
    const liveData: unknown[] = [];
    for (const row of rowsFrom(this.r, this.r.exportedBelowStep)) liveData.push(toPlainJsonValue(pick(row, args.liveKeys)));
    return { parquetUrls, liveData };
  }

  get historyTail(): string {
    const tail: string[] = [];
    for (const row of this.r.history()) { tail.push(stringifyExtJson(row)); if (tail.length > 10) tail.shift(); }
    return JSON.stringify(tail);
  }

  get eventsTail(): string {
    const tail: string[] = [];
    for (const e of this.r.systemEvents()) { tail.push(stringifyExtJson(e)); if (tail.length > 10) tail.shift(); }
    return JSON.stringify(tail);
  }

  files(args: PageArgs & { names?: (string | null)[] | null; pattern?: string | null }): unknown {
    let list = this.r.files;
    const names = (args.names ?? []).filter((n): n is string => typeof n === 'string');
    if (names.length && args.pattern) throw new Error('names and pattern are mutually exclusive');
    if (names.length) list = list.filter((f) => names.includes(f.name));
    if (args.pattern) { const re = likeToRegExp(args.pattern); list = list.filter((f) => re.test(f.name)); }
    const stale = this.core.staleUrls(`files:${this.runKey}`);
    return paginate('file', list, args, 50, (f) => new FileNode(this.core, this, f, stale));
  }

  logLines(args: PageArgs & { last?: number | null }): unknown {
    const total = this.logLineCount;
    const base = Date.parse(/Z$/.test(this.r.createdAt) ? this.r.createdAt : this.r.createdAt + 'Z');
    let start: number, end: number;
    if (args.last != null) { start = Math.max(0, total - args.last); end = total; }
    else {
      start = args.after ? decodeCursor('line', args.after) + 1 : 0;
      // the real backend caps lines per request; 10k keeps pages bounded here
      end = Math.min(total, start + Math.min(args.first ?? 1000, 10_000));
    }
    const edges: { node: Row; cursor: string }[] = [];
    let i = 0;
    for (const line of consoleLinesOf(this.r)) {
      if (i >= end) break;
      if (i >= start) {
        const ts = new Date(base + i * 100).toISOString().replace('Z', '').replace(/\.(\d{3})$/, '.$1000');
        edges.push({ node: { number: i, timestamp: ts, level: /error|Traceback/i.test(line) ? 'error' : '', label: '', line }, cursor: encodeCursor('line', i) });
      }
      i++;
    }
    return {
      edges,
      pageInfo: { hasNextPage: end < total, hasPreviousPage: start > 0, startCursor: edges[0]?.cursor ?? null, endCursor: edges[edges.length - 1]?.cursor ?? null },
    };
  }

  /** `run.logged_artifacts()` / `used_artifacts()`: see ./artifacts.ts. */
  outputArtifacts(args: PageArgs): unknown { return artifactConnection(this.core, runArtifacts(this.core, this.p.name, this.r.id, 'output'), args, () => this.projectNode); }
  inputArtifacts(args: PageArgs): unknown { return artifactConnection(this.core, runArtifacts(this.core, this.p.name, this.r.id, 'input'), args, () => this.projectNode); }

  get runInfo(): Row {
    return {
      program: 'train.py', args: [], os: 'Linux', python: '3.11.4', colab: null, executable: '/usr/bin/python3',
      codeSaved: this.r.files.some((f) => f.name.startsWith('code/')), cpuCount: 8, gpuCount: 1, gpu: 'NVIDIA A100',
      git: { remote: this.r.commit ? 'https://example.invalid/repo.git' : null, commit: this.r.commit ?? null },
    };
  }
}
