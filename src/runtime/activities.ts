/**
 * The activities a job becomes: `<name>.run` and `<name>.revert`. Each resolves the `$secret` references of its input
 * from the worker's secret provider, parses the input where it enters (a schema failure is never retried), gives the
 * job its context (idempotency key, attempt, heartbeat, an abort signal that also keeps the attempt's own deadline,
 * the results it uses), checks the result's shape and size, and rethrows the job's errors as Temporal failures whose
 * type is the error's class name and whose details carry the attempt and the detail the job wrote. Secret values are
 * redacted from all it sends on (`redact.ts`).
 */
import { performance } from 'node:perf_hooks';
import { ApplicationFailure, CancelledFailure, CompleteAsyncError, Context } from '@temporalio/activity';
import type { JobCall, JobFailureDetails, JobOutcome, ProbeOutcome, RevertCall } from '../shared/calls';
import {
  INVALID_INPUT_TYPE,
  INVALID_OUTPUT_TYPE,
  PLAN_MISMATCH_TYPE,
  RESULT_TOO_LARGE_TYPE,
  SECRET_MISSING_TYPE,
  SECRET_UNAVAILABLE_TYPE,
  UNDECLARED_RESULT_TYPE,
} from '../shared/errors';
import { MAX_DETAIL_CHARS, MAX_JOB_RESULT_BYTES, MAX_PROCESS_RESULTS_BYTES } from '../shared/limits';
import { formatPath } from '../shared/plan';
import { getPath, isSecretRef, secretMarker } from '../shared/refs';
import { isRecord, oneLine } from '../shared/text';
import { AttemptDeadline } from './attempt-deadline';
import { completeLaterFor, completeLaterRefused } from './complete-later';
import { processStepIds } from './process-steps';
import type { AnyJob, JobContext, RevertContext } from '../jobs/job';
import { Redactor } from './redact';
import type { SecretProvider } from './secrets';
import { MIN_SECRET_LENGTH, SECRET_REFUSED_TYPE, secretRouteRefusal } from './secrets';

function parseInput(job: AnyJob, call: JobCall, input: unknown, redactor: Redactor): unknown {
  const parsed = job.input.safeParse(input);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((i) => `${formatPath(['args', ...i.path])}: ${i.message}`).join('; ');
  throw ApplicationFailure.create({
    type: INVALID_INPUT_TYPE,
    message: redactor.text(`invalid input for job "${job.name}" at step "${call.stepId}": ${problems}`),
    nonRetryable: true,
  });
}

/**
 * The call's input with every `{ $secret: name }` replaced by the secret's value from `secrets`; each value is added
 * to the redactor. A secret the provider does not have fails the job for good (a name the workers do not know will not
 * appear by retrying); a provider that cannot answer fails this attempt only.
 */
async function resolveSecrets(call: JobCall, secrets: SecretProvider, redactor: Redactor): Promise<unknown> {
  const found = new Map<string, string>();
  const collect = (value: unknown, at: string): void => {
    if (isSecretRef(value)) {
      if (!found.has(value.$secret)) found.set(value.$secret, at);
    } else if (Array.isArray(value)) value.forEach((item, i) => collect(item, `${at}[${i}]`));
    else if (isRecord(value)) for (const [k, v] of Object.entries(value)) collect(v, `${at}.${k}`);
  };
  collect(call.input, 'args');
  if (!found.size) return call.input;
  const values = new Map<string, string>();
  for (const [name, at] of found) {
    const refusal = secretRouteRefusal(secrets.routes, name, call.job);
    if (refusal) {
      throw ApplicationFailure.create({
        type: SECRET_REFUSED_TYPE,
        message: `${refusal} (at ${at})`,
        nonRetryable: true,
      });
    }
    let value: string | undefined;
    try {
      value = await secrets.get(name);
    } catch (err) {
      throw ApplicationFailure.create({
        type: SECRET_UNAVAILABLE_TYPE,
        message: redactor.text(`cannot read secret "${name}" (at ${at}) from ${secrets.description}: ${oneLine(err)}`),
        nonRetryable: false,
      });
    }
    if (value === undefined) {
      throw ApplicationFailure.create({
        type: SECRET_MISSING_TYPE,
        message: `secret "${name}" (at ${at} of step "${call.stepId}") is not set on this worker: ${secrets.description} has no such secret`,
        nonRetryable: true,
      });
    }
    if (value.length < MIN_SECRET_LENGTH) {
      throw ApplicationFailure.create({
        type: SECRET_REFUSED_TYPE,
        message: `secret "${name}" (at ${at} of step "${call.stepId}") is ${value.length} characters long: a secret under ${MIN_SECRET_LENGTH} would redact ordinary text and is easy to guess; set a longer one`,
        nonRetryable: true,
      });
    }
    values.set(name, value);
    redactor.add(value, name);
  }
  const replace = (value: unknown): unknown => {
    if (isSecretRef(value)) return values.get(value.$secret);
    if (Array.isArray(value)) return value.map(replace);
    if (isRecord(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, replace(v)]));
    return value;
  };
  return replace(call.input);
}

