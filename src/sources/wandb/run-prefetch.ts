/**
 * Sends the fetch plans of the runs about to be migrated as batched GraphQL documents (run-plan.ts).
 * When a run first asks for its bundle, the runs the same listing handed over after it (the migration
 * selects runs a little ahead of migrating them) go into the same document, up to `maxRuns` runs and
 * `maxWeight` rows of answer; their bundles wait for them. Whatever a document cannot bring (an error
 * naming one alias, a missing run, a failed document) is left undefined, and that run reads it with
 * its own single-run queries, as without batching. A document the server refuses as a whole turns
 * batching off for the rest of the session (the server does not take such documents).
 */
import { runPath, type RunInfo } from '../../core/records.ts';
import { isAbortError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import type { GraphqlErrorEntry, GraphqlTransport } from './graphql.ts';
import { aliasOf, batchDocument, bundleOf, planRun, planWeight, type PlanLimits, type RunBundle, type RunCounts, type RunPlan } from './run-plan.ts';

export interface RunPrefetchOptions {
  gql: Pick<GraphqlTransport, 'graphqlPartial'>;
  limits: PlanLimits;
  /** Runs per document; 1 still gathers one run's queries into one request; 0 turns batching off. */
  maxRuns: number;
  /** Rows of answer one document may ask for (history rows + event rows + files). */
  maxWeight?: number;
  log: Logger;
  /** Told of every bundle a document brought, as it arrives (the asking run's first). */
  onBundle?: (run: RunInfo, bundle: RunBundle, signal?: AbortSignal) => void;
}

/** The runs one listing handed over and that no run has asked for yet, in listing order. */
interface Cohort {
  waiting: RunInfo[];
}

/** Rows of answer one document asks for at most: about a few MB of JSON. */
const DEFAULT_MAX_WEIGHT = 20_000;

/** Listed runs remembered per listing; a listing read to its end without migrating (a name count) stays bounded. */
const COHORT_MAX = 512;

export class RunPrefetch {
  private readonly counts = new WeakMap<RunInfo, RunCounts>();
  private readonly cohorts = new WeakMap<RunInfo, Cohort>();
  /** Bundles asked for or on their way, oldest first; bounded (runs that were never migrated drop out). */
  private readonly bundles = new Map<RunInfo, Promise<RunBundle | undefined>>();
  /** Runs that asked for their bundle (the others' bundles were fetched ahead). */
  private readonly asked = new WeakSet<RunInfo>();
  private enabled: boolean;
  /** The server answered a batched document (documents are then sent ahead). */
  private taken = false;
  documents = 0;
  /** Listings started: each may hold a document's worth of bundles fetched ahead. */
  private listings = 0;

  constructor(private readonly o: RunPrefetchOptions) {
    this.enabled = o.maxRuns > 0;
  }

  /** A new listing starts; returns the function that records each run it hands over. */
  listing(): (run: RunInfo, counts: RunCounts) => void {
    const cohort: Cohort = { waiting: [] };
    this.listings++;
    return (run, counts) => {
      this.counts.set(run, counts);
      if (!this.enabled) return;
      this.cohorts.set(run, cohort);
      cohort.waiting.push(run);
      if (cohort.waiting.length > COHORT_MAX) cohort.waiting.shift();
    };
  }

  /** What the listing said about the run beyond its RunInfo. */
  countsOf(run: RunInfo): RunCounts | undefined {
    return this.counts.get(run);
  }

  /** The run's bundle (undefined: read everything with single-run queries). */
  bundle(run: RunInfo, signal?: AbortSignal): Promise<RunBundle | undefined> {
    this.asked.add(run);
    const known = this.bundles.get(run);
    if (known) {
      this.ahead(run, signal);
      return known;
    }
    const plan = this.enabled ? planRun(run, this.counts.get(run), this.o.limits) : undefined;
    if (!plan) return Promise.resolve(undefined);
    this.fetch(run, plan, signal);
    this.ahead(run, signal);
    return this.bundles.get(run) ?? Promise.resolve(undefined);
  }

  /**
   * One document ahead: when fewer than a document's worth of runs have a bundle nobody asked for yet,
   * the next runs of the listing are asked for now, so their answer (and the small files it lets
   * start downloading) is there when they start, not one round trip (and a download) after.
   */
  private ahead(run: RunInfo, signal?: AbortSignal): void {
    const waiting = this.cohorts.get(run)?.waiting;
    // Only once the server has answered a document: one that refuses them is not sent a second.
    if (!this.enabled || !this.taken || !waiting?.length) return;
    // Counted per listing: with several projects migrated at once, another project's unasked bundles
    // must not keep this one's from being fetched ahead (bench (c): 5 projects ran at 61% of 1 project).
    let unasked = 0;
    for (const r of this.bundles.keys()) if (!this.asked.has(r) && this.cohorts.get(r)?.waiting === waiting) unasked++;
    if (unasked >= this.o.maxRuns) return;
    while (waiting.length > 0) {
      const next = waiting[0];
      const plan = this.bundles.has(next) ? undefined : planRun(next, this.counts.get(next), this.o.limits);
      if (plan) return this.fetch(next, plan, signal);
      waiting.shift();
    }
  }

  /** Sends the document of `run` and the runs listed after it; their bundles wait for it. */
  private fetch(run: RunInfo, plan: RunPlan, signal?: AbortSignal): void {
    const batch = this.takeBatch(run, plan);
    const answer = this.send(batch, signal).then((bundles) => {
      batch.forEach(({ run: r }, i) => {
        const b = bundles[i];
        if (b) this.o.onBundle?.(r, b, signal);
      });
      return bundles;
    });
    batch.forEach(({ run: r }, i) => {
      const p = answer.then((bundles) => bundles[i]);
      p.catch(() => this.bundles.delete(r));
      this.bundles.set(r, p);
    });
    this.bound();
  }

  /** The run is done with: its bundle goes. */
  forget(run: RunInfo): void {
    this.bundles.delete(run);
  }

  /** The asking run and the runs listed after it that nobody asked for yet, as far as the limits allow. */
  private takeBatch(run: RunInfo, plan: RunPlan): { run: RunInfo; plan: RunPlan }[] {
    const waiting = this.cohorts.get(run)?.waiting ?? [];
    const at = waiting.indexOf(run);
    // Runs listed before the asking one and never asked for were skipped by the migration.
    if (at >= 0) waiting.splice(0, at + 1);
    const out = [{ run, plan }];
    let weight = planWeight(plan, this.o.limits);
    while (waiting.length > 0 && out.length < this.o.maxRuns) {
      const next = waiting[0];
      const p = planRun(next, this.counts.get(next), this.o.limits);
      if (p && weight + planWeight(p, this.o.limits) > (this.o.maxWeight ?? DEFAULT_MAX_WEIGHT)) break;
      waiting.shift();
      if (!p || this.bundles.has(next)) continue;
      weight += planWeight(p, this.o.limits);
      out.push({ run: next, plan: p });
    }
    return out;
  }

  private async send(batch: { run: RunInfo; plan: RunPlan }[], signal?: AbortSignal): Promise<(RunBundle | undefined)[]> {
    const plans = batch.map((b) => b.plan);
    const { query, variables } = batchDocument(plans, this.o.limits);
    const first = batch[0].run.key;
    const what = batch.length === 1 ? `files and history of ${runPath(first)}` : `files and history of ${batch.length} runs of ${first.entity}/${first.project}`;
    let answer: { data?: Record<string, unknown>; errors: GraphqlErrorEntry[] };
    try {
      this.documents++;
      answer = await this.o.gql.graphqlPartial<Record<string, unknown>>(query, variables, what, signal);
    } catch (error) {
      if (isAbortError(error) || signal?.aborted) throw error;
      // The runs' own queries will meet (and report) the same trouble, or get through.
      this.o.log.debug(`${what}: ${error instanceof Error ? error.message : String(error)}; each run is read with its own queries`);
      return batch.map(() => undefined);
    }
    const failed = new Set<string>();
    let whole = false;
    for (const e of answer.errors) {
      const alias = typeof e.path?.[0] === 'string' ? e.path[0] : undefined;
      if (alias && /^r\d+$/.test(alias)) failed.add(alias);
      else whole = true;
    }
    if (whole || !answer.data) {
      this.enabled = false;
      this.o.log.debug(`${what}: the server refused the batched document (${answer.errors.map((e) => e.message).join('; ')}); runs are read with their own queries from now on`);
      return batch.map(() => undefined);
    }
    const data = answer.data;
    this.taken = true;
    return plans.map((plan, i) => (failed.has(aliasOf(i)) ? undefined : bundleOf(plan, data[aliasOf(i)])));
  }

  /** Keeps the bundles held to a few documents' worth: the oldest are runs the migration did not take. */
  private bound(): void {
    const max = Math.max(64, 4 * this.o.maxRuns) + this.o.maxRuns * Math.max(0, this.listings - 1);
    for (const r of this.bundles.keys()) {
      if (this.bundles.size <= max) break;
      this.bundles.delete(r);
    }
  }
}
