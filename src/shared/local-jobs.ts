/**
 * The local-job rule (`src/core/local.ts`) applied to a step's effective options: what validation reports at the step
 * and what a code-first saga refuses before it schedules anything.
 */
import { localJobProblems } from '../core';
import type { EffectiveJobOptions } from './options';
import { durationMs } from './options';
import type { Problem } from './plan';

/** What else decides whether a step may run locally, besides its options. */
export interface LocalStepFacts {
  hasRevert: boolean;
  /** The step holds resource tokens. */
  tokens?: boolean;
  /** The job has a rate limit (`JobDefinition.rateLimit`). */
  ratePerSecond?: number;
}

/** The problems of a step marked local, at `path` (the step's own path), one line each; none when it is not local. */
export function localStepProblems(options: EffectiveJobOptions, facts: LocalStepFacts, path: string): Problem[] {
  if (options.local !== true) return [];
  return localJobProblems({
    runTimeoutMs: durationMs(options.run.timeout),
    revertTimeoutMs: durationMs(options.revert.timeout),
    hasRevert: facts.hasRevert,
    runHeartbeat: options.run.heartbeatTimeout !== undefined,
    revertHeartbeat: options.revert.heartbeatTimeout !== undefined,
    priority: options.priority !== undefined,
    tokens: facts.tokens === true,
    rateLimited: facts.ratePerSecond !== undefined,
  }).map((problem) => ({ path: `${path}.${problem.field}`, message: problem.message }));
}
