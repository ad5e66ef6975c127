/**
 * Processes that run by themselves, on Temporal Schedules. A schedule's every run is an ordinary process (report,
 * `JipperProcess` / `JipperStatus` search attributes, memo), started from the same request a `startProcess` sends
 * ({@link buildStartRequest}); Temporal names each run `<schedule id>-<scheduled time>` and marks it with the
 * `TemporalScheduledById` search attribute, the link back to its schedule.
 *
 * @example
 * ```ts
 * // Create the schedule, or bring it in line with the definition's `schedule:` block (idempotent).
 * const { outcome } = await applySchedule(client, definition, { taskQueue, registry });
 * const info = await describeSchedule(client, 'nightly-volume'); // next runs, recent runs with their status
 * ```
 */
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type {
  Client,
  ScheduleDescription,
  ScheduleExecutionResult,
  ScheduleHandle,
  ScheduleOptions,
} from '@temporalio/client';
import { ScheduleAlreadyRunning, ScheduleNotFoundError } from '@temporalio/client';
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import type { JobRegistry } from '../runtime/registry';
import type { OverlapPolicy, ScheduleSpecInput } from '../schema/definition';
import { processDefinitionSchema, scheduleSchema } from '../schema/definition';
import { formatPath } from '../shared/plan';
import { PROCESS_NAME_KEY } from '../shared/search-attributes';
import { durationToMs, isRecord } from '../shared/text';
import { DefinitionError, ScheduleSpecError } from './errors';
import { describeSpec, jipperOverlap, temporalOverlap, temporalSpec } from './schedule-spec';
import { buildStartRequest, existingRun, PROCESS_WORKFLOW_TYPE } from './start';

/** The search attribute Temporal sets on every run a schedule starts: the schedule's id. */
export const SCHEDULED_BY_ATTRIBUTE = 'TemporalScheduledById';
export const SCHEDULED_BY_KEY = defineSearchAttributeKey(SCHEDULED_BY_ATTRIBUTE, SearchAttributeType.KEYWORD);

export interface ScheduleProcessOptions {
  /** The task queue the runs start on (the workers'). */
  taskQueue: string;
  /**
   * When the runs start. Default: the definition's own `schedule` block; fields given here win over the block's (the
   * command line's flags do this).
   */
  schedule?: ScheduleSpecInput;
  /**
   * Check the definition (with the schedule's params) against the workers' job libraries before anything is sent.
   * The runs carry no plan: each is planned by the worker that runs it, with its job libraries of that day.
   */
  registry?: JobRegistry;
  /** Where the definition came from, for error messages (a file path). */
  source?: string;
}

/** A schedule ready to send, and what identifies its content. */
interface PlannedSchedule {
  scheduleId: string;
  process: string;
  schedule: ScheduleSpecInput;
  options: ScheduleOptions;
  /** A hash of the spec, policies and action: `applySchedule` changes nothing when it is the same. */
  digest: string;
}

/** The schedule block of a definition, with `overrides` on top, checked. */
function scheduleOf(rawDefinition: unknown, overrides: ScheduleSpecInput | undefined, source?: string) {
  const block = isRecord(rawDefinition) && isRecord(rawDefinition.schedule) ? rawDefinition.schedule : {};
  const parsed = scheduleSchema.safeParse({ ...block, ...overrides });
  if (!parsed.success) {
    throw new DefinitionError(
      parsed.error.issues.map((i) => ({ path: formatPath(['schedule', ...i.path]), message: i.message })),
      source
    );
  }
  return parsed.data;
}

