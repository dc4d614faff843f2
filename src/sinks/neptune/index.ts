/** Neptune writer, Protocol A (legacy REST/JSON, Neptune 2.x servers and compatible backends). */
export { createNeptuneClient, ProjectHandle, RunWriter } from './client.ts';
export type { NeptuneClient, NeptuneClientOptions, OpenRunOptions } from './client.ts';
export type { FlushResult, UploadOutcome, WriteOutcome } from './writer.ts';
export { ContainerWriter } from './writer.ts';
export type { OperationFailure, WireOp } from './operations.ts';
export type { EnsureProjectOptions, ProjectInfo } from './projects.ts';
export { CUSTOM_RUN_ID_MAX, checkCustomRunId } from './runs.ts';
export type { RunInfo } from './runs.ts';
export { DEFAULT_LIMITS, resolveLimits } from './limits.ts';
export type { NeptuneLimits } from './limits.ts';
export type { NeptuneStats } from './stats.ts';
export type { FieldType } from './rules.ts';
export type { FileSetUploadOptions } from './uploads.ts';
export { encodeNeptuneToken, parseNeptuneToken, parseProjectPath, resolveNeptuneSettings } from './token.ts';
export type { NeptuneCredentials, NeptuneSettings } from './token.ts';
