/**
 * A job library: a named module of jobs that a worker registers as a whole, and that clients load too, so both plan
 * with the same jobs. Its job names are kept as literal types, so typed references to its jobs (`jobRef`) are
 * checked against it at compile time.
 */

import type { AnyJob } from './job';

/** A named module of jobs, registered on a worker as a whole. */
export interface JobLibrary {
  readonly name: string;
  readonly jobs: readonly AnyJob[];
}

export function defineLibrary(name: string, jobs: readonly AnyJob[]): JobLibrary {
  return { name, jobs };
}

/** Two libraries (or one library twice) define the same job name: the worker refuses to start. */
export class DuplicateJobError extends Error {
  override readonly name = 'DuplicateJobError';
}
