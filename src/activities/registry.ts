/**
 * Job libraries and the registry a worker builds from them. Each job becomes two activities, `<name>.run` and
 * `<name>.revert`; the registry also provides Jipper's own plan and describe activities, which the workflows call to
 * check definitions and learn each job's options before anything runs.
 */
import { createHash } from 'node:crypto';
import { ApplicationFailure, CancelledFailure, Context } from '@temporalio/activity';
import type { JobCall, JobFailureDetails, JobOutcome, RevertCall } from '../shared/calls';
import { DESCRIBE_ACTIVITY, PLAN_ACTIVITY, revertActivityName, runActivityName } from '../shared/calls';
import type { JobMeta } from '../shared/options';
import type { JobFacts } from '../shared/plan';
import { formatPath } from '../shared/plan';
import { INVALID_INPUT_TYPE } from '../shared/report';
import type { AnyJob, JobContext, RevertContext } from './job';
import type { Validation } from './validate';
import { validateDefinition } from './validate';
import { AttemptDeadline } from './attempt-deadline';

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

/**
 * Most a job's result (with its detail) may weigh, serialized: 256 KiB. Results live in the process's history, in every
 * later job's context and in the report, and Temporal rejects a payload over 2 MB — a run whose next activity or
 * continue-as-new would carry too much cannot make progress at all. A job over this limit fails, non-retryably, with
 * {@link RESULT_TOO_LARGE_TYPE}; return a reference (a path or URL) to large data instead.
 */
export const MAX_JOB_RESULT_BYTES = 256 * 1024;
/** Most the results of all the jobs of a process may weigh together, serialized: 512 KiB (see above). */
export const MAX_PROCESS_RESULTS_BYTES = 512 * 1024;
/** Failure type of a job whose result is over {@link MAX_JOB_RESULT_BYTES} or {@link MAX_PROCESS_RESULTS_BYTES}. */
export const RESULT_TOO_LARGE_TYPE = 'JipperResultTooLarge';
/**
 * Failure type of a process's first job when its worker disagrees with the plan the process was started with: the
 * client that planned it (see {@link JobRegistry.fingerprint}) had other versions of the jobs than this worker, or jobs
 * this worker does not have. Never retried; nothing has run yet.
 */
export const PLAN_MISMATCH_TYPE = 'JipperPlanMismatch';
/** A detail longer than this many characters is cut (it goes into the report and the Web UI, not into storage). */
export const MAX_DETAIL_CHARS = 8_000;

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- Temporal's activity map holds functions of any signature
type ActivityFunction = (...args: any[]) => Promise<unknown>;

export class JobRegistry {
  private readonly jobs = new Map<string, { job: AnyJob; library: string }>();
  private readonly fingerprints = new Map<string, string>();

  constructor(libraries: readonly JobLibrary[]) {
    for (const library of libraries) {
      for (const job of library.jobs) {
        const existing = this.jobs.get(job.name);
        if (existing) {
          throw new DuplicateJobError(
            `job "${job.name}" is defined twice: in library "${existing.library}" and in library "${library.name}"`
          );
        }
        this.jobs.set(job.name, { job, library: library.name });
      }
    }
  }

  get(name: string): AnyJob | undefined {
    return this.jobs.get(name)?.job;
  }

  names(): string[] {
    return [...this.jobs.keys()].sort();
  }

  meta(name: string): JobMeta | undefined {
    const job = this.get(name);
    return job && { name: job.name, hasRevert: typeof job.revert === 'function', defaults: job.options ?? {} };
  }

