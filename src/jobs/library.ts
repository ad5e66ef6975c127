/**
 * A job library: a named module of jobs that a worker registers as a whole, and that clients load too, so both plan
 * with the same jobs. It keeps its jobs' types (names as literal types), so typed references to its jobs
 * (`jobRefs<typeof library>()` in `jipper/workflow`) are checked against it at compile time.
 */
import type { AnyJob } from './job';

/** A named module of jobs, registered on a worker as a whole. */
export interface JobLibrary<Jobs extends readonly AnyJob[] = readonly AnyJob[]> {
  readonly name: string;
  readonly jobs: Jobs;
}

/** A library of `jobs`, named `name` (for messages: a job defined in two libraries names both). */
export function defineLibrary<const Jobs extends readonly AnyJob[]>(name: string, jobs: Jobs): JobLibrary<Jobs> {
  return { name, jobs };
}

/** Two libraries (or one library twice) define the same job name: the worker refuses to start. */
export class DuplicateJobError extends Error {
  override readonly name = 'DuplicateJobError';
}
