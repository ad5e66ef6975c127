/**
 * Runs of local jobs: when the step about to start is a local job, and the steps after it would each start alone the
 * moment the one before succeeded (`localRun` in the saga core), the whole run goes to the worker as one local activity
 * (`jipper.local-run`, `src/runtime/local-run.ts`) instead of one local activity — and one activation — per job. The
 * worker runs the jobs in order and stops at the first failure; each job that succeeded is then recorded as if it had
 * run alone (started, succeeded, on the revert stack, in order), and a job whose first attempt failed goes on as a
 * local activity of its own with the rest of its retry policy. Durability is the local activities': the run's result
 * is recorded when its workflow task completes, and a crash re-runs it (each job keeps its idempotency key).
 *
 * A step joins a run only when nothing could tell the difference: a local job with no tokens, no deadline, reading no
 * result of the run, in a process without a deadline. The run is not cancellable, so what it did is always recorded
 * (and reverted if the process was cancelled meanwhile). New runs only: histories from before runs replay with one
 * local activity per job (the `jipper.local-runs` patch).
 */
import type { ActivityOptions } from '@temporalio/common';
import { CancellationScope, patched, scheduleLocalActivity } from '@temporalio/workflow';
import { localRun } from '../core';
import type { LocalRunMember, LocalRunOutcome } from '../shared/calls';
import { LOCAL_RUN_ACTIVITY } from '../shared/calls';
import type { HookSet } from '../shared/hooks';
import { durationMs } from '../shared/options';
import type { PlanNode } from '../shared/plan';
import { resolveRefs } from '../shared/refs';
import type { Step } from '../schema/definition';
import { isGroupStep } from '../shared/steps';
import { nowMs } from './clock';
import type { Engine } from './engine';
import type { ProcessContext } from './process-input';

/** The patch runs of local jobs come behind. */
export const LOCAL_RUNS_PATCH = 'jipper.local-runs';

/** What a run asks of the process's hooks: whether to bring back the worker's defaults, and where to put them. */
export interface HookDefaultsSink {
  wantsDefaults(): boolean;
  learnDefaults(defaults: HookSet): void;
}

/** A run that is about to start: its steps in order, and their inputs. */
export interface PlannedLocalRun {
  nodes: PlanNode[];
  inputs: Map<string, unknown>;
}

/** What the forward pass hears of a run: a job done, or a job the run did not reach (it starts on its own later). */
export interface LocalRunMarks {
  done(stepId: string): void;
  notReached(stepId: string): void;
}

export class LocalRuns {
  constructor(
    private readonly ctx: ProcessContext,
    private readonly engine: Engine,
    private readonly hooks: HookDefaultsSink | undefined
  ) {}

  /** Whether `stepId` is a job that may be in a run: local, no tokens, no deadline, not a wait or a child process. */
  private eligible(stepId: string): boolean {
    const job = this.engine.plannedOf(stepId);
    return (
      job !== undefined &&
      job.options.local === true &&
      !job.tokens?.length &&
      job.wait === undefined &&
      job.options.deadline === undefined &&
      !this.engine.children?.runs(job)
    );
  }

  /** The step's input, or undefined when a reference in its args cannot be resolved yet (it then runs alone). */
  private input(step: Step | undefined): { value: unknown } | undefined {
    if (!step || isGroupStep(step)) return undefined;
    try {
      return {
        value: resolveRefs(step.args ?? {}, this.ctx.plan.params, this.ctx.state.results, `steps.${step.id}.args`),
      };
    } catch {
      return undefined;
    }
  }

  /** The run that starts at `head`, or undefined when `head` starts alone. Nothing else may be running. */
  plan(
    head: PlanNode,
    nodes: readonly PlanNode[],
    started: ReadonlySet<string>,
    satisfied: ReadonlySet<string>,
    stepOf: ReadonlyMap<string, Step>
  ): PlannedLocalRun | undefined {
    if (head.group || this.ctx.options?.deadline !== undefined || !this.eligible(head.id)) return undefined;
    const inputs = new Map<string, unknown>();
    const first = this.input(stepOf.get(head.id));
    if (!first) return undefined;
    inputs.set(head.id, first.value);
    const run = localRun(head, nodes, started, satisfied, (node, soFar) => {
      if (!this.eligible(node.id)) return false;
      const uses = this.engine.plannedOf(node.id)?.uses ?? [];
      if (uses.some((id) => soFar.some((member) => member.id === id))) return false;
      const input = this.input(stepOf.get(node.id));
      if (input) inputs.set(node.id, input.value);
      return input !== undefined;
    });
    if (run.length < 2 || !patched(LOCAL_RUNS_PATCH)) return undefined;
    return { nodes: run, inputs };
  }

  /**
   * Runs a planned run: one local activity, then each job that succeeded recorded in order, then the job that failed,
   * if one did, on its own. Settles as the last job it ran settles.
   */
  async run(run: PlannedLocalRun, extra: Partial<ActivityOptions>, marks: LocalRunMarks): Promise<unknown> {
    const ids = run.nodes.map((node) => node.id);
    const members: LocalRunMember[] = ids.map((id, i) => ({
      call: this.engine.localRunCall(id, run.inputs.get(id), i === 0),
      timeoutMs: durationMs(this.engine.plannedOf(id)?.options.run.timeout ?? '1m'),
    }));
    const hookDefaults = this.hooks?.wantsDefaults() ?? false;
    let answer: LocalRunOutcome;
    const scheduledAt = nowMs();
    this.engine.localRunStarted(ids);
    try {
      answer = await CancellationScope.nonCancellable(() =>
        scheduleLocalActivity<LocalRunOutcome>(
          LOCAL_RUN_ACTIVITY,
          [{ members, ...(hookDefaults ? { hookDefaults } : {}) }],
          {
            startToCloseTimeout: members.reduce((sum, m) => sum + m.timeoutMs, 0) + 5_000,
            retry: { maximumAttempts: 1 },
            summary: `run ${ids.length} local jobs · steps ${ids[0]}…${ids[ids.length - 1]}`,
          }
        )
      );
    } catch {
      // The worker could not run it (one without the activity, say): the jobs go one by one, as before runs.
      this.engine.localRunSettled(ids);
      ids.slice(1).forEach((id) => marks.notReached(id));
      const head = ids[0] as string;
      return this.engine.runJob(head, run.inputs.get(head), undefined, extra).then((result) => {
        marks.done(head);
        return result;
      });
    }
    this.engine.localRunSettled(ids);
    if (answer.hookDefaults) this.hooks?.learnDefaults(answer.hookDefaults);
    // The worker's times, from when the run was scheduled (the workflow's clock: the same on every replay).
    const at = (i: number, end: 0 | 1) => new Date(scheduledAt + (answer.times[i]?.[end] ?? 0)).toISOString();
    let last: unknown;
    answer.outcomes.forEach((outcome, i) => {
      const id = ids[i] as string;
      this.engine.recordLocalRun(id, run.inputs.get(id), outcome, at(i, 0), at(i, 1));
      marks.done(id);
      last = outcome.result;
    });
    const { failure } = answer;
    const reached = failure ? failure.index : answer.outcomes.length;
    ids.slice(reached + (failure ? 1 : 0)).forEach((id) => marks.notReached(id));
    if (!failure) return last;
    const id = ids[failure.index] as string;
    return this.engine.resumeLocalRun(id, run.inputs.get(id), failure, at(failure.index, 0), extra).then((result) => {
      marks.done(id);
      return result;
    });
  }
}
