/** The result of checking a definition against a worker's job registry. Plain JSON (it crosses the activity boundary). */
import type { ProcessDefinition } from '../schema/definition';
import type { EffectiveJobOptions, JobMeta } from './options';
import { mergeJobOptions } from './options';
import { isGroupStep, stepJobs } from './steps';
import { isRecord } from './text';

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
    .map((segment, i) => (typeof segment === 'number' ? `[${segment}]` : `${i === 0 ? '' : '.'}${String(segment)}`))
    .join('');
}

/** One line per problem: `steps[1].job: unknown job "allocate-volum" (did you mean "allocate-volume"?)`. */
export function formatProblems(problems: readonly Problem[]): string {
  const noun = problems.length === 1 ? 'problem' : 'problems';
  return (
    `${problems.length} ${noun}:\n` + problems.map((p) => `  - ${p.path || '(definition)'}: ${p.message}`).join('\n')
  );
}

/**
 * What a client's job registry knows about a job, sent with the start request so the workflow can plan without asking
 * the worker: whether it has a revert, its default options, and the fingerprint of both (`JobRegistry.fingerprint`),
 * which the job's activity checks against its own.
 */
export interface JobFacts extends JobMeta {
  fingerprint: string;
}

/** Facts as `JobRegistry.facts` makes them: a revert flag, a fingerprint, and default options as an object. */
function wellFormed(facts: unknown): facts is JobFacts {
  if (!isRecord(facts) || typeof facts.hasRevert !== 'boolean' || typeof facts.fingerprint !== 'string') return false;
  const { defaults } = facts;
  return (
    isRecord(defaults) &&
    (defaults.retry === undefined || isRecord(defaults.retry)) &&
    (defaults.revert === undefined ||
      (isRecord(defaults.revert) && (defaults.revert.retry === undefined || isRecord(defaults.revert.retry))))
  );
}

/**
 * Plans a definition that a client has already checked, from the facts of its jobs: each job's effective options (Jipper's
 * defaults, the job's, the process's `options.defaults`, the step's) and the run's parameters. Pure and zod-free (it
 * runs in the workflow); it reports what it cannot plan (a job without facts, a step id used twice) and checks nothing
 * else: the client did, and each job checks its args when it runs.
 */
export function planFromFacts(
  definition: ProcessDefinition,
  params: Record<string, unknown>,
  facts: Readonly<Record<string, JobFacts>>
): Plan {
  const problems: Problem[] = [];
  const jobs: PlannedJob[] = [];
  const seen = new Set<string>();
  definition.steps.forEach((step, i) => {
    const group = isGroupStep(step);
    stepJobs(step).forEach((jobStep, j) => {
      const path = group ? `steps[${i}].parallel[${j}]` : `steps[${i}]`;
      if (seen.has(jobStep.id)) problems.push({ path: `${path}.id`, message: `duplicate step id "${jobStep.id}"` });
      seen.add(jobStep.id);
      const job = Object.hasOwn(facts, jobStep.job) ? facts[jobStep.job] : undefined;
      if (!job) {
        problems.push({
          path: `${path}.job`,
          message: `no facts about job "${jobStep.job}" came with the start request`,
        });
        return;
      }
      // Facts come with the start request, which anyone may send: their shape is checked too (no zod in a workflow).
      if (!wellFormed(job)) {
        problems.push({
          path: `${path}.job`,
          message: `the facts about job "${jobStep.job}" that came with the start request are malformed`,
        });
        return;
      }
      jobs.push({
        stepId: jobStep.id,
        job: jobStep.job,
        ...(group ? { group: step.id ?? 'parallel' } : {}),
        ...((group ? step.pivot : jobStep.pivot) ? { pivot: true } : {}),
        hasRevert: job.hasRevert,
        options: mergeJobOptions(job.defaults, definition.options?.defaults, jobStep),
        fingerprint: job.fingerprint,
      });
    });
  });
  const given = Object.fromEntries(Object.entries(params).filter(([, value]) => value !== undefined));
  return { problems, params: { ...(definition.params ?? {}), ...given }, jobs };
}
