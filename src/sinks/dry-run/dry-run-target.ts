import type { Target, TargetProject, TargetRun, TargetRunState } from '../../core/sink.ts';
import type { FieldAssignment, FileSetAnswer, FileSetEntry, HistogramPoint, ImagePoint, ImagesAnswer, Omission, SeriesPoint } from '../../core/target.ts';
import { PROTOCOL_A_CAPABILITIES, type TargetCapabilities } from '../../mapping/capabilities.ts';
import type { PlannedProtocol } from './planned-protocol.ts';

export interface DryRunCounts {
  projects: number;
  runs: number;
  fields: number;
  points: number;
  files: number;
  bytes: number;
}

/**
 * `--dry-run`: a target that writes nothing and counts what it would have written. The pipeline runs
 * unchanged against it, so the plan a dry run prints is the plan a real run executes.
 */
export class DryRunTarget implements Target {
  readonly kind = 'dry-run';
  readonly perRun = new Map<string, DryRunCounts>();
  private readonly totals: DryRunCounts = { projects: 0, runs: 0, fields: 0, points: 0, files: 0, bytes: 0 };
  private firstProject?: string;

  /** `plan`: the protocol the pass would write through (planned-protocol.ts); Protocol A's when absent. */
  constructor(private readonly plan?: PlannedProtocol) {}

  async ensureProject(workspace: string, name: string): Promise<TargetProject> {
    this.totals.projects++;
    this.firstProject ??= `${workspace}/${name}`;
    return { qualifiedName: `${workspace}/${name}` };
  }

  /** What the planned protocol's server holds, so the mapping shapes the data as the real pass would. */
  async capabilities(signal?: AbortSignal): Promise<TargetCapabilities> {
    return this.plan && this.firstProject ? this.plan.capabilities(this.firstProject, signal) : PROTOCOL_A_CAPABILITIES;
  }

  async openRun(project: TargetProject, customRunId: string): Promise<TargetRun> {
    this.totals.runs++;
    const counts: DryRunCounts = { projects: 0, runs: 1, fields: 0, points: 0, files: 0, bytes: 0 };
    this.perRun.set(`${project.qualifiedName}/${customRunId}`, counts);
    const totals = this.totals;
    return {
      id: `dry-run:${customRunId}`,
      async state(): Promise<TargetRunState> {
        return { lastSteps: new Map(), fieldCount: 0 };
      },
      assign(fields: readonly FieldAssignment[]) {
        counts.fields += fields.length;
        totals.fields += fields.length;
      },
      appendFloats(_path: string, points: readonly SeriesPoint<number>[]) {
        counts.points += points.length;
        totals.points += points.length;
      },
      appendStrings(_path: string, points: readonly SeriesPoint<string>[]) {
        counts.points += points.length;
        totals.points += points.length;
      },
      async flush(): Promise<Omission[]> {
        return [];
      },
      async logImages(_path: string, points: readonly ImagePoint[]): Promise<ImagesAnswer> {
        counts.points += points.length;
        totals.points += points.length;
        return { refused: [], alreadyPresent: [] };
      },
      async logHistograms(_path: string, points: readonly HistogramPoint[]): Promise<Omission[]> {
        counts.points += points.length;
        totals.points += points.length;
        return [];
      },
      async uploadFileSet(_path: string, entries: readonly FileSetEntry[]): Promise<FileSetAnswer> {
        counts.files += entries.length;
        totals.files += entries.length;
        for (const e of entries) {
          counts.bytes += e.sizeBytes;
          totals.bytes += e.sizeBytes;
        }
        return { refused: [], alreadyPresent: [] };
      },
    };
  }

  stats(): Record<string, number> {
    return { ...this.totals, requests: this.plan?.requests() ?? 0 };
  }

  async close(): Promise<void> {
    await this.plan?.close();
  }
}
