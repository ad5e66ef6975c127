/** The result of checking a definition against a worker's job registry. Plain JSON (it crosses the activity boundary). */
import type { EffectiveJobOptions } from './options';

/** A job at a step, as the engine runs it. */
export interface PlannedJob {
  stepId: string;
  job: string;
  /** The parallel group it belongs to (its id, or `parallel`). */
  group?: string;
  /** The step is the pivot (for a group member: its group is). */
  pivot?: boolean;
  hasRevert: boolean;
  options: EffectiveJobOptions;
  /** What the planning registry knew of the job (revert, default options), hashed; see `JobRegistry.fingerprint`. */
  fingerprint?: string;
}

/** One thing wrong with a definition, and where: a path such as `steps[2].parallel[0].args.sizeMb`. */
export interface Problem {
  path: string;
  message: string;
}

export interface Plan {
  problems: Problem[];
  /** The run's parameters: the definition's defaults overridden by the run's values. */
  params: Record<string, unknown>;
  /** Every job of the definition with its effective options, in definition order. */
  jobs: PlannedJob[];
}

/** Formats paths like `steps[2].args.sizeMb` from zod/issue paths. */
export function formatPath(path: readonly PropertyKey[]): string {
  return path
    .map((segment, i) =>
      typeof segment === 'number' ? `[${segment}]` : `${i === 0 ? '' : '.'}${String(segment)}`
    )
    .join('');
}

/** One line per problem: `steps[1].job: unknown job "allocate-volum" (did you mean "allocate-volume"?)`. */
export function formatProblems(problems: readonly Problem[]): string {
  const noun = problems.length === 1 ? 'problem' : 'problems';
  return `${problems.length} ${noun}:\n` + problems.map((p) => `  - ${p.path || '(definition)'}: ${p.message}`).join('\n');
}
