import { input, number, select } from '@inquirer/prompts';
import type { RunSource } from '../core/source.ts';
import { nameList, preflightStep } from '../pipeline/selection.ts';
import type { MigrateFlags } from './options.ts';

export interface PromptSources {
  /** A source reading this entity (undefined: the key's default entity). */
  sourceFor(entity: string | undefined): RunSource | Promise<RunSource>;
  /** The Neptune workspaces the token reaches; undefined when they cannot be listed. */
  workspaces(signal?: AbortSignal): Promise<string[] | undefined>;
  /** Where lists are shown (the terminal). */
  write(text: string): void;
}

const split = (s: string) => s.split(',').map((x) => x.trim()).filter(Boolean);

/**
 * The questions the original exporter asked — W&B entity, Neptune workspace, which projects, how many
 * runs at once — each skipped when a flag already answers it. Answers are checked at the prompt
 * against what exists (workspaces are offered as a list; project names must be listed ones), so a
 * typo is corrected there instead of failing later. The entity is not asked once the projects are
 * named (they are the default entity's), and the run count is asked only in a session that asked
 * something else: a command that gave its answers as flags runs without a question.
 */
export async function promptMissing(flags: MigrateFlags, io: PromptSources, env: NodeJS.ProcessEnv, signal?: AbortSignal): Promise<MigrateFlags> {
  const out = { ...flags };
  let asked = false;
  if (!out.entity && !out.projects && (out.source ?? 'api') === 'api') {
    const probe = await io.sourceFor(undefined);
    const viewer = await probe.entity(signal).catch(() => undefined);
    await probe.close?.();
    const answer = await input(
      { message: 'W&B entity', default: viewer, validate: (v) => (v.trim() || viewer ? true : 'enter a W&B entity (team or user name)') },
      { signal },
    );
    out.entity = answer.trim() || viewer;
    asked = true;
  }
  if (!out.workspace) {
    const fromEnv = env.NEPTUNE_PROJECT?.split('/')[0] || undefined;
    const names = await io.workspaces(signal).catch(() => undefined);
    if (names?.length) {
      out.workspace = await select(
        { message: 'Neptune workspace', choices: names.map((n) => ({ value: n, name: n })), default: fromEnv && names.includes(fromEnv) ? fromEnv : undefined },
        { signal },
      );
    } else {
      const answer = await input(
        { message: 'Neptune workspace', default: fromEnv, validate: (v) => (v.trim() || fromEnv ? true : 'enter a Neptune workspace') },
        { signal },
      );
      out.workspace = answer.trim() || fromEnv;
    }
    asked = true;
  }
  if (!out.projects) {
    const names: string[] = [];
    const source = await io.sourceFor(out.entity);
    try {
      await preflightStep('W&B', async () => {
        for await (const p of source.listProjects(signal)) names.push(p.name);
      });
    } finally {
      await source.close?.();
    }
    io.write(`W&B projects (${names.length}):\n${names.map((n) => `  ${n}`).join('\n')}\n`);
    const answer = await input(
      {
        message: 'Projects to migrate (comma-separated; blank = all)',
        validate: (v) => {
          const missing = split(v).filter((n) => !names.includes(n));
          return missing.length ? `not a W&B project: ${missing.join(', ')} (there are: ${nameList(names)})` : true;
        },
      },
      { signal },
    );
    out.projects = split(answer).join(',') || 'all';
    asked = true;
  }
  if (!out.concurrency && asked) {
    const n = await number({ message: 'How many runs at once', default: 4, min: 1, max: 64 }, { signal });
    out.concurrency = String(n ?? 4);
  }
  return out;
}
