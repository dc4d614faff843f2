import { ConfigError } from '../core/errors.ts';

/**
 * W&B project name → Neptune project name. `_` becomes `-` (as Neptune's own migrator did); any other
 * character Neptune rejects (it allows letters, digits, `-` and `.`) becomes `-` too; runs of `-` collapse.
 */
export function neptuneProjectName(wandbName: string): string {
  const mapped = wandbName
    .normalize('NFKD')
    .replace(/[^A-Za-z0-9.-]/g, '-')
    .replace(/-{2,}/g, '-')
    .replace(/^[-.]+|[-.]+$/g, '');
  return mapped.length >= 3 ? mapped : `${mapped || 'project'}-wb`.slice(0, 50);
}

/**
 * Plans every project's target name before anything is written. Two W&B projects that would land in
 * one Neptune project are an error, unless the user mapped names explicitly (`--project-map old=new`).
 */
export function planProjectNames(
  wandbNames: readonly string[],
  explicit: ReadonlyMap<string, string> = new Map(),
): Map<string, string> {
  const plan = new Map<string, string>();
  const owners = new Map<string, string[]>();
  for (const name of wandbNames) {
    const target = explicit.get(name) ?? neptuneProjectName(name);
    plan.set(name, target);
    owners.set(target, [...(owners.get(target) ?? []), name]);
  }
  const problems = [...owners.entries()]
    .filter(([, sources]) => sources.length > 1)
    .map(([target, sources]) => `W&B projects ${sources.map((s) => `"${s}"`).join(' and ')} would all map to Neptune project "${target}"; map them apart with --project-map ${sources[0]}=<name>`);
  if (problems.length) throw new ConfigError(problems);
  return plan;
}

/**
 * Why Neptune would refuse `name` as a project name (docs.neptune.ai/projects: 3–128 characters, none of
 * / \ # ? % :, no 4-byte characters), or undefined. An explicit `--project-map` name is checked before
 * anything is written: refused at the first run's project creation, every run failed one by one.
 */
export function projectNameProblem(name: string): string | undefined {
  if (name.length < 3 || name.length > 128) return 'a Neptune project name has 3 to 128 characters';
  if (/[/\\#?%:]/.test(name)) return 'a Neptune project name has none of / \\ # ? % :';
  if ([...name].some((c) => (c.codePointAt(0) ?? 0) > 0xffff)) return 'a Neptune project name has no 4-byte characters (emoji)';
  return undefined;
}

/** Parses `--project-map a=b,c=d`. */
export function parseProjectMap(spec: string | undefined): Map<string, string> {
  const map = new Map<string, string>();
  if (!spec) return map;
  const problems: string[] = [];
  for (const pair of spec.split(',').map((s) => s.trim()).filter(Boolean)) {
    const [from, to, ...rest] = pair.split('=');
    if (!from || !to || rest.length) problems.push(`--project-map entry "${pair}" is not old=new`);
    else if (projectNameProblem(to)) problems.push(`--project-map ${from}=${to}: "${to}" cannot be a Neptune project: ${projectNameProblem(to)}`);
    else map.set(from, to);
  }
  if (problems.length) throw new ConfigError(problems);
  return map;
}
