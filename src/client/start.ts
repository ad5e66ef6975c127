/**
 * Starting processes: parse and check a definition where it enters, plan it with the workers' job libraries when
 * the client has them, and start it as a `jipperProcess` workflow (with search attributes, memo and a summary for the
 * Web UI). `runProcess` starts one and waits for its report. A schedule's runs are started from the same request
 * ({@link buildStartRequest}), so a scheduled run is an ordinary process.
 *
 * Run once: a process id names one process. Starting with an id that a run already holds is refused with
 * {@link ProcessAlreadyStartedError} (naming that run and how it stands), unless `rerun` is asked for and that run did
 * not succeed; two clients starting the same id at once get one process (Temporal decides, atomically).
 */
import type { Client, WorkflowHandleWithStartDetails } from '@temporalio/client';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import type { SearchAttributePair } from '@temporalio/common';
import { WorkflowIdConflictPolicy, WorkflowIdReusePolicy } from '@temporalio/common';
import { randomUUID } from 'node:crypto';
import type { JobRegistry } from '../runtime/registry';
import type { Duration, ProcessDefinition } from '../schema/definition';
import { durationSchema, processDefinitionSchema } from '../schema/definition';
import type { JobFacts } from '../shared/plan';
import { formatPath, jobNames } from '../shared/plan';
import type { ProcessReport, ProcessStatus } from '../shared/report';
import { isFinalStatus } from '../shared/report';
import { outlineMarkdown } from '../shared/render';
import { PROCESS_NAME_KEY, PROCESS_STATUS_KEY } from '../shared/search-attributes';
import type { jipperProcess } from '../workflows';
import type { ProcessInput } from '../workflows/process-workflow';
import type { ExistingRun } from './errors';
import { DefinitionError, PayloadTooLargeError, ProcessAlreadyStartedError, StartTimeError } from './errors';
import { waitForReport } from './report';
import {
  MAX_MEMO_DESCRIPTION_CHARS,
  MAX_START_PAYLOAD_BYTES,
  MAX_SUMMARY_CHARS,
  MAX_STATIC_DETAILS_CHARS,
} from '../shared/limits';
import { clip, durationToMs } from '../shared/text';

/** The workflow type every definition runs as. */
export const PROCESS_WORKFLOW_TYPE = 'jipperProcess';

export interface StartProcessOptions {
  taskQueue: string;
  /**
   * Workflow id; default `<name>-<uuid>`. An id names one process: a start with an id already used is refused
   * ({@link ProcessAlreadyStartedError}) unless `rerun` is set.
   */
  id?: string;
  /**
   * Start a new run under an id already used, but only when its last run did not succeed (it was reverted, failed,
   * cancelled, or terminated). A run still going, or one that succeeded, keeps the id: the start is refused. Default
   * `false`: any earlier run refuses it.
   */
  rerun?: boolean;
  /** Parameter values for this run (override the definition's `params`). */
  params?: Record<string, unknown>;
  /**
   * When given, the definition is also checked against this registry before starting (jobs, args, refs), and what the
   * registry knows about its jobs is sent with the start request, so the workflow plans it without asking the worker
   * (one local activity and one workflow activation fewer per process). Use the same job libraries as the workers: the
   * process's first job refuses a plan made from other versions of them.
   */
  registry?: JobRegistry;
  /** Where the definition came from, for error messages (a file path). */
  source?: string;
  /**
   * Begin at this time instead of now (Temporal's start delay). Until then the process is `waiting`: no job runs, and
   * cancelling it ends it `cancelled` with nothing to unwind. A time that is not in the future is refused
   * ({@link StartTimeError}).
   */
  startAt?: Date;
  /** Begin after this long (`30m`, `2h`, or milliseconds) instead of now; the same as `startAt` now + delay. */
  startDelay?: Duration;
  /**
   * Ask for Temporal's eager workflow start: the server hands the process's first workflow task straight back to a
   * worker in this process, skipping a task-queue round trip (docs/eager-start.md). Needs a `Client` made on the
   * worker's `NativeConnection` (the SDK refuses the start on another connection), a worker of this process polling
   * `taskQueue`, and a server that allows it (Jipper's dev server does); when the server or worker cannot, the start is
   * an ordinary one (the handle's `eagerlyStarted` says which). Ignored with a start delay. Default `false`.
   */
  eager?: boolean;
}

/** Parses and checks a definition where it enters; throws {@link DefinitionError} listing every problem. */
export function parseDefinition(
  raw: unknown,
  options: { registry?: JobRegistry; params?: Record<string, unknown>; source?: string } = {}
): ProcessDefinition {
  return planDefinition(raw, options).definition;
}

/**
 * Like {@link parseDefinition}, and with a registry also returns what it knows about each job the definition uses, for
 * the workflow to plan from (see `planFromFacts`).
 */
