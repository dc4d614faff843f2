import type { Logger } from '../../core/logger.ts';
import type { HttpClientOptions } from '../../http/client.ts';
import { PROTOCOL_A_CAPABILITIES, protocolBCapabilities, type TargetCapabilities } from '../../mapping/capabilities.ts';

/**
 * The protocol a dry run plans for. A real pass writes through Protocol A or B, and the two shape the
 * data apart (histograms a series or files, console entry lengths, int64, NaN, run ids), so a plan made
 * for the other protocol counts other points, files and bytes than the pass then writes.
 * `--protocol a|b` (or the one the ledger records) is taken as given; `auto` asks the server the
 * read-only question a real pass asks (neptune-b/auto.ts `serverProtocol`: the Protocol B status
 * endpoint, about no request), which writes nothing. Without a Neptune token, or a server that cannot
 * be asked, the plan is Protocol A's and a warning says so (a dry run is about the source: it goes on).
 */
export interface PlannedProtocol {
  /** The capabilities to plan with; `project` is the first Neptune project of the pass (`workspace/name`). */
  capabilities(project: string, signal?: AbortSignal): Promise<TargetCapabilities>;
  /** Requests made to Neptune to ask (none for a protocol given). */
  requests(): number;
  close(): Promise<void>;
}

export function plannedProtocol(o: {
  protocol?: 'a' | 'b' | 'auto';
  nan?: 'drop' | 'send';
  env: NodeJS.ProcessEnv;
  log: Logger;
  http?: Partial<HttpClientOptions>;
}): PlannedProtocol {
  const b = () => protocolBCapabilities({ nonFinite: o.nan });
  if (o.protocol === 'a') return given(PROTOCOL_A_CAPABILITIES);
  if (o.protocol === 'b') return given(b());
  let asked: Promise<TargetCapabilities> | undefined;
  let session: import('../neptune/client.ts').NeptuneSession | undefined;
  const planA = (why: string) => {
    o.log.warn(`dry run: planned for Protocol A (${why}); pass --protocol b to plan for a Neptune 3.x server`);
    return PROTOCOL_A_CAPABILITIES;
  };
  return {
    capabilities(project, signal) {
      asked ??= (async () => {
        if (!o.env.NEPTUNE_API_TOKEN) return planA('no NEPTUNE_API_TOKEN to ask the server which protocol it speaks');
        try {
          const { createNeptuneSession } = await import('../neptune/client.ts');
          const { serverProtocol } = await import('../neptune-b/auto.ts');
          session = createNeptuneSession({ env: o.env, log: o.log, http: o.http });
          const p = await serverProtocol(session.api, project, signal);
          o.log.info(`dry run: the server speaks Protocol ${p.toUpperCase()} (--protocol auto); planned for it`);
          return p === 'b' ? b() : PROTOCOL_A_CAPABILITIES;
        } catch (error) {
          if (signal?.aborted) throw error;
          return planA(`the server could not be asked: ${error instanceof Error ? error.message : String(error)}`);
        }
      })();
      return asked;
    },
    requests: () => session?.stats.requests ?? 0,
    close: async () => session?.http.close(),
  };
}

function given(capabilities: TargetCapabilities): PlannedProtocol {
  return { capabilities: async () => capabilities, requests: () => 0, close: async () => {} };
}
