import type { Logger } from '../core/logger.ts';
import type { HttpClientOptions } from '../http/client.ts';
import { PROTOCOL_A_CAPABILITIES, protocolBCapabilities, type TargetCapabilities } from '../mapping/capabilities.ts';
import { createNeptuneSession, type NeptuneSession } from '../sinks/neptune/client.ts';
import { getProject, type ProjectInfo } from '../sinks/neptune/projects.ts';
import { checkWorkspace } from '../sinks/neptune/preflight.ts';
import { NeptuneReader, type HeldField, type HeldImage, type HeldPoint } from '../sinks/neptune/read-back.ts';
import { serverProtocol, type Protocol } from '../sinks/neptune-b/auto.ts';
import { NeptuneBReader, type HeldHistogram } from '../sinks/neptune-b/read-back.ts';

/** What verify reads from a Neptune server, whichever protocol wrote the run (A: 2.x REST, B: 3.x query API). */
export interface TargetReader {
  readonly protocol: Protocol;
  findRun(project: ProjectInfo, ref: { shortId?: string; customRunId: string }, signal?: AbortSignal): Promise<string | undefined>;
  /** The step the server keeps for a step the migration sent (B: to the microsecond). */
  heldStep(step: number): number;
  fields(containerId: string, signal?: AbortSignal): Promise<Map<string, HeldField>>;
  series(containerId: string, path: string, kind: 'float' | 'string', signal?: AbortSignal): AsyncGenerator<HeldPoint>;
  /** Relative path → size of the files under `set` (A: a file set; B: the `FileRef` fields under `set/`). */
  fileSet(containerId: string, set: string, held: ReadonlyMap<string, HeldField>, signal?: AbortSignal): Promise<Map<string, number>>;
  /** MD5 (base64) and size of a file's stored bytes; undefined where storage lacks them. */
  fileDigest(containerId: string, set: string, subPath: string, held: ReadonlyMap<string, HeldField>, signal?: AbortSignal): Promise<{ md5: string; size: number } | undefined>;
  images(containerId: string, path: string, held: ReadonlyMap<string, HeldField>, signal?: AbortSignal): AsyncGenerator<HeldImage>;
  /**
   * B only: the points of many float series, a few requests for all of them (each series' points in
   * step order; memory: one response).
   */
  floatSeriesMany?(containerId: string, paths: readonly string[], onPoint: (path: string, p: HeldPoint & { value: number }) => void, signal?: AbortSignal): Promise<void>;
  /** B only: a histogram series' points. */
  histograms?(containerId: string, path: string, signal?: AbortSignal): AsyncGenerator<HeldHistogram>;
}

export interface VerifyTargetOptions {
  env: Record<string, string | undefined>;
  log?: Logger;
  http?: Partial<HttpClientOptions>;
  /** As `migrate --protocol`: `auto` asks the server, the way migrate does. */
  protocol?: Protocol | 'auto';
  /** As `migrate --nan`: whether NaN/±Infinity points were sent (B only). */
  nan?: 'drop' | 'send';
}

/**
 * The Neptune side of `verify`: one session (token, limits, retries) for both protocols' readers,
 * and the protocol chosen as `migrate` chooses it — by name, or (`auto`) by asking the server's
 * Protocol B status endpoint once, at the first project that exists (verify never creates one). The
 * mapping is then shaped by the same capabilities the migration's was.
 */
export class VerifyTarget {
  private readonly session: NeptuneSession;
  private readonly a: NeptuneReader;
  private readonly b: NeptuneBReader;
  private chosen?: Promise<Protocol>;
  /** The protocol runs were read with, once known. */
  protocol?: Protocol;

  constructor(private readonly opts: VerifyTargetOptions) {
    this.session = createNeptuneSession({ env: opts.env, log: opts.log, http: opts.http });
    this.a = new NeptuneReader({ env: opts.env, session: this.session });
    this.b = new NeptuneBReader(this.session);
  }

  /**
   * As `migrate` checks before its first write (sinks/neptune/preflight.ts): the credentials, the
   * server, and the workspace — one the token does not reach is the user's mistake, not 22 `missing` runs.
   */
  preflight(workspace: string, signal?: AbortSignal): Promise<void> {
    return checkWorkspace(this.session.api, workspace, signal);
  }

  project(workspace: string, name: string, signal?: AbortSignal): Promise<ProjectInfo | undefined> {
    return getProject(this.session.api, workspace, name, signal);
  }

  private protocolFor(project: ProjectInfo, signal?: AbortSignal): Promise<Protocol> {
    const p = this.opts.protocol ?? 'auto';
    if (p !== 'auto') return Promise.resolve(p);
    this.chosen ??= serverProtocol(this.session.api, `${project.workspace}/${project.name}`, signal).then((x) => {
      this.session.log.info(`Neptune: the server speaks Protocol ${x.toUpperCase()} (--protocol auto); runs are read through its read API`);
      return x;
    });
    // A failed question (network) is asked again by the next run.
    this.chosen.catch(() => (this.chosen = undefined));
    return this.chosen;
  }

  /**
   * The reader for runs of this project, and what the migration's target could hold. A project that
   * does not exist holds no run to read (each is `missing`): nothing is asked.
   */
  async readerFor(project: ProjectInfo | undefined, signal?: AbortSignal): Promise<{ reader: TargetReader; capabilities: TargetCapabilities }> {
    if (!project) return { reader: this.a, capabilities: PROTOCOL_A_CAPABILITIES };
    this.protocol = await this.protocolFor(project, signal);
    return this.protocol === 'b'
      ? { reader: this.b, capabilities: protocolBCapabilities({ nonFinite: this.opts.nan }) }
      : { reader: this.a, capabilities: PROTOCOL_A_CAPABILITIES };
  }

  /** Requests made (retries included), for the cost line of the verify report. */
  stats(): Record<string, number> {
    return this.a.stats();
  }

  close(): Promise<void> {
    return this.session.http.close();
  }
}
