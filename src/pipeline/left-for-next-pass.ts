import { SourceDataError } from '../core/errors.ts';

/**
 * The error that leaves a run not done because files it has could not be downloaded now (W&B failing
 * past the download retries), though a later try may get them: an unchanged run that is done is never
 * read again, so only a run left not done has its missing files tried on the next pass. Each file is
 * already a `download-failed` line; the error names a few of them.
 */
export function leftForNextPass(kind: string, subjects: readonly string[]): SourceDataError {
  const shown = subjects.slice(0, 3).join(', ') + (subjects.length > 3 ? ` and ${subjects.length - 3} more` : '');
  return new SourceDataError(`${subjects.length} ${kind} file(s) could not be downloaded (${shown}); the run is left incomplete and is tried again on the next pass`);
}
