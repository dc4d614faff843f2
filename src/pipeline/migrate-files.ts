import { runPath } from '../core/records.ts';
import type { LocalFile, RunFile, RunInfo } from '../core/records.ts';
import type { TargetRun, TargetRunState } from '../core/sink.ts';
import type { Omission } from '../core/target.ts';
import { isAbortError, isFileGone } from '../core/errors.ts';
import { placeFiles, type FileTarget } from '../mapping/files.ts';
import type { Progress } from '../ledger/ledger.ts';
import type { MigrationContext } from './context.ts';
import { leftForNextPass } from './left-for-next-pass.ts';
import { refusalNames, uploadSets } from './upload-sets.ts';

interface Pending {
  file: RunFile;
  target: FileTarget;
  relativePath: string;
  renamed?: string;
}

/**
 * A run's files: listed, placed (mapping.md, Files), skipped when the ledger says the same bytes
 * already landed, then downloaded and uploaded in groups through the shared file pool. Each group is
 * recorded in the ledger only after the target acknowledged it.
 */
export async function migrateFiles(run: RunInfo, target: TargetRun, state: TargetRunState, ctx: MigrationContext): Promise<void> {
  const key = run.key;
  const uploaded = ctx.ledger.uploadedFiles(key);
  const present = await presentOnTarget(uploaded.size === 0, target, state, ctx.signal);
  // Grouped per set, or, for a target that takes several sets in one call (B), across them: a small
  // run's sets then cost one upload call, not one each.
  const acrossSets = target.uploadFileSets !== undefined;
  const groups = new Map<FileTarget | 'all', Array<{ files: Pending[]; bytes: number }>>();
  const skipped: Omission[] = [];
  // Decisions made while listing (left out, already on the target) go to the ledger in one commit.
  const settled: NonNullable<Progress['files']>[number][] = [];
  let alreadyPresent = 0;
  let listed = 0;
  // The whole listing first: where a file lands depends on the other names (two that normalise to one path).
  const listing: RunFile[] = [];
  for await (const file of ctx.source.files(run, ctx.signal)) listing.push(file);
  const placements = placeFiles(listing, ctx.mapping);
  const enqueue = (p: Pending) => {
    const groupKey = acrossSets ? 'all' : p.target;
    let lists = groups.get(groupKey);
    if (!lists) groups.set(groupKey, (lists = [{ files: [], bytes: 0 }]));
    let current = lists[lists.length - 1];
    if (current.files.length >= ctx.fileBatchCount || (current.files.length > 0 && current.bytes + p.file.sizeBytes > ctx.fileBatchBytes)) {
      lists.push((current = { files: [], bytes: 0 }));
    }
    current.files.push(p);
    current.bytes += p.file.sizeBytes;
  };
  // Files the target lists with the same size, per set: kept only where the target proves the bytes.
  const candidates = new Map<FileTarget, Pending[]>();
  for (const file of listing) {
    listed++;
    const placement = placements.get(file.name)!;
    const done = uploaded.get(file.name);
    const unchanged = done !== undefined && done.size === file.sizeBytes && (done.md5 ?? '') === (file.md5 ?? '');
    if (placement.kind === 'skip') {
      // Counted once: skipped files are remembered like uploaded ones so a re-run does not count them again.
      if (!unchanged) {
        skipped.push({ reason: placement.reason, subject: file.name, count: 1, detail: placement.detail });
        settled.push({ name: file.name, md5: file.md5, size: file.sizeBytes, target: 'skipped' });
      }
      continue;
    }
    // Already uploaded; a file left out before is uploaded now that the options include it.
    if (unchanged && done.target !== 'skipped') continue;
    const p: Pending = { file, target: placement.target, relativePath: placement.relativePath, renamed: placement.renamed };
    // The target has a file of this size from a migration this ledger does not know of: the same size
    // is not the same bytes (a resumed W&B run rewrites files), so it is kept only if proven.
    if (!done && file.md5 && present.get(placement.target)?.get(placement.relativePath) === file.sizeBytes) {
      const list = candidates.get(placement.target);
      if (list) list.push(p);
      else candidates.set(placement.target, [p]);
      continue;
    }
    enqueue(p);
  }
  for (const [set, list] of candidates) {
    const proven = await target.provenSame!(set, list.map((p) => ({ relativePath: p.relativePath, sizeBytes: p.file.sizeBytes, md5: p.file.md5! })), ctx.signal);
    for (const p of list) {
      if (!proven.has(p.relativePath)) {
        enqueue(p);
        continue;
      }
      settled.push({ name: p.file.name, md5: p.file.md5, size: p.file.sizeBytes, target: p.target });
      alreadyPresent++;
    }
  }
  if (settled.length || skipped.length) {
    ctx.ledger.commit(key, 'files', { files: settled, omissions: skipped, counts: { filesAlreadyPresent: alreadyPresent } });
  }

  const jobs: Promise<void>[] = [];
  // Files a later pass may still get (each already a download-failed line): the run is left not done.
  const later: string[] = [];
  let filesDone = 0;
  let bytesDone = 0;
  for (const lists of groups.values()) {
    for (const { files: group, bytes: groupBytes } of lists) {
      if (group.length === 0) continue;
      jobs.push(
        ctx.filePool.run(async () => {
          const { fetched, failed, retry } = await fetchAll(run, group, ctx);
          later.push(...retry);
          try {
            const { refused, refusals, kept } = fetched.length ? await upload(target, fetched, ctx.signal) : { refused: new Set<Pending>(), refusals: [], kept: new Set<Pending>() };
            const landedPending = fetched.filter(({ p }) => !refused.has(p)).map(({ p }) => p);
            // A file that landed under another name than W&B's is a rename the report lists.
            const renamed: Omission[] = landedPending
              .filter((p) => p.renamed)
              .map((p) => ({ reason: 'renamed', subject: p.file.name, count: 1, detail: `→ ${p.relativePath}: ${p.renamed}` }));
            // Written: what this pass sent and the target kept. A file the target proved it already held
            // was not sent: counted as already present, its bytes not as written.
            const written = landedPending.filter((p) => !kept.has(p));
            const bytes = written.reduce((n, p) => n + p.file.sizeBytes, 0);
            ctx.ledger.commit(key, 'files', {
              files: landedPending.map((p) => ({ name: p.file.name, md5: p.file.md5, size: p.file.sizeBytes, target: p.target })),
              counts: { files: written.length, bytes, filesAlreadyPresent: landedPending.length - written.length },
              omissions: [...refusals, ...failed, ...renamed],
              // A file not landed is tried again by the next pass: what it says then replaces this.
              replaces: [...refusals, ...failed].map((o) => o.subject),
            });
            filesDone += written.length;
            bytesDone += bytes;
            ctx.emit({ type: 'run.progress', run: key, stream: 'files', points: 0, files: filesDone, bytes: bytesDone });
          } finally {
            await Promise.all(fetched.map(({ local }) => local.release().catch(() => {})));
          }
        }, groupBytes),
      );
    }
  }
  const results = await Promise.allSettled(jobs);
  const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failure) throw failure.reason;
  ctx.log.debug(`${runPath(key)}: ${listed} files listed, ${filesDone} uploaded`);
  if (later.length > 0) throw leftForNextPass('run', later);
}