/** Checks the definition and its schedule and builds the schedule's options (no server call). */
export function planSchedule(rawDefinition: unknown, options: ScheduleProcessOptions): PlannedSchedule {
  // The definition is checked whole first, so its own problems (schedule block included) come with their paths.
  const whole = processDefinitionSchema.safeParse(rawDefinition);
  if (!whole.success) {
    throw new DefinitionError(
      whole.error.issues.map((i) => ({ path: formatPath(i.path), message: i.message })),
      options.source
    );
  }
  const schedule = scheduleOf(rawDefinition, options.schedule, options.source);
  const scheduleId = schedule.id ?? whole.data.name;
  const request = buildStartRequest(rawDefinition, {
    ...(schedule.params ? { params: schedule.params } : {}),
    ...(options.registry ? { registry: options.registry } : {}),
    ...(options.source ? { source: options.source } : {}),
    jobFacts: false,
    memo: { schedule: scheduleId },
    summaryPrefix: `schedule ${scheduleId}`,
  });
  const spec = temporalSpec(schedule);
  const policies = {
    overlap: temporalOverlap(schedule.overlap ?? 'skip'),
    ...(schedule.catchupWindow !== undefined ? { catchupWindow: durationToMs(schedule.catchupWindow) } : {}),
    pauseOnFailure: schedule.pauseOnFailure ?? false,
  };
  const action = {
    type: 'startWorkflow' as const,
    workflowType: request.workflowType,
    taskQueue: options.taskQueue,
    workflowId: scheduleId,
    args: request.args,
    memo: request.memo,
    staticSummary: request.staticSummary,
    staticDetails: request.staticDetails,
    typedSearchAttributes: request.typedSearchAttributes,
  };
  const digest = createHash('sha256')
    .update(JSON.stringify({ spec, policies, action: { ...action, typedSearchAttributes: undefined } }))
    .digest('hex')
    .slice(0, 32);
  return {
    scheduleId,
    process: request.definition.name,
    schedule,
    digest,
    options: {
      scheduleId,
      spec,
      action: { ...action, memo: { ...action.memo, scheduleDigest: digest } },
      policies,
      memo: { process: request.definition.name },
      typedSearchAttributes: [{ key: PROCESS_NAME_KEY, value: request.definition.name }],
      state: {
        paused: schedule.paused ?? false,
        ...(schedule.note !== undefined ? { note: schedule.note } : {}),
      },
    },
  };
}

const GRPC_INVALID_ARGUMENT = 3;

/**
 * The reason the server refused a schedule's spec (gRPC INVALID_ARGUMENT), or `undefined` for any other error. The SDK
 * turns that refusal into a `TypeError` with the server's words, or (when it does not recognise the gRPC error, as
 * under Jest) a `ServiceError` whose cause carries them.
 */
function refusalReason(err: unknown): string | undefined {
  if (err instanceof Error && err.name === 'TypeError') return err.message;
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    const { code, details } = e as Error & { code?: unknown; details?: unknown };
    if (code === GRPC_INVALID_ARGUMENT) return typeof details === 'string' && details ? details : e.message;
  }
  return undefined;
}

/** A refusal of the spec by the server, as one line; anything else as it is. */
function specRefusal(err: unknown, planned: PlannedSchedule): unknown {
  const reason = refusalReason(err)?.replace(/^Invalid schedule spec: /, '');
  if (reason === undefined) return err;
  const { cron, every } = planned.schedule;
  const what = cron !== undefined ? `cron ${JSON.stringify(cron)}` : `every ${JSON.stringify(every)}`;
  return new ScheduleSpecError(`schedule "${planned.scheduleId}" (${what}): Temporal refused it: ${reason}`, {
    cause: err,
  });
}

/**
 * Creates the schedule of a definition (its `schedule` block, or `options.schedule`). Refused when a schedule with that
 * id exists (`ScheduleAlreadyRunning`; {@link applySchedule} updates one instead); a spec the server cannot read is a
 * {@link ScheduleSpecError}; nothing is created then.
 */
export async function createSchedule(
  client: Client,
  rawDefinition: unknown,
  options: ScheduleProcessOptions
): Promise<ScheduleHandle> {
  const planned = planSchedule(rawDefinition, options);
  try {
    return await client.schedule.create(planned.options);
  } catch (err) {
    throw specRefusal(err, planned);
  }
}