  /**
   * What a plan takes from this registry about a job — whether it has a revert, and its default options — as a short
   * hash. A client that plans a process (so the worker need not) sends it with the job's facts; the process's first
   * step carries the fingerprints of all its jobs, and its activity refuses to run when this worker's differ, rather
   * than let the process run with options or reverts the client assumed and the workers do not have.
   */
  fingerprint(name: string): string | undefined {
    const known = this.fingerprints.get(name);
    if (known !== undefined) return known;
    const meta = this.meta(name);
    if (!meta) return undefined;
    const hash = createHash('sha256')
      .update(JSON.stringify([meta.name, meta.hasRevert, meta.defaults]))
      .digest('base64url')
      .slice(0, 16);
    this.fingerprints.set(name, hash);
    return hash;
  }

  /** What this registry knows about the named (registered) jobs, by name: for a client to send with a start request. */
  facts(names: readonly string[]): Record<string, JobFacts> {
    const facts: Record<string, JobFacts> = {};
    for (const name of names) {
      const meta = this.meta(name);
      const fingerprint = this.fingerprint(name);
      if (meta && fingerprint !== undefined) facts[name] = { ...meta, fingerprint };
    }
    return facts;
  }

  validate(definition: unknown, params: Record<string, unknown> = {}): Validation {
    return validateDefinition(definition, this, params);
  }

  /** The activities a worker registers: every job's run and revert, plus Jipper's plan and describe. */
  activities(): Record<string, ActivityFunction> {
    const activities: Record<string, ActivityFunction> = {
      [PLAN_ACTIVITY]: async (definition: unknown, params: Record<string, unknown>) => {
        const { problems, params: merged, jobs } = this.validate(definition, params);
        return { problems, params: merged, jobs };
      },
      [DESCRIBE_ACTIVITY]: async (names: string[]) => {
        const unknown = names.filter((n) => !this.get(n));
        if (unknown.length) {
          throw ApplicationFailure.nonRetryable(
            `unknown job(s) ${unknown.map((n) => `"${n}"`).join(', ')}; known jobs: ${this.names().join(', ')}`,
            'JipperUnknownJob'
          );
        }
        return names.map((n) => this.meta(n));
      },
    };
    for (const { job } of this.jobs.values()) {
      activities[runActivityName(job.name)] = (call: JobCall) => runJob(job, call, this);
      if (job.revert) activities[revertActivityName(job.name)] = (call: RevertCall) => revertJob(job, call);
    }
    return activities;
  }
}

function parseInput(job: AnyJob, call: JobCall): unknown {
  const parsed = job.input.safeParse(call.input);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((i) => `${formatPath(['args', ...i.path])}: ${i.message}`).join('; ');
  throw ApplicationFailure.create({
    type: INVALID_INPUT_TYPE,
    message: `invalid input for job "${job.name}" at step "${call.stepId}": ${problems}`,
    nonRetryable: true,
  });
}

/** Sleeps `ms`, rejecting with the signal's reason as soon as it aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason as Error);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason as Error);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * How long a job that failed past its own deadline waits for Temporal's cancellation before its failure is reported
 * anyway: sdk-core's local timer gives it 5 s after the timeout (2 s to spare). Outside a worker (a
 * MockActivityEnvironment, say) no cancellation comes.
 */
const TEMPORAL_NOTICE_MS = 7_000;

interface Attempt {
  ctx: JobContext;
  detail: () => string | undefined;
  /**
   * Settles a job that threw. Past the attempt's own deadline Temporal has given up on the attempt (or is about to):
   * its outcome is Temporal's timeout, not whatever the job threw when its signal aborted, so this waits until
   * Temporal's own cancellation reaches the attempt (the SDK's timer fires at most a few seconds later; its completion
   * is then not even reported) and throws that — or, if none comes within {@link TEMPORAL_NOTICE_MS}, the job's error.
   * Otherwise it throws the job's error as {@link toJobFailure} does.
   */
  failed: (err: unknown) => Promise<never>;
  /** Stops the attempt's deadline timer. */
  end: () => void;
}

