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
import type { JobOptions } from '../schema/definition';

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
  /**
   * Ends the run without a result; the job is completed from outside (Temporal's async activity completion). Call it
   * as the run's last act, `return ctx.completeLater(async (token) => { await provider.charge({ ...input, token }); })`:
   * it makes a completion token, records on the attempt's heartbeat that the job awaits completion, passes the token
   * to `handOut` (which sends it to whoever is to answer) and then ends the run, freeing the worker. The job finishes
   * when someone calls `jipper complete <token>`, `completeJob`/`failJob` of `jipper/client`, or `jipper
   * callback-server`'s endpoint with it — even after this worker is gone. If `handOut` throws, the attempt fails as
   * usual (and is retried with a new token).
   *
   * The job keeps its timeout: not completed within it, the attempt times out (retried by its retry policy, else the
   * process unwinds). With a heartbeat timeout, whoever holds the token must heartbeat (`heartbeatJob`) more often.
   * The result given from outside becomes the job's result (later steps read it with `$from`, its revert gets it);
   * the job's output schema and `secretResult` do not apply to it. Only a run may complete later: in a revert or a
   * probe it fails the attempt.
   */
  completeLater<T = unknown>(handOut: (token: string) => Promise<void> | void): Promise<T>;
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

/** What a probe says of a job whose step failed in a way that may have left its effect. */
export type ProbeAnswer = 'applied' | 'not-applied' | 'unknown';

export interface JobDefinition<S extends z.ZodType = z.ZodType, O = unknown, N extends string = string> {
  /** Stable kebab-case name; renaming a job is a versioning event for running processes. */
  readonly name: N;
  readonly description?: string;
  /** Input schema; input is parsed where it enters the activity, and a failure is non-retryable. */
  readonly input: S;
  /** Optional output schema; when set, the run's result is checked before it is recorded. */
  readonly output?: z.ZodType<O>;
  run(input: z.infer<S>, ctx: JobContext): Promise<O>;
  /** Undo the job. `result` is undefined when the job itself failed (and its step set `revertOnFailure`). */
  revert?(input: z.infer<S>, result: O | undefined, ctx: RevertContext): Promise<void>;
  /**
   * After a failure that may have left the job's effect behind (a timeout, a worker lost mid-run, a cancellation while
   * it ran), says whether the effect was applied: `applied` (it is reverted with the rest, or past the pivot the
   * process goes on as if the job succeeded), `not-applied` (nothing to revert) or `unknown` (the process parks for a
   * person). It gets the job's input and the same context as a revert.
   */
  probe?(input: z.infer<S>, ctx: JobContext): Promise<ProbeAnswer>;
  /** Defaults: timeout, retry, heartbeat timeout, revertOnFailure, and the revert's own timeout and retry. */
  readonly options?: JobOptions;
  /**
   * Fields of the result that are secret, as dot paths (`password`, `credentials.token`; digits index arrays). Their
   * values never leave the worker: the result records `‹secret <step>.<path>›` in their place, and the values are
   * redacted from the rest of the result, the detail, errors, heartbeats and logs. To hand a secret on to a later job,
   * store it where the workers' secret provider reads (a vault) and return `secretRef(name)`: the later job's `$from`
   * gets the reference, which its activity resolves.
   */
  readonly secretResult?: readonly string[];
  /**
   * At most this many runs start per second (`5/s`) or per minute (`30/m`), across every worker and process: the job's
   * runs go through a task queue of its own whose rate Temporal's matching service limits. The rate holds over time;
   * since matching keeps it per task-queue partition (four by default), a burst of up to about four may start at once.
   * The report shows how long each run waited.
   */
  readonly rateLimit?: string;
}

/** Any job, whatever its types (for registries and libraries). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a registry holds jobs of every input/output type
export type AnyJob = JobDefinition<z.ZodType, any>;

/**
 * Defines a job. Identity function with inference: the input type flows from the schema, and the name stays a literal
 * type, so typed references to the job (`jobRef`) are checked against it.
 */
export function defineJob<S extends z.ZodType, O, const N extends string>(
  definition: JobDefinition<S, O, N>
): JobDefinition<S, O, N> {
  if (!/^[a-z0-9][a-z0-9._-]*$/.test(definition.name)) {
    throw new TypeError(`job name "${definition.name}" must be lower-case letters, digits, ".", "-" or "_"`);
  }
  if (definition.rateLimit !== undefined) ratePerSecond(definition.rateLimit, definition.name);
  return definition;
}

/** A rate limit (`5/s`, `30/m`, `0.5/s`) as runs per second; throws a TypeError naming the job when malformed. */
export function ratePerSecond(rateLimit: string, job: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*\/\s*(s|sec|second|m|min|minute)$/.exec(rateLimit.trim());
  const count = match ? Number(match[1]) : NaN;
  if (!match || !(count > 0)) {
    throw new TypeError(
      `job "${job}": rateLimit "${rateLimit}" must be a count per second or minute, such as "5/s" or "30/m"`
    );
  }
  return match[2]?.startsWith('s') ? count : count / 60;
}

/** The input type of a job. */
export type JobInput<J> = J extends JobDefinition<infer S, unknown, string> ? z.infer<S> : never;
/** The result type of a job. */
export type JobResult<J> = J extends JobDefinition<z.ZodType, infer O, string> ? O : never;
/** The name of a job, as a literal type. */
export type JobName<J> = J extends JobDefinition<z.ZodType, unknown, infer N> ? N : never;
