/**
 * Child-process steps in the process workflow: a step `process:` runs its child as a Temporal child workflow (the same
 * process workflow), and its revert is the child's own unwind.
 *
 * - Forward: the child runs with the step's args as its params and the parent's job facts; it returns its report, the
 *   values it gives its parent (`outputs`, or its step results by step id) and its revert stack ({@link HeldChild}),
 *   which the parent keeps in the step's row. A child past its own pivot puts the parent past a pivot. A child that
 *   fails has unwound itself: the step fails (`JipperChildFailed`; a cancellation stays one) and is not reverted again.
 * - Unwinding: when the parent unwinds past the step, a child workflow in unwind mode (`<parent>/<step>/revert`)
 *   reverts the held stack, newest first, at the step's place in the parent's order; its report replaces the row's.
 * - Cancelling the parent cancels a running child (it unwinds itself); a child outlives no parent: its parent-close
 *   policy asks it to cancel, never terminates it (that would skip its reverts).
 */
import type { ChildWorkflowOptions } from '@temporalio/workflow';
import {
  ApplicationFailure,
  CancellationScope,
  ChildWorkflowFailure,
  ParentClosePolicy,
  executeChild,
  getExternalWorkflowHandle,
  isCancellation,
  workflowInfo,
} from '@temporalio/workflow';
import type { ProcessState } from '../core';
import type { ProcessDefinition } from '../schema/definition';
import type { JobOutcome } from '../shared/calls';
import type { ChildRecord, HeldChild } from '../shared/children';
import { CHILD_FAILED_TYPE, childDefinition, isChildStep } from '../shared/children';
import { PROCESS_FAILED_TYPE } from '../shared/errors';
import type { PlannedJob } from '../shared/plan';
import { resolveRefs } from '../shared/refs';
import type { JobReport, ProcessReport } from '../shared/report';
import { stepJobs } from '../shared/steps';
import { tokenKeeperId } from '../shared/tokens';
import { tokensReleaseSignal } from './messages';
import { PROCESS_NAME_KEY, PROCESS_STATUS_KEY } from '../shared/search-attributes';
import type { Engine } from './engine';
import type { Carrier } from './process-carry';
import type { ChildInput, ProcessContext, ProcessInput } from './process-input';

/** What a child run returns to its parent: its report, the values it gives, and its revert stack. */
export interface ChildResult extends ProcessReport {
  outputs?: unknown;
  held?: HeldChild;
}

/** How the engine runs and reverts child-process steps (see {@link Engine.children}). */
export interface ChildSteps {
  runs(job: PlannedJob): boolean;
  run(job: PlannedJob, params: unknown): Promise<JobOutcome>;
  revert(job: PlannedJob): Promise<JobOutcome>;
}

/** The child steps of one process run. */
export class Children implements ChildSteps {
  constructor(
    private readonly ctx: ProcessContext,
    private readonly input: ProcessInput
  ) {}

  runs(job: PlannedJob): boolean {
    return isChildStep(job);
  }

  private row(stepId: string): JobReport {
    return this.ctx.state.report.jobs.find((r) => r.stepId === stepId) as JobReport;
  }

  private definitionOf(stepId: string): ProcessDefinition {
    const step = this.ctx.definition.steps.flatMap(stepJobs).find((s) => s.id === stepId);
    const definition = step ? childDefinition(step) : undefined;
    if (!definition) {
      throw ApplicationFailure.create({
        type: CHILD_FAILED_TYPE,
        message: `step "${stepId}": its child process was not read (a file path reached the workflow)`,
        nonRetryable: true,
      });
    }
    return definition;
  }

  private options(workflowId: string, name: string): ChildWorkflowOptions {
    return {
      workflowId,
      taskQueue: workflowInfo().taskQueue,
      parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
      typedSearchAttributes: [
        { key: PROCESS_NAME_KEY, value: name },
        { key: PROCESS_STATUS_KEY, value: 'running' },
      ],
    };
  }