export function planDefinition(
  raw: unknown,
  options: { registry?: JobRegistry; params?: Record<string, unknown>; source?: string } = {}
): { definition: ProcessDefinition; jobs?: Record<string, JobFacts> } {
  const { registry } = options;
  if (registry) {
    const { problems, definition } = registry.validate(raw, options.params);
    if (problems.length || !definition) throw new DefinitionError(problems, options.source);
    return { definition, jobs: registry.facts(jobNames(definition)) };
  }
  const parsed = processDefinitionSchema.safeParse(raw);
  if (!parsed.success) {
    throw new DefinitionError(
      parsed.error.issues.map((i) => ({ path: formatPath(i.path), message: i.message })),
      options.source
    );
  }
  return { definition: parsed.data };
}

export interface StartRequestOptions {
  params?: Record<string, unknown>;
  /** Check the definition against this registry first (see {@link StartProcessOptions.registry}). */
  registry?: JobRegistry;
  source?: string;
  /**
   * Send what the registry knows about the jobs, so the workflow plans without the worker. Default `true`. A
   * schedule's runs leave it out: they start long after the request was made, when the workers' job libraries may
   * have changed, and a plan made from other versions is refused; their worker plans each run instead.
   */
  jobFacts?: boolean;
  /** The status search attribute the run starts with. Default `running`. */
  status?: ProcessStatus;
  /** Extra memo entries (a schedule's runs name their schedule). */
  memo?: Record<string, unknown>;
  /** Said before the definition's name in the Web UI's summary (`schedule nightly`). */
  summaryPrefix?: string;
}

/** Everything a `jipperProcess` start carries besides its id, task queue and start policies. */
export interface StartRequest {
  definition: ProcessDefinition;
  workflowType: typeof PROCESS_WORKFLOW_TYPE;
  args: [ProcessInput];
  memo: Record<string, unknown>;
  staticSummary: string;
  staticDetails: string;
  typedSearchAttributes: SearchAttributePair[];
}

/**
 * Checks and plans a definition and builds what its process starts with: the input (definition, params, and with a
 * registry the job facts when they fit), the memo, the Web UI's summary and details, and the search attributes. One
 * function for a start and a schedule's action, so the two cannot drift. Throws {@link DefinitionError} or
 * {@link PayloadTooLargeError}; nothing is sent.
 */
export function buildStartRequest(rawDefinition: unknown, options: StartRequestOptions = {}): StartRequest {
  const planned = planDefinition(rawDefinition, options);
  // The schedule block tells clients when to start runs; a run itself does not need it.
  const { schedule: _schedule, ...definition } = planned.definition;
  const jobs = options.jobFacts === false ? undefined : planned.jobs;
  // The run's params go first: the Web UI's Input pane shows them above the definition and its defaults.
  const unplanned: ProcessInput = { ...(options.params ? { params: options.params } : {}), definition };
  const memo = {
    process: definition.name,
    ...(definition.description ? { description: clip(definition.description, MAX_MEMO_DESCRIPTION_CHARS) } : {}),
    ...options.memo,
  };
  const memoBytes = Buffer.byteLength(JSON.stringify(memo));
  const unplannedBytes = Buffer.byteLength(JSON.stringify(unplanned)) + memoBytes;
  // The job facts travel only when they fit; a definition near the limit is planned by the worker instead.
  const input =
    jobs && unplannedBytes + Buffer.byteLength(JSON.stringify(jobs)) <= MAX_START_PAYLOAD_BYTES
      ? { ...unplanned, jobs }
      : unplanned;
  if (unplannedBytes > MAX_START_PAYLOAD_BYTES) {
    throw new PayloadTooLargeError(
      `${options.source ?? 'definition'}: the definition and params are ${(unplannedBytes / 1e6).toFixed(2)} MB; Jipper's limit is ${MAX_START_PAYLOAD_BYTES / 1e6} MB (Temporal rejects payloads over 2 MB). Pass large data by reference (a path or URL) instead.`
    );
  }
  const title = options.summaryPrefix ? `${definition.name} (${options.summaryPrefix})` : definition.name;
  return {
    definition,
    workflowType: PROCESS_WORKFLOW_TYPE,
    args: [input],
    memo,
    staticSummary: clip(
      definition.description ? `${title}: ${definition.description.replace(/\s+/g, ' ')}` : title,
      MAX_SUMMARY_CHARS
    ),
    staticDetails: clip(outlineMarkdown(definition, options.params), MAX_STATIC_DETAILS_CHARS),
    typedSearchAttributes: [
      { key: PROCESS_NAME_KEY, value: definition.name },
      { key: PROCESS_STATUS_KEY, value: options.status ?? 'running' },
    ],
  };
}

