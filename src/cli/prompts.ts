import { input, number } from '@inquirer/prompts';
import type { RunSource } from '../core/source.ts';
import type { MigrateFlags } from './options.ts';

/**
 * The questions the original exporter asked, each skipped when its flag is given: W&B entity,
 * Neptune workspace, which projects (listed; blank = all), how many runs at once.
 */
export async function promptMissing(
  flags: MigrateFlags,
  sourceFor: (entity: string | undefined) => RunSource,
  env: NodeJS.ProcessEnv,
  signal?: AbortSignal,
): Promise<MigrateFlags> {
  const out = { ...flags };
  if (!out.entity && (out.source ?? 'api') === 'api') {
    const probe = sourceFor(undefined);
    const viewer = await probe.entity(signal).catch(() => undefined);
    await probe.close?.();
    out.entity = (await input({ message: 'W&B entity', default: viewer }, { signal })) || viewer;
  }
  if (!out.workspace) {
    out.workspace = await input({ message: 'Neptune workspace', default: env.NEPTUNE_PROJECT?.split('/')[0] }, { signal });
  }
  if (!out.projects) {
    const names: string[] = [];
    const source = sourceFor(out.entity);
    try {
      for await (const p of source.listProjects(signal)) names.push(p.name);
    } finally {
      await source.close?.();
    }
    process.stderr.write(`W&B projects (${names.length}):\n${names.map((n) => `  ${n}`).join('\n')}\n`);
    const answer = await input({ message: 'Projects to migrate (comma-separated; blank = all)' }, { signal });
    out.projects = answer.trim() || 'all';
  }
  if (!out.concurrency) {
    const n = await number({ message: 'How many runs at once', default: 4, min: 1, max: 64 }, { signal });
    out.concurrency = String(n ?? 4);
  }
  return out;
}
