/**
 * Client helpers: start a process from a definition, wait for its report, read the live report, cancel it, and send
 * an operator's decision to a parked job. The report comes back in every case — a process that did not succeed ends
 * as a failed (or cancelled) workflow whose failure carries the report, and these helpers unwrap it.
 */
import type { Client, WorkflowHandle } from '@temporalio/client';
import { WorkflowFailedError, WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { randomUUID } from 'node:crypto';
import type { JobRegistry } from '../activities/registry';
import type { ProcessDefinition } from '../shared/definition';
import { processDefinitionSchema } from '../shared/definition';
import type { JobFacts, Problem } from '../shared/plan';
import { formatPath, formatProblems } from '../shared/plan';
import type { Decision, ProcessReport } from '../shared/report';
import { outlineMarkdown } from '../shared/render';
import { allJobSteps } from '../shared/steps';
import { PROCESS_NAME_KEY, PROCESS_STATUS_KEY } from '../shared/search-attributes';
import type { jipperProcess } from '../workflows';
import type { DecideResponse } from '../workflows/messages';
import { decideUpdate, reportQuery } from '../workflows/messages';

/** The workflow type every definition runs as. */
export const PROCESS_WORKFLOW_TYPE = 'jipperProcess';

/**
 * Temporal rejects payloads over 2 MB; Jipper refuses a start whose input is over this many bytes (JSON), so the
 * operator gets a clear error instead of a run that cannot start.
 */
export const MAX_START_PAYLOAD_BYTES = 1_500_000;

/** The memo (shown in the Web UI's list) keeps at most this much of a definition's description; the input has all of it. */
const MAX_MEMO_DESCRIPTION_CHARS = 2_000;
/** The run's one-line summary in the Web UI keeps at most this much. */
const MAX_SUMMARY_CHARS = 200;

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/** A definition (or its args) has problems; nothing was started. */
export class DefinitionError extends Error {
  override readonly name = 'DefinitionError';
  constructor(
    readonly problems: Problem[],
    readonly source = 'definition'
  ) {
    super(`${source}: ${formatProblems(problems)}`);
  }
}

/** The start input is too large for Temporal; nothing was started. */
export class PayloadTooLargeError extends Error {
  override readonly name = 'PayloadTooLargeError';
}

export interface StartProcessOptions {
  taskQueue: string;
  /** Workflow id; default `<name>-<uuid>`. Starting a second run with the id of a running one fails. */
  id?: string;
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
    return { definition, jobs: registry.facts(allJobSteps(definition).map((step) => step.job)) };
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

export async function startProcess(
  client: Client,
  rawDefinition: unknown,
  options: StartProcessOptions
): Promise<WorkflowHandle<typeof jipperProcess>> {
  const { definition, jobs } = planDefinition(rawDefinition, options);
  const unplanned = { definition, ...(options.params ? { params: options.params } : {}) };
  const memo = {
    process: definition.name,
    ...(definition.description ? { description: clip(definition.description, MAX_MEMO_DESCRIPTION_CHARS) } : {}),
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
  return client.workflow.start<typeof jipperProcess>(PROCESS_WORKFLOW_TYPE, {
    taskQueue: options.taskQueue,
    workflowId: options.id ?? `${definition.name}-${randomUUID()}`,
    args: [input],
    memo,
    staticSummary: clip(
      definition.description ? `${definition.name}: ${definition.description.replace(/\s+/g, ' ')}` : definition.name,
      MAX_SUMMARY_CHARS
    ),
    staticDetails: clip(outlineMarkdown(definition, options.params), MAX_MEMO_DESCRIPTION_CHARS * 2),
    typedSearchAttributes: [
      { key: PROCESS_NAME_KEY, value: definition.name },
      { key: PROCESS_STATUS_KEY, value: 'running' },
    ],
  });
}

/** The report carried by a process's failure, if it is one of Jipper's. */
export function reportFromError(err: unknown): ProcessReport | undefined {
  const cause = err instanceof WorkflowFailedError ? err.cause : err;
  if (cause instanceof ApplicationFailure || cause instanceof CancelledFailure) {
    const first: unknown = cause.details?.[0];
    if (typeof first === 'object' && first !== null && 'jobs' in first && 'status' in first)
      return first as ProcessReport;
  }
  return undefined;
}

/**
 * Waits for a process to end and returns its report, whatever the outcome. A cancelled workflow's result carries no
 * details in Temporal, so a cancelled process leaves its final report in its memo (`report`), read from there.
 */
export async function waitForReport(handle: WorkflowHandle): Promise<ProcessReport> {
  try {
    return (await handle.result()) as ProcessReport;
  } catch (err) {
    const report = reportFromError(err);
    if (report) return report;
    if (err instanceof WorkflowFailedError && err.cause instanceof CancelledFailure) {
      const memo = (await handle.describe()).memo;
      if (memo && typeof memo.report === 'object' && memo.report !== null) return memo.report as ProcessReport;
    }
    throw err;
  }
}

/** Starts a process and waits for its report. */
export async function runProcess(
  client: Client,
  definition: unknown,
  options: StartProcessOptions
): Promise<ProcessReport> {
  return waitForReport(await startProcess(client, definition, options));
}

/**
 * The report of a process: the live one (a query, answered by a worker) while it runs; from its result or failure
 * once it ended (no worker needed).
 */
export async function getReport(client: Client, processId: string): Promise<ProcessReport> {
  const handle = client.workflow.getHandle(processId);
  const description = await handle.describe();
  if (description.status.name !== 'RUNNING') return waitForReport(handle);
  return handle.query(reportQuery);
}

/** The process refused an operator's decision (the step is not parked, or the decision does not fit it). */
export class DecisionRejectedError extends Error {
  override readonly name = 'DecisionRejectedError';
}

/**
 * Sends an operator's decision to a parked job. Throws {@link DecisionRejectedError} with the process's reason when
 * that step is not parked or the decision does not fit.
 */
export async function decide(
  client: Client,
  processId: string,
  stepId: string,
  decision: Decision
): Promise<DecideResponse> {
  try {
    return await client.workflow.getHandle(processId).executeUpdate(decideUpdate, { args: [{ stepId, decision }] });
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError && err.cause) throw new DecisionRejectedError(err.cause.message);
    throw err;
  }
}

/** Requests cancellation: forward progress stops and the process unwinds as after a failure. */
export async function cancelProcess(client: Client, processId: string): Promise<void> {
  await client.workflow.getHandle(processId).cancel();
}
