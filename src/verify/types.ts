import type { RunKey } from '../core/records.ts';

export type VerifyStatus = 'verified' | 'verified-with-omissions' | 'mismatch' | 'missing';

/** `image`: an image series (A) or its file series (B); `media`: a media file (histogram, table, audio…). */
export type DifferenceScope = 'run' | 'field' | 'series' | 'console' | 'file' | 'image' | 'media';

/** One way Neptune differs from what the migration of the W&B run should have left there. */
export interface Difference {
  scope: DifferenceScope;
  /** A field or series path, a file (`files/a/b.txt`), or the run itself. */
  subject: string;
  detail: string;
  /** Other names of the subject: the W&B key of a series, the W&B name of a file. */
  names?: string[];
  /** Series and console: the first step at which the two sides differ. */
  firstStep?: number;
  /** Set when the migration's report accounts for it (an omission with a reason): `expected`. */
  explainedBy?: { reason: string; detail?: string };
}

export interface RunVerification {
  run: RunKey;
  name?: string;
  /** `workspace/project` in Neptune. */
  targetProject: string;
  /** Neptune container id, when found. */
  targetRun?: string;
  status: VerifyStatus;
  differences: Difference[];
  /** What was compared. */
  checked: { fields: number; series: number; points: number; consoleEntries: number; files: number; md5: number; images?: number; histograms?: number; mediaFiles?: number };
  /** Left out for a reason other than a documented default (mapping or the migration's report). */
  omitted: number;
  /** `--html`: the main metric, decimated, as W&B gives it and as Neptune holds it: [step, value]. */
  chart?: { path: string; wandb: Array<[number, number]>; neptune: Array<[number, number]> };
  /** A run whose verification itself failed (a read error), with why. */
  error?: string;
}

export interface VerifyReport {
  runs: RunVerification[];
  totals: Record<VerifyStatus, number> & { runs: number; selected: number };
  /** `--sample`: the fraction of selected runs that was verified. */
  sample?: number;
  requests: { source?: Record<string, number>; target: Record<string, number> };
  /** The Neptune protocol the runs were read with (`--protocol`, or what the server answered to `auto`). */
  protocol?: 'a' | 'b';
  wallMs: number;
  /** `--html`: where the HTML report was written. */
  html?: string;
}