  private childInput(definition: ProcessDefinition, params: unknown): ProcessInput {
    const jobs = this.input.jobs ?? this.ctx.plan.facts;
    return {
      definition,
      params: (params ?? {}) as Record<string, unknown>,
      ...(jobs ? { jobs } : {}),
      child: { parentId: workflowInfo().workflowId },
    };
  }

  async run(job: PlannedJob, params: unknown): Promise<JobOutcome> {
    const definition = this.definitionOf(job.stepId);
    const record: ChildRecord = { processId: `${workflowInfo().workflowId}/${job.stepId}`, name: definition.name };
    const row = this.row(job.stepId);
    row.child = record;
    try {
      const result = await executeChild<(input: ProcessInput) => Promise<ChildResult>>('jipperProcess', {
        ...this.options(record.processId, definition.name),
        args: [this.childInput(definition, params)],
      });
      const { outputs, held, ...report } = result;
      Object.assign(record, { report, ...(held ? { held } : {}) });
      // A child past its own pivot puts its parent past a pivot: nothing before it is unwound any more.
      if (held?.pivotPassed) this.ctx.state.pivotPassed = true;
      return { result: outputs ?? null, attempt: 1 };
    } catch (err) {
      const report = reportOf(err);
      if (report) record.report = report;
      if (report?.stoppedPastPivot) this.ctx.state.pivotPassed = true;
      if (isCancellation(err)) throw err;
      throw ApplicationFailure.create({
        type: CHILD_FAILED_TYPE,
        message: report ? childFailure(report) : `child process ${definition.name} failed: ${(err as Error).message}`,
        nonRetryable: true,
      });
    }
  }

  async revert(job: PlannedJob): Promise<JobOutcome> {
    const definition = this.definitionOf(job.stepId);
    const row = this.row(job.stepId);
    const record = row.child ?? { processId: `${workflowInfo().workflowId}/${job.stepId}`, name: definition.name };
    row.child = record;
    if (!record.held || !record.report) return { result: null, attempt: 1 };
    const attempt = (row.revert?.decisions?.length ?? 0) + 1;
    record.revertId = `${record.processId}/revert${attempt > 1 ? `-${attempt}` : ''}`;
    const input: ProcessInput = {
      ...this.childInput(definition, this.ctx.state.inputs[job.stepId]),
      child: { parentId: workflowInfo().workflowId, unwind: { report: record.report, held: stillHeld(record) } },
    };
    try {
      const {
        outputs: _outputs,
        held: _held,
        ...report
      } = await executeChild<(input: ProcessInput) => Promise<ChildResult>>('jipperProcess', {
        ...this.options(record.revertId, definition.name),
        args: [input],
      });
      record.report = report;
      delete record.held;
      return { result: null, attempt: 1 };
    } catch (err) {
      const report = reportOf(err);
      if (report) record.report = report;
      throw ApplicationFailure.create({
        type: CHILD_FAILED_TYPE,
        message: report ? childFailure(report) : `child process ${definition.name}: ${(err as Error).message}`,
        nonRetryable: true,
      });
    }
  }
}

/**
 * The stack a child's unwind reverts: after an unwind that did not revert everything (retried on an operator's
 * decision), only what it left standing — a job it reverted already is not reverted again.
 */
function stillHeld(record: ChildRecord): HeldChild {
  const held = record.held as HeldChild;
  const done = new Set(
    (record.report?.jobs ?? []).filter((row) => row.revert?.status === 'reverted').map((row) => row.stepId)
  );
  if (!done.size) return held;
  return { ...held, units: held.units.map((unit) => unit.filter((id) => !done.has(id))).filter((u) => u.length) };
}

/** The report a child's failure carries (a failed or cancelled process's details), if any. */
function reportOf(err: unknown): ProcessReport | undefined {
  const cause = err instanceof ChildWorkflowFailure ? err.cause : err;
  const details = (cause as { details?: unknown[] } | undefined)?.details;
  const first = details?.[0] as ProcessReport | undefined;
  return first && typeof first === 'object' && Array.isArray(first.jobs) ? first : undefined;
}