/**
 * The job's result with each field it marks secret (`secretResult`) replaced by `‹secret <step>.<path>›`; the values
 * are added to the redactor, so they are removed wherever else they appear too.
 */
function hideSecretFields(job: AnyJob, stepId: string, result: unknown, redactor: Redactor): unknown {
  if (!job.secretResult?.length || result === null || typeof result !== 'object') return result;
  const copy = structuredClone(result) as Record<string, unknown>;
  for (const path of job.secretResult) {
    const segments = path.split('.');
    const value = getPath(copy, segments);
    if (value === undefined || value === null) continue;
    const name = `${stepId}.${path}`;
    const leaves: string[] = [];
    const gather = (v: unknown): void => {
      if (typeof v === 'string' || typeof v === 'number' || typeof v === 'bigint') leaves.push(String(v));
      else if (Array.isArray(v)) v.forEach(gather);
      else if (isRecord(v)) Object.values(v).forEach(gather);
    };
    gather(value);
    for (const leaf of leaves) redactor.add(leaf, name);
    const parent = getPath(copy, segments.slice(0, -1));
    const last = segments[segments.length - 1] as string;
    if (Array.isArray(parent) && /^\d+$/.test(last)) parent[Number(last)] = secretMarker(name);
    else if (isRecord(parent)) parent[last] = secretMarker(name);
  }
  return copy;
}

/** Thrown (as a non-retryable failure) when a job reads a result its step did not declare. */
function undeclaredResult(call: JobCall, stepId: string): ApplicationFailure {
  return ApplicationFailure.create({
    type: UNDECLARED_RESULT_TYPE,
    message: `job "${call.job}" at step "${call.stepId}" read the result of step "${stepId}" from ctx.results, which its step does not declare: add \`uses: [${stepId}]\` to the step (or take the value with $from)`,
    nonRetryable: true,
  });
}

/**
 * The results a job may read: those its step declares, as a plain object. A call made before Jipper passed only
 * declared results has no `uses` and carries them all. Reading another step of the process that the step does not
 * declare throws (non-retryably) with what to declare: each such step id is a non-enumerable getter, so JSON, spread,
 * `structuredClone`, `util.inspect` and matchers see only the declared results, and any other key (`toJSON`, `then`,
 * `asymmetricMatch`, a symbol) answers as on a plain object. Without the process's step ids nothing throws.
 */
