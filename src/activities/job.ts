/**
 * The job definition API. A job is a module-level value with a stable name, a zod input schema, a `run`, an optional
 * `revert`, and default options. The worker turns each job into two Temporal activities (`<name>.run`,
 * `<name>.revert`).
 *
 * @example
 * ```ts
 * export const allocateVolume = defineJob({
 *   name: 'allocate-volume',
 *   input: z.object({ name: z.string(), sizeMb: z.number().int().positive() }),
 *   options: { timeout: '30s', retry: { maximumAttempts: 3, nonRetryableErrorTypes: ['CapacityExceededError'] } },
 *   async run(input, ctx) {
 *     const path = await allocate(input.name, input.sizeMb, ctx.idempotencyKey);
 *     ctx.setDetail(`allocated ${input.sizeMb} MB at ${path}`);
 *     return { path };
 *   },
 *   async revert(input, result, ctx) {
 *     await release(input.name);
 *   },
 * });
 * ```
 */
import type { z } from 'zod';
import type { JobOptions } from '../shared/definition';

/** What a job's run and revert can see and do. */
export interface JobContext {
  /**
   * Stable across retries and worker crashes: `<processId>/<stepId>` for the run, `<processId>/<stepId>/revert` for
   * the revert. Use it to make effects idempotent (a retried attempt must not apply its effect twice).
   */
  readonly idempotencyKey: string;
  readonly processId: string;
  readonly stepId: string;
  /** The current attempt, starting at 1. */
  readonly attempt: number;
  /**
   * When Temporal scheduled this attempt, in ms since the epoch by the server's clock. Every attempt of a step's run
   * is scheduled before the step's revert is, and the revert before any attempt of a later process with the same id:
   * a revert that records its own `scheduledAt` lets a run refuse to apply its effect when it is an attempt Temporal
   * gave up on that is still running (a worker that stalled, a wait that ended late) and the step was reverted since.
   */
  readonly scheduledAt: number;
  /** Results of the steps that completed before this one, by step id. */
  readonly results: Readonly<Record<string, unknown>>;
  /** Record progress; a job with a heartbeat timeout must call this more often than that timeout. */
  heartbeat(details?: unknown): void;
  /** Details of the last heartbeat of a previous attempt, to resume from. */
  readonly lastHeartbeat: unknown;
  /**
   * Aborted when the process is cancelled (delivered on the next heartbeat), or when this attempt passes its own
   * deadline: its timeout since this worker started it, or its heartbeat timeout since the last heartbeat (reason: an
   * ApplicationFailure of type `JipperAttemptExpired`). Temporal has then given up on the attempt and may already be
   * running its retry, or the process's revert: stop, and write nothing more. A check just before a write still races
   * with a stall between the two; an effect a revert undoes should also be fenced (see {@link scheduledAt}).
   */
  readonly signal: AbortSignal;
  /** Sleeps, waking early with the signal's reason when {@link signal} aborts. */
  sleep(ms: number): Promise<void>;
  /** Human-readable detail for the report ("allocated 64 MB at /srv/vol-1"). The last call wins. */
  setDetail(detail: string): void;
  /** Logs through the worker's logger, tagged with the process and step. */
  readonly log: {
    info(message: string, meta?: Record<string, unknown>): void;
    warn(message: string, meta?: Record<string, unknown>): void;
  };
}

export interface RevertContext extends JobContext {
  /** True when this job is the one that failed (its step set `revertOnFailure`). */
  readonly afterFailure: boolean;
}

export interface JobDefinition<S extends z.ZodType = z.ZodType, O = unknown> {
  /** Stable kebab-case name; renaming a job is a versioning event for running processes. */
  readonly name: string;
  readonly description?: string;
  /** Input schema; input is parsed where it enters the activity, and a failure is non-retryable. */
  readonly input: S;
  /** Optional output schema; when set, the run's result is checked before it is recorded. */
  readonly output?: z.ZodType<O>;
  run(input: z.infer<S>, ctx: JobContext): Promise<O>;
  /** Undo the job. `result` is undefined when the job itself failed (and its step set `revertOnFailure`). */
  revert?(input: z.infer<S>, result: O | undefined, ctx: RevertContext): Promise<void>;
  /** Defaults: timeout, retry, heartbeat timeout, revertOnFailure, and the revert's own timeout and retry. */
  readonly options?: JobOptions;
}

/** Any job, whatever its types (for registries and libraries). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a registry holds jobs of every input/output type
export type AnyJob = JobDefinition<z.ZodType, any>;

/** Defines a job. Identity function with inference: the input type flows from the schema. */
export function defineJob<S extends z.ZodType, O>(definition: JobDefinition<S, O>): JobDefinition<S, O> {
  if (!/^[a-z0-9][a-z0-9._-]*$/.test(definition.name)) {
    throw new TypeError(`job name "${definition.name}" must be lower-case letters, digits, ".", "-" or "_"`);
  }
  return definition;
}

/** The input type of a job. */
export type JobInput<J> = J extends JobDefinition<infer S, unknown> ? z.infer<S> : never;
/** The result type of a job. */
export type JobResult<J> = J extends JobDefinition<z.ZodType, infer O> ? O : never;
