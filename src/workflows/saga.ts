/**
 * The code-first API: for processes that need branching, write a workflow and call jobs as typed steps. Same engine,
 * same semantics (revert stack, pivot, park, cancellation), same report as a definition run.
 *
 * @example
 * ```ts
 * import type { VolumeJobs } from '../examples/volume/volume-jobs';
 * const allocate = jobRef<VolumeJobs['allocateVolume']>('allocate-volume'); // another name does not compile
 * const quota = jobRef<VolumeJobs['setQuota']>('set-quota');
 *
 * export async function provision(input: { volume: string; sizeMb: number }) {
 *   return runSaga('provision', async (saga) => {
 *     const volume = await saga.run('allocate', allocate, { volume: input.volume, sizeMb: input.sizeMb });
 *     if (volume.sizeMb > 100) await saga.run('quota', quota, { volume: input.volume, limitMb: 100 });
 *   });
 * }
 * ```
 */
import { ApplicationFailure, scheduleLocalActivity, workflowInfo } from '@temporalio/workflow';
import type { JobInput, JobName, JobResult } from '../jobs/job';
import type { JobLibrary } from '../jobs/library';
import { DESCRIBE_ACTIVITY } from '../shared/calls';
import type { JobOptions } from '../schema/definition';
import type { JobMeta } from '../shared/options';
import { mergeJobOptions } from '../shared/options';
import { localStepProblems } from '../shared/local-jobs';
import type { ProcessReport } from '../shared/report';
import type { OnRevertFailure, RevertMode } from './engine';
import { Engine, initialReport, initialState } from './engine';

/** A typed handle on a registered job; carries the job's input and result types, not its code. */
export interface JobRef<I, O> {
  readonly name: string;
  /** Type carrier only; never set. */
  readonly __types?: (input: I) => O;
}

/**
 * A typed handle on a job: `jobRef<VolumeJobs['allocateVolume']>('allocate-volume')`. The name must be the job's own
 * (its literal type), so a misspelt or wrong name does not compile. Workflow code imports the job's type only.
 */
export function jobRef<J>(name: JobName<J>): JobRef<JobInput<J>, JobResult<J>> {
  return { name };
}

/** The jobs of a library, by name. */
type JobsOf<L> = L extends JobLibrary<infer Jobs> ? Jobs[number] : never;

/**
 * Typed handles on every job of a library, by name: `const jobs = jobRefs<typeof volumes>(); jobs('set-quota')`. A name
 * the library does not define does not compile. Workflow code imports the library's type only (`import type`).
 */
export function jobRefs<L extends JobLibrary>(): <N extends JobName<JobsOf<L>>>(
  name: N
) => JobRef<JobInput<Extract<JobsOf<L>, { name: N }>>, JobResult<Extract<JobsOf<L>, { name: N }>>> {
  return (name) => ({ name });
}

export interface SagaOptions {
  /** Default `sequential`. */
  revertMode?: RevertMode;
  /** Default `continue`. */
  onRevertFailure?: OnRevertFailure;
  /** Options for every step (a step's own options win; the job's defaults lose). */
  defaults?: JobOptions;
  /** Task-queue priority of the saga's jobs (1 most urgent to 5); reverts run one level more urgent. */
  priority?: number;
}

export interface SagaStepOptions extends JobOptions {
  /** The point of no return: once this step succeeds, a later failure is not unwound. */
  pivot?: boolean;
}

/** One member of a parallel group; build it with {@link member} so its input is checked against its job. */
export interface ParallelMember<O = unknown> {
  readonly id: string;
  readonly job: JobRef<unknown, unknown>;
  readonly input: unknown;
  readonly options?: JobOptions;
  /** Type carrier only; never set. */
  readonly __result?: O;
}

/** A typed member of a parallel group: `member('quota', setQuota, { volume, limitMb: 32 })`. */
export function member<I, O>(id: string, job: JobRef<I, O>, input: I, options?: JobOptions): ParallelMember<O> {
  return { id, job: job as JobRef<unknown, unknown>, input, ...(options ? { options } : {}) };
}

