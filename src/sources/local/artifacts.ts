/**
 * The artifacts of a run folder: the `artifact` and `use_artifact` records of its `.wandb` log
 * (./wandb-log/artifact-records.ts). An offline run's artifact was never uploaded, so its bytes are
 * only where its manifest says: each entry's `local_path` (the SDK's staging copy), or the SDK's
 * artifact cache, keyed by the entry's MD5 (`<cache>/artifacts/obj/md5/<hex[:2]>/<hex[2:]>`:
 * wandb/sdk/artifacts/artifact_file_cache.py `check_md5_obj_path`, cache dir `WANDB_CACHE_DIR` or
 * `~/.cache/wandb`). What is there is carried (checked against its MD5); what is not is a report line.
 *
 * A run folder does not know the version number W&B gives on sync: a version is named
 * `local-<first 8 hex digits of its digest>`.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { ArtifactEntryUnavailable, type ArtifactEntry, type ArtifactManifest, type ArtifactReader, type ArtifactVersion } from '../../core/artifacts.ts';
import type { LocalFile, RunInfo } from '../../core/records.ts';
import type { ArtifactMsg } from './wandb-log/artifact-records.ts';
import { readLogRecords } from './wandb-log/container.ts';
import { decodeRecord, type RecordKind } from './wandb-log/proto.ts';

const WANT: ReadonlySet<RecordKind> = new Set<RecordKind>(['artifact', 'use_artifact']);

interface RunArtifacts {
  logged: ArtifactVersion[];
  used: ArtifactVersion[];
}

/** `logs(run)`: the run's `.wandb` logs, oldest first (a resumed run has several folders). */
export function localArtifacts(logs: (run: RunInfo, signal?: AbortSignal) => Promise<string[]>, env: NodeJS.ProcessEnv = process.env): ArtifactReader {
  const cache = new WeakMap<RunInfo, Promise<RunArtifacts>>();
  const cacheDir = env.WANDB_CACHE_DIR || join(homedir(), '.cache', 'wandb');

  function read(run: RunInfo, signal?: AbortSignal): Promise<RunArtifacts> {
    let p = cache.get(run);
    if (!p) {
      p = (async () => {
        const out: RunArtifacts = { logged: [], used: [] };
        const seen = new Set<string>();
        for (const path of await logs(run, signal)) {
          // Damage is the history pass's to report; an artifact record in a damaged block is lost with it.
          for await (const { payload } of readLogRecords(path, { signal })) {
            let r;
            try {
              r = decodeRecord(payload, WANT);
            } catch {
              continue;
            }
            if (r.kind === 'artifact') {
              const v = loggedVersion(run, r.artifact);
              if (!seen.has(v.key)) out.logged.push(v);
              seen.add(v.key);
            } else if (r.kind === 'use_artifact' && r.useArtifact.name) {
              out.used.push(usedVersion(r.useArtifact.name, r.useArtifact.type));
            }
          }
        }
        return out;
      })();
      p.catch(() => cache.delete(run));
      cache.set(run, p);
    }
    return p;
  }

  return {
    async *logged(run, signal) {
      yield* (await read(run, signal)).logged;
    },
    async *used(run, signal) {
      yield* (await read(run, signal)).used;
    },

    async manifest(_run, a): Promise<ArtifactManifest> {
      const msg = a.handle as ArtifactMsg;
      let entries: ArtifactEntry[] = msg.entries.map((e) => ({ path: e.path, digest: e.digest, size: e.size, ...(e.ref ? { ref: e.ref } : {}) }));
      if (msg.manifestFilePath) {
        try {
          entries = gunzipSync(await readFile(msg.manifestFilePath)).toString('utf8').split('\n').filter((l) => l.trim()).map(entryFromJson);
        } catch (error) {
          throw new ArtifactEntryUnavailable(`its manifest is in ${msg.manifestFilePath}, which cannot be read (${(error as Error).message})`);
        }
      }
      const contents = Object.fromEntries(entries.map((e) => [e.path, { digest: e.digest, size: e.size, ...(e.ref ? { ref: e.ref } : {}) }]));
      return { entries, json: JSON.stringify({ version: 1, storagePolicy: msg.storagePolicy || 'wandb-storage-policy-v1', storagePolicyConfig: {}, contents }) };
    },

    async fetchEntry(_run, a, entry, signal): Promise<LocalFile> {
      const local = (a.handle as ArtifactMsg).entries.find((e) => e.path === entry.path)?.localPath;
      const hex = Buffer.from(entry.digest, 'base64').toString('hex');
      const candidates = [local, hex.length === 32 ? join(cacheDir, 'artifacts', 'obj', 'md5', hex.slice(0, 2), hex.slice(2)) : undefined].filter((p): p is string => !!p);
      let changed: string | undefined;
      for (const path of candidates) {
        const size = await stat(path).then((s) => (s.isFile() ? s.size : undefined), () => undefined);
        if (size === undefined) continue;
        if (size === entry.size && (await md5Of(path, signal)) === entry.digest) return { path, sizeBytes: size, release: async () => {} };
        changed = path;
      }
      if (changed) throw new ArtifactEntryUnavailable(`artifact file on disk at ${changed} no longer matches the digest the run logged (changed since)`);
      throw new ArtifactEntryUnavailable(`artifact file not on disk (the run logged it from ${local || 'an unknown path'}; not in the artifact cache ${cacheDir} either)`);
    },
  };
}

function loggedVersion(run: RunInfo, m: ArtifactMsg): ArtifactVersion {
  const entity = m.entity || run.key.entity;
  const project = m.project || run.key.project;
  const version = `local-${m.digest.slice(0, 8) || 'unknown'}`;
  return {
    key: `${entity}/${project}/${m.name}:${version}`,
    name: m.name,
    version,
    type: m.type,
    digest: m.digest,
    aliases: [...new Set(m.aliases)],
    size: m.entries.reduce((n, e) => n + e.size, 0),
    description: m.description || undefined,
    metadata: m.metadata || undefined,
    handle: m,
  };
}

/** `use_artifact` names `[entity/project/]name:version-or-alias`. */
function usedVersion(full: string, type: string): ArtifactVersion {
  const short = full.split('/').pop()!;
  const colon = short.lastIndexOf(':');
  const name = colon > 0 ? short.slice(0, colon) : short;
  const version = colon > 0 ? short.slice(colon + 1) : 'latest';
  return { key: full, name, version, type, digest: '', aliases: [], size: 0, handle: undefined };
}

function entryFromJson(line: string): ArtifactEntry {
  const e = JSON.parse(line) as { path: string; digest?: string; size?: number; ref?: string };
  return { path: e.path, digest: String(e.digest ?? ''), size: Number(e.size ?? 0), ...(e.ref ? { ref: e.ref } : {}) };
}

async function md5Of(path: string, signal?: AbortSignal): Promise<string> {
  const h = createHash('md5');
  for await (const chunk of createReadStream(path, { signal })) h.update(chunk as Buffer);
  return h.digest('base64');
}