function declaredResults(call: JobCall, stepIds: readonly string[] | undefined): Record<string, unknown> {
  const { uses } = call;
  if (uses === undefined) return call.results;
  const results: Record<string, unknown> = { ...call.results };
  const allowed = new Set(uses);
  for (const id of stepIds ?? []) {
    if (id === call.stepId || allowed.has(id) || Object.hasOwn(results, id)) continue;
    Object.defineProperty(results, id, {
      get: () => {
        throw undeclaredResult(call, id);
      },
      enumerable: false,
      configurable: true,
    });
  }
  return results;
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

/**
 * The context of one attempt of a job's run, revert or probe, with the attempt's own deadline (`attempt-deadline.ts`):
 * its `signal` aborts when Temporal's cancellation arrives or when the attempt passes its timeout, whichever is first.
 * `startedAt` is when the activity began (`performance.now()`), before its secrets were read.
 */
function startAttempt(
  call: JobCall,
  key: string,
  redactor: Redactor,
  startedAt: number,
  stepIds: readonly string[] | undefined,
  member?: LocalRunAttempt
): Attempt {
  const activity = Context.current();
  const { info } = activity;
  const deadline = new AttemptDeadline({
    startToCloseTimeoutMs: member?.timeoutMs ?? info.startToCloseTimeoutMs,
    heartbeatTimeoutMs: member ? undefined : info.heartbeatTimeoutMs,
    startedAt,
  });
  const attemptNo = info.attempt + (call.attemptBase ?? 0);
  const signal = AbortSignal.any([activity.cancellationSignal, deadline.signal]);
  let detail: string | undefined;
  const meta = { processId: call.processId, stepId: call.stepId, job: call.job };
  deadline.signal.addEventListener(
    'abort',
    () => {
      const reason = (deadline.signal.reason as Error).message;
      activity.log.warn(`attempt ${attemptNo} of ${key} (job "${call.job}"): ${reason}; its signal is aborted`, meta);
    },
    { once: true }
  );
  const ctx: JobContext = {
    idempotencyKey: key,
    processId: call.processId,
    stepId: call.stepId,
    attempt: attemptNo,
    scheduledAt: info.currentAttemptScheduledTimestampMs,
    results: declaredResults(call, stepIds),
    heartbeat: (details?: unknown) => {
      deadline.beat();
      activity.heartbeat(redactor.value(details));
    },
    lastHeartbeat: info.heartbeatDetails as unknown,
    signal,
    sleep: (ms: number) => sleep(ms, signal),
    completeLater: completeLaterRefused(call, 'probe'),
    setDetail: (text: string) => {
      detail =
        text.length > MAX_DETAIL_CHARS
          ? `${text.slice(0, MAX_DETAIL_CHARS)}… (cut at ${MAX_DETAIL_CHARS} characters)`
          : text;
    },
    log: {
      info: (message, extra) => {
        activity.log.info(redactor.text(message), redactor.value({ ...meta, ...extra }));
      },
      warn: (message, extra) => {
        activity.log.warn(redactor.text(message), redactor.value({ ...meta, ...extra }));
      },
    },
  };
  const redactedDetail = () => (detail === undefined ? undefined : redactor.text(detail));
  const failed = async (err: unknown): Promise<never> => {
    const temporal = activity.cancellationSignal;
    // A job of a local run has its own timeout, not the activity's: no cancellation of Temporal's follows it.
    if (deadline.expired && !temporal.aborted && !member) {
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
    const text = redactedDetail();
    throw toJobFailure(redactor.error(err), { attempt: attemptNo, ...(text !== undefined ? { detail: text } : {}) });
  };
  return { ctx, detail: redactedDetail, failed, end: () => deadline.dispose() };
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

/** What the version check needs of the worker's registry: each job's fingerprint (see `JobRegistry.fingerprint`). */
export interface Fingerprints {
  fingerprint(name: string): string | undefined;
  get(name: string): unknown;
}

/**
 * Refuses the first step of a process planned from other versions of its jobs than this worker's (see
 * {@link JobCall.fingerprints}): a job this worker does not have, or one whose revert or default options differ.
 */
function checkFingerprints(call: JobCall, registry: Fingerprints): void {
  if (!call.fingerprints) return;
  const differ = Object.entries(call.fingerprints)
    .filter(([name, fingerprint]) => registry.fingerprint(name) !== fingerprint)
    .map(([name]) =>
      registry.get(name)
        ? `"${name}" (its revert or default options differ)`
        : `"${name}" (this worker on task queue "${Context.current().info.taskQueue}" does not have it)`
    );
  if (!differ.length) return;
  throw ApplicationFailure.create({
    type: PLAN_MISMATCH_TYPE,
    message: `the process was planned by a client whose job libraries differ from this worker's: ${differ.join(', ')}; run the same job libraries on clients and workers, then start it again`,
    nonRetryable: true,
  });
}

/** A job run inside a local run (`local-run.ts`): the timeout of its own attempt, and whether it was the run's first. */
export interface LocalRunAttempt {
  timeoutMs: number;
  first: boolean;
}

export async function runJob(
  job: AnyJob,
  call: JobCall,
  registry: Fingerprints,
  secrets: SecretProvider,
  member?: LocalRunAttempt
): Promise<JobOutcome> {
  const startedAt = performance.now();
  const { info } = Context.current();
  const scheduledAt = info.currentAttemptScheduledTimestampMs;
  const waited = Math.round(Date.now() - scheduledAt);
  // A test's mock environment has no real schedule time: a wait of more than a week is not one. A local run's later
  // jobs did not wait for a schedule: they follow the one before.
  const waitedMs = scheduledAt > 0 && waited >= 0 && waited < 7 * 86_400_000 && (member?.first ?? true) ? waited : 0;
  checkFingerprints(call, registry);
  const redactor = new Redactor();
  const input = parseInput(job, call, await resolveSecrets(call, secrets, redactor), redactor);
  const attempt = startAttempt(
    call,
    `${call.processId}/${call.stepId}`,
    redactor,
    startedAt,
    await processStepIds(call),
    member
  );
  const { detail, failed, end } = attempt;
  const ctx: JobContext = {
    ...attempt.ctx,
    completeLater:
      member || info.isLocal
        ? completeLaterRefused(call, 'run as a local job')
        : completeLaterFor(call, (details) => attempt.ctx.heartbeat(details)),
  };
  try {
    let result: unknown = await job.run(input, ctx);
    if (job.output) {
      const checked = job.output.safeParse(result);
      if (!checked.success) {
        throw ApplicationFailure.create({
          type: INVALID_OUTPUT_TYPE,
          message: `job "${job.name}" returned a result that fails its output schema: ${checked.error.issues.map((i) => `${formatPath(['result', ...i.path])}: ${i.message}`).join('; ')}`,
          nonRetryable: true,
        });
      }
      result = checked.data;
    }
    result = redactor.value(hideSecretFields(job, call.stepId, result, redactor));
    const text = detail();
    const outcome: JobOutcome = {
      result: result ?? null,
      attempt: ctx.attempt,
      ...(text !== undefined ? { detail: text } : {}),
      ...(waitedMs >= 1 ? { waitedMs } : {}),
    };
    checkResultSize(job, call, outcome);
    return outcome;
  } catch (err) {
    // The run handed out a completion token (ctx.completeLater): the attempt stays open until it is used.
    if (err instanceof CompleteAsyncError) throw err;
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
      type: INVALID_OUTPUT_TYPE,
      message: `job "${job.name}" at step "${call.stepId}" returned a result that is not JSON: ${(err as Error).message}`,
      nonRetryable: true,
    });
  }
  const bytes = Buffer.byteLength(serialized);
  // The workflow says how much room the process's results have left; calls made before it did carry every result.
  const total =
    call.resultsBytes !== undefined
      ? bytes + call.resultsBytes
      : bytes + Buffer.byteLength(JSON.stringify(call.results));
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

export async function revertJob(job: AnyJob, call: RevertCall, secrets: SecretProvider): Promise<JobOutcome> {
  const startedAt = performance.now();
  const redactor = new Redactor();
  const input = parseInput(job, call, await resolveSecrets(call, secrets, redactor), redactor);
  const key = `${call.processId}/${call.stepId}/revert`;
  const { ctx, detail, failed, end } = startAttempt(call, key, redactor, startedAt, await processStepIds(call));
  const revertCtx: RevertContext = {
    ...ctx,
    afterFailure: call.afterFailure,
    completeLater: completeLaterRefused(call, 'revert'),
  };
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

const PROBE_ANSWERS = new Set(['applied', 'not-applied', 'unknown']);

/** Asks a job's probe whether its effect was applied after an ambiguous failure (see `JobDefinition.probe`). */
export async function probeJob(job: AnyJob, call: JobCall, secrets: SecretProvider): Promise<ProbeOutcome> {
  const startedAt = performance.now();
  const redactor = new Redactor();
  const input = parseInput(job, call, await resolveSecrets(call, secrets, redactor), redactor);
  const { ctx, detail, failed, end } = startAttempt(
    call,
    `${call.processId}/${call.stepId}`,
    redactor,
    startedAt,
    await processStepIds(call)
  );
  try {
    const answer = await job.probe?.(input, ctx);
    if (typeof answer !== 'string' || !PROBE_ANSWERS.has(answer)) {
      throw ApplicationFailure.create({
        type: INVALID_OUTPUT_TYPE,
        message: `the probe of job "${job.name}" answered ${JSON.stringify(answer)}; a probe answers "applied", "not-applied" or "unknown"`,
        nonRetryable: true,
      });
    }
    const text = detail();
    return { answer: answer, ...(text !== undefined ? { detail: text } : {}) };
  } catch (err) {
    return await failed(err);
  } finally {
    end();
  }
}
