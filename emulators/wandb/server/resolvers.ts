/** GraphQL root and `Entity`/`Project`/`User` resolvers. A missing project or run is `null`, not an error (wandb-api.md §1.5). */
import type { GenProject } from '../generator/types.ts';
import { artifactById, artifactByName, artifactCollection, artifactType, artifactTypes } from './artifacts.ts';
import { paginate, type PageArgs } from './connection.ts';
import { type Core, findProject, findRun } from './core.ts';
import { matchesFilter, parseFilters, sortRuns } from './filters.ts';
import { RunNode } from './run-node.ts';
import { sweepNames, sweepNode, type SweepNode } from './sweep-node.ts';

function b64(s: string): string {
  return Buffer.from(s, 'utf8').toString('base64');
}

export class ProjectNode {
  constructor(private readonly core: Core, private readonly p: GenProject, private readonly index: number) {}
  get id(): string { return b64(`Project:${1000 + this.index}`); }
  get internalId(): string { return String(1000 + this.index); }
  get name(): string { return this.p.name; }
  get entityName(): string { return this.core.entity.name; }
  get createdAt(): string { return this.p.createdAt; }
  get updatedAt(): string { return this.p.createdAt; }
  get isBenchmark(): boolean { return false; }
  get readOnly(): boolean { return false; }
  get description(): string | null { return null; }
  get user(): unknown { return userNode(this.core.viewer.username, this.core.viewer.defaultEntity); }
  entity(): EntityNode { return new EntityNode(this.core); }

  private filtered(filters: string | null | undefined): GenProject['runs'] {
    const f = parseFilters(filters);
    return this.p.runs.filter((r) => matchesFilter(r, f));
  }
  runCount(args: { filters?: string | null }): number { return this.filtered(args.filters).length; }
  runs(args: PageArgs & { filters?: string | null; order?: string | null }): unknown {
    const runs = sortRuns(this.filtered(args.filters), args.order);
    return paginate('run', runs, args, 50, (r) => new RunNode(this.core, r, this.p, this.index, this));
  }
  run(args: { name: string }): RunNode | null {
    const r = findRun(this.p, args.name);
    return r ? new RunNode(this.core, r, this.p, this.index, this) : null;
  }
  bucket(args: { name: string }): RunNode | null { return this.run(args); }
  sweep(args: { sweepName: string }): SweepNode | null { return sweepNode(this.p, args.sweepName); }
  get totalSweeps(): number { return sweepNames(this.p).length; }
  artifactCollection(args: { name: string }): unknown { return artifactCollection(this.core, this.p.name, args.name, () => this); }
  artifact(args: { name: string }): unknown { return artifactByName(this.core, this.p.name, args.name, () => this); }
  artifactType(args: { name: string }): unknown { return artifactType(this.core, this.p.name, args.name, () => this); }
  artifactTypes(args: PageArgs): unknown { return artifactTypes(this.core, this.p.name, args, () => this); }
  sweeps(args: PageArgs): unknown { return paginate('sweep', sweepNames(this.p), args, 50, (name) => sweepNode(this.p, name)); }
}

export class EntityNode {
  constructor(private readonly core: Core) {}
  get id(): string { return b64(`Entity:${this.core.entity.name}`); }
  get name(): string { return this.core.entity.name; }
  get isTeam(): boolean { return true; }
  project(args: { name?: string | null }): ProjectNode | null {
    return projectNode(this.core, this.core.entity.name, args.name);
  }
  projects(args: PageArgs): unknown {
    return paginate('project', this.core.entity.projects, args, 50, (p, i) => new ProjectNode(this.core, p, i));
  }
}

function projectNode(core: Core, entity: string | null | undefined, name: string | null | undefined): ProjectNode | null {
  const p = findProject(core, entity, name);
  return p ? new ProjectNode(core, p, core.entity.projects.indexOf(p)) : null;
}

function userNode(username: string, defaultEntity: string, teams?: EntityNode): Record<string, unknown> {
  return {
    id: b64(`User:${username}`), name: username, username, email: `${username}@example.invalid`, photoUrl: null, deletedAt: null,
    admin: false, flags: '{}', entity: defaultEntity, apiKeys: { edges: [] },
    teams: { edges: teams ? [{ node: teams, cursor: b64('team:0') }] : [] },
  };
}

export class QueryRoot {
  constructor(private readonly core: Core) {}
  viewer(): unknown {
    return userNode(this.core.viewer.username, this.core.viewer.defaultEntity, new EntityNode(this.core));
  }
  project(args: { name?: string | null; entityName?: string | null }): ProjectNode | null {
    return projectNode(this.core, args.entityName, args.name);
  }
  model(args: { name?: string | null; entityName?: string | null }): ProjectNode | null { return this.project(args); }
  artifact(args: { id: string }): unknown { return artifactById(this.core, args.id, (name) => this.project({ name })); }
  projects(args: PageArgs & { entityName?: string | null }): unknown {
    const mine = (args.entityName ?? this.core.viewer.defaultEntity) === this.core.entity.name;
    return paginate('project', mine ? this.core.entity.projects : [], args, 50, (p, i) => new ProjectNode(this.core, p, i));
  }
  models(args: PageArgs & { entityName?: string | null }): unknown { return this.projects(args); }
  entity(args: { name?: string | null }): EntityNode | null {
    return (args.name ?? this.core.viewer.defaultEntity) === this.core.entity.name ? new EntityNode(this.core) : null;
  }
  serverInfo(): unknown {
    return {
      cliVersionInfo: { max_cli_version: '0.28.3', min_cli_version: '0.10.0' },
      latestLocalVersionInfo: { outOfDate: false, latestVersionString: '0.77.0', versionOnThisInstanceString: '0.77.0' },
      features: [{ name: 'LARGE_FILENAMES', isEnabled: true }, { name: 'TOTAL_COUNT_IN_FILE_CONNECTION', isEnabled: true }],
    };
  }
}