export interface AppliedSchedule {
  scheduleId: string;
  process: string;
  /** `created`; `updated` (the spec, policies or runs' input changed); `unchanged`. */
  outcome: 'created' | 'updated' | 'unchanged';
  /** Whether the schedule is paused now (an existing schedule keeps the pause state an operator gave it). */
  paused: boolean;
  note: string | undefined;
}

/** The schedule exists but is not one of this process's (another workflow type, or another process's schedule). */
export class ScheduleConflictError extends Error {
  override readonly name = 'ScheduleConflictError';
}

/**
 * Brings the schedule of a definition in line with it: creates it when missing, updates its spec, policies and runs'
 * input when they differ, and changes nothing when they match (so applying a file twice is a no-op). An existing
 * schedule keeps its pause state and note (`paused` and `note` apply when it is created): an operator's pause is not
 * undone by a deploy. Refuses ({@link ScheduleConflictError}) to take over a schedule that runs something else.
 */
export async function applySchedule(
  client: Client,
  rawDefinition: unknown,
  options: ScheduleProcessOptions
): Promise<AppliedSchedule> {
  const planned = planSchedule(rawDefinition, options);
  const handle = client.schedule.getHandle(planned.scheduleId);
  const result = (outcome: AppliedSchedule['outcome'], state: { paused: boolean; note?: string | undefined }) => ({
    scheduleId: planned.scheduleId,
    process: planned.process,
    outcome,
    paused: state.paused,
    note: state.note || undefined,
  });
  let current = await describeIfAny(handle);
  if (!current) {
    try {
      await client.schedule.create(planned.options);
      return result('created', { paused: planned.options.state?.paused ?? false, note: planned.options.state?.note });
    } catch (err) {
      // Another client created it just now: update it like any existing one.
      if (!(err instanceof ScheduleAlreadyRunning)) throw specRefusal(err, planned);
      current = await handle.describe();
    }
  }
  checkOwnership(current, planned);
  if (current.action.memo?.scheduleDigest === planned.digest) return result('unchanged', current.state);
  let kept = current.state;
  try {
    await handle.update((previous) => {
      checkOwnership(previous, planned);
      kept = previous.state;
      return {
        spec: planned.options.spec,
        action: planned.options.action,
        ...(planned.options.policies ? { policies: planned.options.policies } : {}),
        ...(planned.options.typedSearchAttributes
          ? { typedSearchAttributes: planned.options.typedSearchAttributes }
          : {}),
        state: {
          paused: previous.state.paused,
          ...(previous.state.note ? { note: previous.state.note } : {}),
          ...(previous.state.remainingActions !== undefined
            ? { remainingActions: previous.state.remainingActions }
            : {}),
        },
      };
    });
  } catch (err) {
    throw specRefusal(err, planned);
  }
  return result('updated', kept);
}

function checkOwnership(current: ScheduleDescription, planned: PlannedSchedule): void {
  if (current.action.workflowType !== PROCESS_WORKFLOW_TYPE) {
    throw new ScheduleConflictError(
      `schedule "${planned.scheduleId}" exists and starts ${current.action.workflowType} workflows, not Jipper processes; choose another schedule id`
    );
  }
  const process = current.typedSearchAttributes.get(PROCESS_NAME_KEY);
  if (process !== undefined && process !== planned.process) {
    throw new ScheduleConflictError(
      `schedule "${planned.scheduleId}" runs process ${process}, not ${planned.process}; choose another schedule id, or delete it first (jipper schedule delete ${planned.scheduleId})`
    );
  }
}

async function describeIfAny(handle: ScheduleHandle): Promise<ScheduleDescription | undefined> {
  try {
    return await handle.describe();
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) return undefined;
    throw err;
  }
}

