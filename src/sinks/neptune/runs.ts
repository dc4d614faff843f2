import { HttpError, TargetError } from '../../core/errors.ts';
import { PROTOCOL_A_LIMITS } from '../../core/target.ts';
import { CLIENT_VERSION, type NeptuneApi } from './api.ts';
import type { ProjectInfo } from './projects.ts';

/** neptune-client 1.x keeps at most this many characters of a custom run id (and silently drops longer ones). */
export const CUSTOM_RUN_ID_MAX = PROTOCOL_A_LIMITS.customRunIdLength;

export interface RunInfo {
  /** UUID: the container id for every later call. */
  id: string;
  /** `sys/id`, e.g. "SAN-12". */
  shortId: string;
  customId: string;
}

export function checkCustomRunId(customId: string): void {
  if (!customId) throw new TargetError('custom run id is empty');
  if (customId.length > CUSTOM_RUN_ID_MAX) {
    throw new TargetError(`custom run id "${customId}" has ${customId.length} characters; Neptune keeps at most ${CUSTOM_RUN_ID_MAX}`);
  }
}

/** createExperiment with `customId`: creates the run, or returns the existing run with that id. */
export async function createOrOpenRun(api: NeptuneApi, project: ProjectInfo, customId: string, signal?: AbortSignal): Promise<RunInfo> {
  checkCustomRunId(customId);
  let data: { id?: unknown; shortId?: unknown; customId?: unknown } | undefined;
  try {
    ({ data } = await api.json<{ id?: unknown; shortId?: unknown; customId?: unknown }>({
      method: 'POST',
      path: '/api/leaderboard/v1/experiments',
      json: { projectIdentifier: project.id, parentId: project.id, type: 'run', cliVersion: CLIENT_VERSION, customId },
      headers: { 'x-neptune-cliversion': CLIENT_VERSION },
      signal,
      what: `run ${customId} in ${project.workspace}/${project.name}`,
    }));
  } catch (e) {
    if (e instanceof HttpError && e.status === 404) throw new TargetError(`Neptune project ${project.workspace}/${project.name} not found`, { cause: e });
    if (e instanceof HttpError && e.status === 409) throw new TargetError(`Neptune reported a conflict creating run ${customId}`, { cause: e });
    throw e;
  }
  if (typeof data?.id !== 'string') throw new TargetError(`Neptune answered without an id for run ${customId}`);
  if (typeof data.customId === 'string' && data.customId !== customId) {
    throw new TargetError(`Neptune returned run with custom id "${data.customId}" for "${customId}"`);
  }
  return { id: data.id, shortId: typeof data.shortId === 'string' ? data.shortId : '', customId };
}