function startAttempt(call: JobCall, key: string): Attempt {
  const activity = Context.current();
  const { info } = activity;
  const deadline = new AttemptDeadline({
    startToCloseTimeoutMs: info.startToCloseTimeoutMs,
    heartbeatTimeoutMs: info.heartbeatTimeoutMs,
  });
  const signal = AbortSignal.any([activity.cancellationSignal, deadline.signal]);
  let detail: string | undefined;
  const meta = { processId: call.processId, stepId: call.stepId, job: call.job };
  deadline.signal.addEventListener(
    'abort',
    () => {
      const reason = (deadline.signal.reason as Error).message;
      activity.log.warn(
        `attempt ${info.attempt} of ${key} (job "${call.job}"): ${reason}; its signal is aborted`,
        meta
      );
    },
    { once: true }
  );
  const ctx: JobContext = {
    idempotencyKey: key,
    processId: call.processId,
    stepId: call.stepId,
    attempt: info.attempt,
    scheduledAt: info.currentAttemptScheduledTimestampMs,
    results: call.results,
    heartbeat: (details?: unknown) => {
      deadline.beat();
      activity.heartbeat(details);
    },
    lastHeartbeat: info.heartbeatDetails as unknown,
    signal,
    sleep: (ms: number) => sleep(ms, signal),
    setDetail: (text: string) => {
      detail =
        text.length > MAX_DETAIL_CHARS
          ? `${text.slice(0, MAX_DETAIL_CHARS)}… (cut at ${MAX_DETAIL_CHARS} characters)`
          : text;
    },
    log: {
      info: (message, extra) => {
        activity.log.info(message, { ...meta, ...extra });
      },
      warn: (message, extra) => {
        activity.log.warn(message, { ...meta, ...extra });
      },
    },
  };
  const failed = async (err: unknown): Promise<never> => {
    const temporal = activity.cancellationSignal;
    if (deadline.expired && !temporal.aborted) {
      await new Promise<void>((resolve) => {
        const gaveUp = setTimeout(resolve, TEMPORAL_NOTICE_MS);
        temporal.addEventListener(
          'abort',
          () => {
            clearTimeout(gaveUp);
            resolve();
          },
          { once: true }
        );
      });
    }
    if (deadline.expired && temporal.aborted) throw temporal.reason;
    const text = detail;
    throw toJobFailure(err, { attempt: info.attempt, ...(text !== undefined ? { detail: text } : {}) });
  };
  return { ctx, detail: () => detail, failed, end: () => deadline.dispose() };
}

/**
 * Rethrows a job's error as an ApplicationFailure that keeps its type (the error class name, so a retry policy's
 * `nonRetryableErrorTypes` still applies) and carries the attempt and the detail the job wrote. Cancellations pass
 * through untouched so Temporal reports them as cancellations.
 */
function toJobFailure(err: unknown, details: JobFailureDetails): unknown {
  if (err instanceof CancelledFailure) return err;
  if (err instanceof ApplicationFailure) {
    const failure = ApplicationFailure.create({
      type: err.type ?? 'Error',
      message: err.message,
      nonRetryable: err.nonRetryable ?? false,
      details: [details],
      // eslint-disable-next-line @typescript-eslint/no-unsafe-assignment -- Temporal's Duration type comes from `ms`
      ...(err.nextRetryDelay !== undefined ? { nextRetryDelay: err.nextRetryDelay } : {}),
      ...(err.cause instanceof Error ? { cause: err.cause } : {}),
    });
    failure.stack = err.stack;
    return failure;
  }
  if (err instanceof Error) {
    const type = err.name !== 'Error' ? err.name : err.constructor.name;
    const failure = ApplicationFailure.create({ type, message: err.message, details: [details] });
    failure.stack = err.stack;
    return failure;
  }
  return ApplicationFailure.create({ type: 'Error', message: String(err), details: [details] });
}

/**
 * Refuses the first step of a process planned from other versions of its jobs than this worker's (see
 * {@link JobCall.fingerprints}): a job this worker does not have, or one whose revert or default options differ.
 */