/** A run a schedule started, and how it stands now. */
export interface ScheduledRun {
  processId: string;
  /** The run's first run id (a run that continued as new has later ones). */
  runId: string;
  /** The time it was due (jitter included). */
  scheduledAt: string;
  /** When the schedule started it. */
  takenAt: string;
  /** Jipper's status (`running`, `succeeded`, `reverted`...), Temporal's for a run Jipper did not end, or `unknown`. */
  status: string;
}

export interface ScheduleInfo {
  scheduleId: string;
  /** The process its runs run (`JipperProcess`). */
  process: string | undefined;
  paused: boolean;
  note: string | undefined;
  /** When the runs happen, on one line (rebuilt from the server's spec). */
  spec: string;
  overlap: string;
  /** Milliseconds. */
  catchupWindow: number;
  pauseOnFailure: boolean;
  taskQueue: string;
  /** The params every run gets. */
  params: Record<string, unknown> | undefined;
  /** The next times a run is due (ISO). */
  nextRuns: string[];
  /** The latest runs, newest first. */
  recentRuns: ScheduledRun[];
  /** Process ids of its runs going on now. */
  running: string[];
  actionsTaken: number;
  skippedForOverlap: number;
  missedCatchupWindow: number;
  createdAt: string;
  updatedAt: string | undefined;
}

/** Reads a schedule: its spec and state, next runs, and its recent runs with each one's Jipper status. */
export async function describeSchedule(client: Client, scheduleId: string): Promise<ScheduleInfo> {
  const description = await client.schedule.getHandle(scheduleId).describe();
  const { info, action } = description;
  const recent = [...info.recentActions].reverse();
  const recentRuns = await Promise.all(
    recent.map(async ({ scheduledAt, takenAt, action: taken }) => {
      const { workflowId } = taken.workflow;
      const status = await existingRun(client, workflowId, taken.workflow.firstExecutionRunId).then(
        (run) => run.status,
        () => 'unknown'
      );
      return {
        processId: workflowId,
        runId: taken.workflow.firstExecutionRunId,
        scheduledAt: scheduledAt.toISOString(),
        takenAt: takenAt.toISOString(),
        status,
      };
    })
  );
  const input: unknown = action.args?.[0];
  const params = isRecord(input) && isRecord(input.params) ? input.params : undefined;
  const memoProcess = typeof description.memo?.process === 'string' ? description.memo.process : undefined;
  return {
    scheduleId,
    process: description.typedSearchAttributes.get(PROCESS_NAME_KEY) ?? memoProcess,
    paused: description.state.paused,
    note: description.state.note || undefined,
    spec: describeSpec(description.spec),
    overlap: jipperOverlap(description.policies.overlap),
    catchupWindow: description.policies.catchupWindow,
    pauseOnFailure: description.policies.pauseOnFailure,
    taskQueue: action.taskQueue,
    params,
    nextRuns: info.nextActionTimes.map((t) => t.toISOString()),
    recentRuns,
    running: info.runningActions.map((a) => a.workflow.workflowId),
    actionsTaken: info.numActionsTaken,
    skippedForOverlap: info.numActionsSkippedOverlap,
    missedCatchupWindow: info.numActionsMissedCatchupWindow,
    createdAt: info.createdAt.toISOString(),
    updatedAt: info.lastUpdatedAt?.toISOString(),
  };
}

export interface ScheduleListing {
  scheduleId: string;
  process: string | undefined;
  paused: boolean;
  note: string | undefined;
  spec: string;
  nextRun: string | undefined;
  lastRun: string | undefined;
}

/**
 * Jipper's schedules (those whose runs are processes), by process name when given. Listing is eventually
 * consistent: a schedule created a moment ago may take a moment to appear.
 */
