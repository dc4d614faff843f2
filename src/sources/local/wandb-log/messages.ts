/**
 * The decoded shapes of the `wandb_internal` messages the migration reads (field numbers in
 * ./proto.ts). Only the fields the migration needs are kept.
 */

export interface Item {
  key: string;
  nestedKey: string[];
  valueJson: string;
}
export interface HistoryMsg {
  items: Item[];
  /** `step.num`; 0 when `step` is present but empty; undefined when absent. */
  step?: number;
}
export interface UpdateMsg {
  update: Item[];
  remove: Item[];
}
export interface OutputMsg {
  /** STDERR = 0 is the proto3 default, so a missing field means stderr. */
  stream: 'stdout' | 'stderr';
  /** Unix seconds. */
  timestamp?: number;
  line: string;
}
export interface StatsMsg {
  timestamp?: number;
  items: Item[];
}
export interface FilesMsg {
  files: { path: string; policy: number; type: number }[];
}
export interface TelemetryMsg {
  pythonVersion: string;
  cliVersion: string;
  huggingfaceVersion: string;
  coreVersion: string;
  platform: string;
}
export interface RunMsg {
  runId: string;
  entity: string;
  project: string;
  config?: UpdateMsg;
  summary?: UpdateMsg;
  runGroup: string;
  jobType: string;
  displayName: string;
  notes: string;
  tags: string[];
  sweepId: string;
  host: string;
  startingStep: number;
  startTime?: number;
  resumed: boolean;
  telemetry?: TelemetryMsg;
  runtime: number;
  gitRemote: string;
  gitCommit: string;
  forked: boolean;
}
export interface ExitMsg {
  exitCode: number;
  runtime: number;
}
export interface HeaderMsg {
  producer: string;
  minConsumer: string;
}
export interface MetricMsg {
  name: string;
  globName: string;
  stepMetric: string;
  goal: number;
}
export interface EnvironmentMsg {
  os: string;
  python: string;
  startedAt?: number;
  program: string;
  host: string;
  username: string;
  gitRemote: string;
  gitCommit: string;
  cpuCount: number;
  gpuType: string;
  gpuCount: number;
  cudaVersion: string;
}

export type WandbRecord = { num: number } & (
  | { kind: 'history'; history: HistoryMsg }
  | { kind: 'summary'; summary: UpdateMsg }
  | { kind: 'config'; config: UpdateMsg }
  | { kind: 'output' | 'output_raw'; output: OutputMsg }
  | { kind: 'stats'; stats: StatsMsg }
  | { kind: 'files'; files: FilesMsg }
  | { kind: 'telemetry'; telemetry: TelemetryMsg }
  | { kind: 'metric'; metric: MetricMsg }
  | { kind: 'run'; run: RunMsg }
  | { kind: 'exit'; exit: ExitMsg }
  | { kind: 'header'; header: HeaderMsg }
  | { kind: 'environment'; environment: EnvironmentMsg }
  | { kind: 'artifact'; artifact: import('./artifact-records.ts').ArtifactMsg }
  | { kind: 'use_artifact'; useArtifact: import('./artifact-records.ts').UseArtifactMsg }
  | { kind: 'final' | 'footer' | 'preempting' | 'alert' | 'tbrecord' | 'other' }
  | { kind: 'none' }
  | { kind: 'undecoded'; of: RecordKind }
);
export type RecordKind = Exclude<WandbRecord['kind'], 'undecoded'>;