function checkFingerprints(call: JobCall, registry: JobRegistry): void {
  if (!call.fingerprints) return;
  const differ = Object.entries(call.fingerprints)
    .filter(([name, fingerprint]) => registry.fingerprint(name) !== fingerprint)
    .map(([name]) =>
      registry.get(name) ? `"${name}" (its revert or default options differ)` : `"${name}" (unknown here)`
    );
  if (!differ.length) return;
  throw ApplicationFailure.create({
    type: PLAN_MISMATCH_TYPE,
    message: `the process was planned by a client whose job libraries differ from this worker's: ${differ.join(', ')}; run the same job libraries on clients and workers, then start it again`,
    nonRetryable: true,
  });
}

async function runJob(job: AnyJob, call: JobCall, registry: JobRegistry): Promise<JobOutcome> {
  checkFingerprints(call, registry);
  const input = parseInput(job, call);
  const { ctx, detail, failed, end } = startAttempt(call, `${call.processId}/${call.stepId}`);
  try {
    let result: unknown = await job.run(input, ctx);
    if (job.output) {
      const checked = job.output.safeParse(result);
      if (!checked.success) {
        throw ApplicationFailure.create({
          type: 'JipperInvalidOutput',
          message: `job "${job.name}" returned a result that fails its output schema: ${checked.error.issues.map((i) => `${formatPath(['result', ...i.path])}: ${i.message}`).join('; ')}`,
          nonRetryable: true,
        });
      }
      result = checked.data;
    }
    const text = detail();
    const outcome: JobOutcome = {
      result: result ?? null,
      attempt: ctx.attempt,
      ...(text !== undefined ? { detail: text } : {}),
    };
    checkResultSize(job, call, outcome);
    return outcome;
  } catch (err) {
    return await failed(err);
  } finally {
    end();
  }
}

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(2)} MB`;

/** Fails the job, non-retryably, when its result could not travel through Temporal (see {@link MAX_JOB_RESULT_BYTES}). */
function checkResultSize(job: AnyJob, call: JobCall, outcome: JobOutcome): void {
  let serialized: string;
  try {
    serialized = JSON.stringify(outcome);
  } catch (err) {
    throw ApplicationFailure.create({
      type: 'JipperInvalidOutput',
      message: `job "${job.name}" at step "${call.stepId}" returned a result that is not JSON: ${(err as Error).message}`,
      nonRetryable: true,
    });
  }
  const bytes = Buffer.byteLength(serialized);
  const total = bytes + Buffer.byteLength(JSON.stringify(call.results));
  const tooLarge =
    bytes > MAX_JOB_RESULT_BYTES
      ? `the result of job "${job.name}" at step "${call.stepId}" is ${mb(bytes)}; a job's result may be at most ${mb(MAX_JOB_RESULT_BYTES)}`
      : total > MAX_PROCESS_RESULTS_BYTES
        ? `with the result of job "${job.name}" at step "${call.stepId}" (${mb(bytes)}) the results of this process would total ${mb(total)}; they may total at most ${mb(MAX_PROCESS_RESULTS_BYTES)}`
        : undefined;
  if (tooLarge) {
    throw ApplicationFailure.create({
      type: RESULT_TOO_LARGE_TYPE,
      message: `${tooLarge} (results are kept in the process's history and passed to later jobs): return a reference, such as a path or URL, to large data instead`,
      nonRetryable: true,
    });
  }
}

async function revertJob(job: AnyJob, call: RevertCall): Promise<JobOutcome> {
  const input = parseInput(job, call);
  const { ctx, detail, failed, end } = startAttempt(call, `${call.processId}/${call.stepId}/revert`);
  const revertCtx: RevertContext = { ...ctx, afterFailure: call.afterFailure };
  try {
    await job.revert?.(input, call.result, revertCtx);
    const text = detail();
    return { result: null, attempt: ctx.attempt, ...(text !== undefined ? { detail: text } : {}) };
  } catch (err) {
    return await failed(err);
  } finally {
    end();
  }
}