export async function listSchedules(
  client: Client,
  filters: { process?: string; limit?: number } = {}
): Promise<ScheduleListing[]> {
  const query =
    filters.process !== undefined
      ? `${PROCESS_NAME_KEY.name} = '${filters.process.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`
      : `${PROCESS_NAME_KEY.name} IS NOT NULL`;
  const limit = filters.limit ?? 100;
  const listed: ScheduleListing[] = [];
  for await (const summary of client.schedule.list({ query, pageSize: Math.min(limit, 100) })) {
    const memoProcess = typeof summary.memo?.process === 'string' ? summary.memo.process : undefined;
    const last = summary.info.recentActions.at(-1);
    listed.push({
      scheduleId: summary.scheduleId,
      process: summary.typedSearchAttributes?.get(PROCESS_NAME_KEY) ?? memoProcess,
      paused: summary.state.paused,
      note: summary.state.note || undefined,
      spec: describeSpec(summary.spec),
      nextRun: summary.info.nextActionTimes[0]?.toISOString(),
      lastRun: last?.takenAt.toISOString(),
    });
    if (listed.length >= limit) break;
  }
  return listed;
}

/**
 * Starts a run of the schedule now, whatever its spec says, and waits up to `waitMs` (default 10 s) to learn the
 * new run's process id (`undefined` when none showed: the overlap policy may have skipped it). `overlap` overrides
 * the schedule's policy for this run; Temporal's default for a trigger is `allow-all`.
 *
 * Temporal names a run `<schedule id>-<its time, to the second>`, so two runs in one second would share a process id
 * (and their jobs' idempotency keys): a trigger within a second of the schedule's latest run waits for the next second.
 */
export async function triggerSchedule(
  client: Client,
  scheduleId: string,
  options: { overlap?: OverlapPolicy; waitMs?: number } = {}
): Promise<string | undefined> {
  const handle = client.schedule.getHandle(scheduleId);
  const runKey = (a: ScheduleExecutionResult) =>
    `${a.action.workflow.workflowId}/${a.action.workflow.firstExecutionRunId}`;
  const { recentActions } = (await handle.describe()).info;
  const before = new Set(recentActions.map(runKey));
  const latest = Math.max(0, ...recentActions.map((a) => a.scheduledAt.getTime()));
  const clear = (Math.floor(latest / 1000) + 1) * 1000 + 50 - Date.now();
  if (clear > 0) await sleep(clear);
  await handle.trigger(options.overlap ? temporalOverlap(options.overlap) : undefined);
  const deadline = Date.now() + (options.waitMs ?? 10_000);
  for (;;) {
    const fresh = (await handle.describe()).info.recentActions.find((a) => !before.has(runKey(a)));
    if (fresh) return fresh.action.workflow.workflowId;
    if (Date.now() >= deadline) return undefined;
    await sleep(250);
  }
}

/**
 * Takes the runs the schedule would have taken between `from` and `to` (both past, `from` first), now, by the
 * schedule's overlap policy or `overlap`. A range that is empty, reversed or reaches into the future is a
 * {@link ScheduleSpecError}.
 */
export async function backfillSchedule(
  client: Client,
  scheduleId: string,
  options: { from: Date; to: Date; overlap?: OverlapPolicy; now?: number }
): Promise<void> {
  const { from, to } = options;
  const now = options.now ?? Date.now();
  if (Number.isNaN(from.getTime()) || Number.isNaN(to.getTime())) {
    throw new ScheduleSpecError('backfill: the range needs two valid times');
  }
  if (from.getTime() >= to.getTime()) {
    throw new ScheduleSpecError(`backfill: ${from.toISOString()} is not before ${to.toISOString()}`);
  }
  if (to.getTime() > now) {
    throw new ScheduleSpecError(
      `backfill: ${to.toISOString()} is in the future (it is ${new Date(now).toISOString()}); a backfill takes runs that were missed`
    );
  }
  await client.schedule.getHandle(scheduleId).backfill({
    start: from,
    end: to,
    ...(options.overlap ? { overlap: temporalOverlap(options.overlap) } : {}),
  });
}