/**
 * How long to wait before the process begins, from `startAt` or `startDelay` (at most one), or `undefined` to begin
 * now. Throws {@link StartTimeError} for a time not in the future, a delay not above zero, or both given.
 */
export function startDelayOf(
  options: Pick<StartProcessOptions, 'startAt' | 'startDelay'>,
  now = Date.now()
): number | undefined {
  const { startAt, startDelay } = options;
  if (startAt !== undefined && startDelay !== undefined) {
    throw new StartTimeError('give a start time or a start delay, not both');
  }
  if (startAt !== undefined) {
    if (Number.isNaN(startAt.getTime())) throw new StartTimeError('the start time is not a valid date');
    const delay = startAt.getTime() - now;
    if (delay <= 0) {
      throw new StartTimeError(
        `the start time ${startAt.toISOString()} is in the past (it is ${new Date(now).toISOString()}); leave it out to start now`
      );
    }
    return delay;
  }
  if (startDelay !== undefined) {
    const parsed = durationSchema.safeParse(startDelay);
    if (!parsed.success)
      throw new StartTimeError(`start delay ${JSON.stringify(startDelay)}: ${parsed.error.issues[0]?.message}`);
    const delay = durationToMs(parsed.data);
    if (delay <= 0) throw new StartTimeError(`start delay ${JSON.stringify(startDelay)}: expected more than zero`);
    return delay;
  }
  return undefined;
}

export async function startProcess(
  client: Client,
  rawDefinition: unknown,
  options: StartProcessOptions
): Promise<WorkflowHandleWithStartDetails<typeof jipperProcess>> {
  const delayMs = startDelayOf(options);
  const request = buildStartRequest(rawDefinition, {
    ...options,
    ...(delayMs !== undefined ? { status: 'waiting' as const } : {}),
  });
  const workflowId = options.id ?? `${request.definition.name}-${randomUUID()}`;
  try {
    return await client.workflow.start<typeof jipperProcess>(request.workflowType, {
      taskQueue: options.taskQueue,
      workflowId,
      // The workflow counts its start tolerance from the end of the delay.
      args: delayMs !== undefined ? [{ ...request.args[0], startDelayMs: delayMs }] : request.args,
      memo: request.memo,
      staticSummary: request.staticSummary,
      staticDetails: request.staticDetails,
      typedSearchAttributes: request.typedSearchAttributes,
      // Run once: an id used before is refused, or with `rerun` reused only after a run that did not succeed. A run
      // going on always keeps it (FAIL), so of two clients starting one id at once, one starts it and one is refused.
      workflowIdReusePolicy: options.rerun
        ? WorkflowIdReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY
        : WorkflowIdReusePolicy.REJECT_DUPLICATE,
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.FAIL,
      ...(delayMs !== undefined ? { startDelay: delayMs } : {}),
      ...(options.eager && delayMs === undefined ? { requestEagerStart: true } : {}),
    });
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) {
      const existing = await existingRun(client, workflowId).catch(() => undefined);
      if (existing) throw new ProcessAlreadyStartedError(existing, options.rerun === true);
    }
    throw err;
  }
}

/**
 * The run that holds a process id now (the latest run with it), and how it stands; with `runId`, that run (followed
 * to its latest run when it continued as new).
 */
export async function existingRun(client: Client, processId: string, runId?: string): Promise<ExistingRun> {
  let info = await client.workflow.getHandle(processId, runId).describe();
  if (runId !== undefined && info.status.name === 'CONTINUED_AS_NEW') {
    info = await client.workflow.getHandle(processId).describe();
  }
  const jipperStatus = info.typedSearchAttributes.get(PROCESS_STATUS_KEY);
  const running = info.status.name === 'RUNNING';
  const waiting = running && info.executionTime !== undefined && info.executionTime.getTime() > Date.now();
  // A run Jipper did not end (terminated, timed out) keeps the last status the engine set: say what Temporal says.
  const status = waiting
    ? 'waiting'
    : jipperStatus !== undefined && (running || isFinalStatus(jipperStatus as ProcessStatus))
      ? jipperStatus
      : info.status.name.toLowerCase();
  const memoProcess = typeof info.memo?.process === 'string' ? info.memo.process : undefined;
  return {
    processId,
    runId: info.runId,
    process: info.typedSearchAttributes.get(PROCESS_NAME_KEY) ?? memoProcess,
    status,
    live: running,
    startedAt: info.startTime.toISOString(),
    closedAt: info.closeTime?.toISOString(),
  };
}

/** Starts a process and waits for its report. */
export async function runProcess(
  client: Client,
  definition: unknown,
  options: StartProcessOptions
): Promise<ProcessReport> {
  return waitForReport(await startProcess(client, definition, options));
}