/**
 * Uploads a group's files, each into its set: in one call when the target takes several sets at once,
 * else one call per set. Returns what the target refused (its lines) and the files they name, and the
 * files it already held (not sent).
 */
async function upload(target: TargetRun, fetched: ReadonlyArray<{ p: Pending; local: LocalFile }>, signal?: AbortSignal): Promise<{ refused: Set<Pending>; refusals: Omission[]; kept: Set<Pending> }> {
  const bySet = new Map<FileTarget, Array<{ p: Pending; local: LocalFile }>>();
  for (const f of fetched) {
    const list = bySet.get(f.p.target);
    if (list) list.push(f);
    else bySet.set(f.p.target, [f]);
  }
  const sets = [...bySet].map(([path, files]) => ({ path, files, entries: files.map(({ p, local }) => ({ localPath: local.path, relativePath: p.relativePath, sizeBytes: local.sizeBytes })) }));
  const answers = await uploadSets(target, sets, signal);
  const refused = new Set<Pending>();
  const kept = new Set<Pending>();
  const refusals: Omission[] = [];
  sets.forEach((s, i) => {
    const answer = answers[i];
    const present = new Set(answer.alreadyPresent);
    const named = new Set<Omission>();
    for (const { p } of s.files) {
      // A refusal may name the file or the whole set (refusalNames): each file it names did not land, a
      // line under the file's W&B name (the name a later pass that lands it clears).
      const o = answer.refused.find((r) => refusalNames(r.subject, s.path, p.relativePath));
      if (o) {
        named.add(o);
        refused.add(p);
        refusals.push({ reason: o.reason, subject: p.file.name, count: 1, detail: o.subject === p.relativePath ? o.detail : `${o.subject}: ${o.detail ?? ''}` });
      } else if (present.has(p.relativePath)) kept.add(p);
    }
    refusals.push(...answer.refused.filter((o) => !named.has(o)));
  });
  return { refused, refusals, kept };
}

/**
 * Downloads a group; a file that cannot be fetched is reported and the others still go. `retry`: the
 * files whose failure a later pass may not meet (all but those the source says are gone, isFileGone).
 */
async function fetchAll(run: RunInfo, group: Pending[], ctx: MigrationContext) {
  const fetched: Array<{ p: Pending; local: LocalFile }> = [];
  const failed: Omission[] = [];
  const retry: string[] = [];
  if (ctx.dryRun) {
    for (const p of group) fetched.push({ p, local: { path: '', sizeBytes: p.file.sizeBytes, release: async () => {} } });
    return { fetched, failed, retry };
  }
  for (const p of group) {
    try {
      fetched.push({ p, local: await ctx.source.fetchFile(run, p.file, ctx.signal) });
    } catch (error) {
      if (isAbortError(error) || ctx.signal?.aborted) {
        await Promise.all(fetched.map(({ local }) => local.release().catch(() => {})));
        throw error;
      }
      failed.push({ reason: 'download-failed', subject: p.file.name, count: 1, detail: error instanceof Error ? error.message : String(error) });
      if (!isFileGone(error)) retry.push(p.file.name);
    }
  }
  return { fetched, failed, retry };
}

/**
 * When the ledger knows nothing of a run's files but the target already has file sets for it (a lost
 * ledger, another machine), what those sets hold — so a file the target proves it holds (`provenSame`)
 * is not uploaded a second time. A target that cannot prove it is not asked: every file is sent.
 */
async function presentOnTarget(
  ledgerKnowsNothing: boolean,
  target: TargetRun,
  state: TargetRunState,
  signal?: AbortSignal,
): Promise<Map<string, ReadonlyMap<string, number>>> {
  const present = new Map<string, ReadonlyMap<string, number>>();
  if (!ledgerKnowsNothing || !target.listFileSet || !target.provenSame) return present;
  for (const path of state.fileSets ?? []) present.set(path, await target.listFileSet(path, signal));
  return present;
}