type ResultsOf<T extends readonly ParallelMember[]> = {
  -readonly [K in keyof T]: T[K] extends ParallelMember<infer O> ? O : never;
};

export class Saga {
  private readonly metas = new Map<string, JobMeta>();

  constructor(
    private readonly engine: Engine,
    private readonly options: SagaOptions
  ) {}

  /** The live report. */
  get report(): ProcessReport {
    return this.engine.report;
  }

  private async meta(name: string): Promise<JobMeta> {
    let meta = this.metas.get(name);
    if (!meta) {
      const [described] = await scheduleLocalActivity<[JobMeta]>(DESCRIBE_ACTIVITY, [[name]], {
        startToCloseTimeout: '30s',
        retry: { maximumAttempts: 3 },
      });
      meta = described;
      this.metas.set(name, meta);
    }
    return meta;
  }

  private async planStep(stepId: string, job: JobRef<unknown, unknown>, options?: SagaStepOptions, group?: string) {
    const meta = await this.meta(job.name);
    const merged = mergeJobOptions(meta.defaults, this.options.defaults, options);
    const [problem] = localStepProblems(merged, { ...meta, tokens: false }, `step "${stepId}"`);
    if (problem) throw ApplicationFailure.nonRetryable(`${problem.path}: ${problem.message}`, 'invalid-step');
    this.engine.plan({
      stepId,
      job: job.name,
      ...(group ? { group } : {}),
      ...(options?.pivot ? { pivot: true } : {}),
      hasRevert: meta.hasRevert,
      ...(meta.hasProbe ? { hasProbe: true } : {}),
      ...(meta.ratePerSecond !== undefined ? { ratePerSecond: meta.ratePerSecond } : {}),
      options: merged,
    });
  }

  /** Runs one job as step `stepId` and returns its result. A failure unwinds the process (rethrown to runSaga). */
  async run<I, O>(stepId: string, job: JobRef<I, O>, input: I, options?: SagaStepOptions): Promise<O> {
    await this.engine.whilePaused();
    await this.planStep(stepId, job as JobRef<unknown, unknown>, options);
    return (await this.engine.runJob(stepId, input)) as O;
  }

  /** Runs jobs side by side as one group; returns their results in order once every member succeeded. */
  async parallel<const T extends readonly ParallelMember[]>(
    groupId: string,
    members: T,
    options?: { pivot?: boolean }
  ): Promise<ResultsOf<T>> {
    await this.engine.whilePaused();
    for (const m of members) {
      await this.planStep(m.id, m.job, { ...m.options, pivot: options?.pivot }, groupId);
    }
    const results = await this.engine.runGroup(
      members.map((m) => (unit: string[]) => this.engine.runJob(m.id, m.input, unit)),
      options?.pivot
    );
    return results as ResultsOf<T>;
  }
}

/**
 * Runs `body` as a saga named `name`. Returns the report when the body completes; when a job fails, the body throws
 * an ApplicationFailure, or the workflow is cancelled, unwinds and ends the workflow failed (or cancelled) with the
 * report in the failure's details — the same end as a definition run (`Engine.conclude`).
 */
export async function runSaga(
  name: string,
  body: (saga: Saga) => Promise<void>,
  options: SagaOptions = {}
): Promise<ProcessReport> {
  const state = initialState(initialReport(workflowInfo().workflowId, name, []));
  const engine = new Engine(state, {
    revertMode: options.revertMode ?? 'sequential',
    onRevertFailure: options.onRevertFailure ?? 'continue',
    ...(options.priority !== undefined ? { priority: options.priority } : {}),
  });
  // Jobs get the results they are given as input, none from the context: the history grows with the steps.
  engine.register([], []);
  try {
    await body(new Saga(engine, options));
  } catch (err) {
    return engine.conclude(err);
  }
  return engine.finish('succeeded');
}