function childFailure(report: ProcessReport): string {
  const where = report.failedStep ? ` at step "${report.failedStep}"` : '';
  const reason = report.error ? `: ${report.error.message}` : '';
  return `child process ${report.name} ${report.status}${where}${reason}`;
}

/** What a child carries across continue-as-new: its parent, and whether it is unwinding for it (the stack is carried). */
export function carriedChild(child: ChildInput): ChildInput {
  return { parentId: child.parentId, ...(child.unwind || child.reverting ? { reverting: true } : {}) };
}

/** The state a child in unwind mode starts from: the report and revert stack its forward run held. */
export function unwindState(input: ProcessInput): ProcessState | undefined {
  const unwind = input.child?.unwind;
  if (!unwind) return undefined;
  const report = { ...unwind.report, status: 'unwinding' as const, needsAttention: [], revertOrder: [] };
  delete report.endedAt;
  const { tokenHolders: _holders, ...held } = unwind.held;
  return { report, ...held };
}

/** Whether a process's definition claims resource tokens (for itself or a step). */
export function claimsTokens(ctx: ProcessContext): boolean {
  return Boolean(ctx.options?.tokens?.length) || ctx.plan.jobs.some((job) => job.tokens?.length);
}

/** The token holders a process's children that stand still hold (see {@link HeldChild.tokenHolders}). */
export function heldTokenHolders(state: ProcessState): string[] {
  return state.report.jobs.flatMap((row) => row.child?.held?.tokenHolders ?? []);
}

/** Gives back every token the processes `holders` hold (they have settled: after their reverts, never before). */
export async function releaseHolders(holders: readonly string[]): Promise<void> {
  if (!holders.length) return;
  const keeper = getExternalWorkflowHandle(tokenKeeperId(workflowInfo().taskQueue));
  await CancellationScope.nonCancellable(() =>
    Promise.all(holders.map((processId) => keeper.signal(tokensReleaseSignal, { processId })))
  );
}

/** What a child that succeeded returns: its report, what it gives its parent, and its revert stack. */
export function childResult(report: ProcessReport, ctx: ProcessContext): ChildResult {
  const { state, definition, plan } = ctx;
  const outputs =
    definition.outputs !== undefined
      ? resolveRefs(definition.outputs, plan.params, state.results, 'outputs')
      : { ...state.results };
  const { report: _report, ...rest } = state;
  // Its tokens stay held while its effects stand: its parent's unwind of it, or the top of the tree, gives them back.
  const tokenHolders = [...(claimsTokens(ctx) ? [workflowInfo().workflowId] : []), ...heldTokenHolders(state)];
  return { ...report, outputs, held: { ...rest, ...(tokenHolders.length ? { tokenHolders } : {}) } };
}

/**
 * Ends a child in unwind mode: its unwinding ends the run with the failure that carries its report; a child that
 * reverted everything returns that report instead (the parent's revert succeeded), anything else stays a failure.
 */
export async function endUnwind(unwinding: Promise<never>): Promise<ChildResult> {
  try {
    return await unwinding;
  } catch (err) {
    const report = err instanceof ApplicationFailure && err.type === PROCESS_FAILED_TYPE ? reportOf(err) : undefined;
    if (report?.status === 'reverted') return report;
    throw err;
  }
}

/**
 * A child in unwind mode: reverts the stack its forward run held (continuing as new between waves when due), then
 * gives back its tokens (and those of its children it reverted or held) — after its reverts, never before.
 */
export async function unwindForParent(ctx: ProcessContext, engine: Engine, carrier: Carrier): Promise<ChildResult> {
  try {
    return await endUnwind(
      engine.unwindAndEnd(
        false,
        carrier.unwinding(() => false)
      )
    );
  } finally {
    const own = claimsTokens(ctx) ? [ctx.state.report.processId] : [];
    await releaseHolders([...own, ...heldTokenHolders(ctx.state)]);
  }
}
