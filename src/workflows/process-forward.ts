/**
 * The forward pass of a process: every step whose needs have succeeded starts, as many side by side as the graph
 * allows (the saga core says which are ready). It is driven by settlements: a step that settles starts the steps it
 * made ready, at once and in the same activation; the loop ({@link Forward.run}) wakes only when nothing runs (to
 * finish, stop, pause or continue as new) or when a revision changed the steps. Every workflow promise costs the SDK a
 * captured stack, so a job without tokens starts with no promise of its own.
 */
import type { ActivityOptions } from '@temporalio/common';
import { ApplicationFailure, isCancellation } from '@temporalio/workflow';
import {
  carriedDone,
  firstPending,
  hasEarlyPolicy,
  isReady,
  membersNeeded,
  policyStillPossible,
  satisfiesNeeds,
  stopWins,
} from '../core';
import type { CarriedState } from '../core';
import type { Step } from '../schema/definition';
import { UNRESOLVED_REFERENCE_TYPE } from '../shared/errors';
import type { PlanNode, PlannedJob } from '../shared/plan';
import { planNodes } from '../shared/plan';
import { resolveRefs } from '../shared/refs';
import { isGroupStep } from '../shared/steps';
import { resolveTokens } from '../shared/tokens';
import type { Engine } from './engine';
import { JobFailedError, rejectWith } from './engine';
import type { Carrier } from './process-carry';
import type { ProcessContext } from './process-input';
import type { LocalRuns, PlannedLocalRun } from './process-local-run';
import { TokenDesk } from './process-tokens';

export class Forward {
  nodes: readonly PlanNode[];
  readonly stepOf = new Map<string, Step>();
  readonly done: Set<string>;
  readonly satisfied = new Set<string>();
  readonly started: Set<string>;
  /** Why forward progress stopped (the first failure; a cancellation wins over a failure that is not a job's). */
  stop: unknown;
  /** A group has failed (a member failed for good, and its policy cannot be met): no further step starts. */
  private halted = false;
  private readonly memberFailures = new Map<string, number>();
  private running = 0;
  private wake: (() => void) | undefined;

  constructor(
    private readonly ctx: ProcessContext,
    private readonly engine: Engine,
    private readonly tokens: TokenDesk,
    private readonly firstJobOptions: () => Partial<ActivityOptions>,
    private readonly carrier: Carrier,
    carried: CarriedState | undefined,
    private readonly localRuns?: LocalRuns
  ) {
    this.nodes = ctx.plan.nodes ?? planNodes(ctx.definition);
    this.done = carriedDone(this.nodes, carried);
    for (const node of this.nodes) {
      if (this.done.has(node.id)) [node.id, ...node.members].forEach((id) => this.satisfied.add(id));
    }
    for (const row of ctx.state.report.jobs) if (satisfiesNeeds(row.status)) this.satisfied.add(row.stepId);
    this.mapSteps();
    this.started = new Set<string>(this.done);
    engine.onMemberStopped = (stepId) => this.memberStopped(stepId);
  }

  /** A group's member failed for good: once its group cannot succeed any more, forward progress stops. */
  private memberStopped(stepId: string): void {
    const node = this.nodes.find((n) => n.members.includes(stepId));
    if (!node) return;
    const failed = (this.memberFailures.get(node.id) ?? 0) + 1;
    this.memberFailures.set(node.id, failed);
    if (!policyStillPossible(node.succeedWhen, node.members.length, failed)) this.halted = true;
  }

  /** Maps each graph node to its step (again after a revision). */
  mapSteps(): void {
    this.stepOf.clear();
    this.ctx.definition.steps.forEach((step, i) => this.stepOf.set(this.nodes[i]?.id ?? '', step));
  }

  /** Wakes the loop (a revision changed the steps, or nothing runs any more). */
  nudge(): void {
    const resume = this.wake;
    this.wake = undefined;
    resume?.();
  }

  private mayStart(): boolean {
    return this.stop === undefined && !this.halted && !this.engine.pausedByOperator;
  }

  /** Starts every step whose needs are met: a run of local jobs as one (`process-local-run.ts`) when nothing else runs. */
  private startReady(): void {
    for (const node of this.nodes) {
      if (!isReady(node, this.started, this.satisfied)) continue;
      const run =
        this.running === 0
          ? this.localRuns?.plan(node, this.nodes, this.started, this.satisfied, this.stepOf)
          : undefined;
      if (run) {
        this.startLocalRun(run);
        continue;
      }
      this.started.add(node.id);
      this.start(node);
    }
  }

  private startLocalRun(run: PlannedLocalRun): void {
    this.running += 1;
    for (const node of run.nodes) this.started.add(node.id);
    const nodeOf = (id: string) => run.nodes.find((node) => node.id === id) as PlanNode;
    const localRuns = this.localRuns as LocalRuns;
    void localRuns
      .run(run, this.firstJobOptions(), {
        done: (id) => this.nodeDone(nodeOf(id)),
        notReached: (id) => this.started.delete(id),
      })
      .then(
        () => this.settled(),
        (err: unknown) => this.failedNode(err)
      );
  }

  /** A node succeeded (or an operator moved on without it): the steps that need it may start. */
  private nodeDone(node: PlanNode): void {
    this.done.add(node.id);
    this.satisfied.add(node.id);
    for (const member of node.members) {
      if (satisfiesNeeds(this.engine.jobReport(member).status)) this.satisfied.add(member);
    }
  }

  /** A node failed: forward progress stops (a cancellation wins over a failure that is not a job's). */
  private failedNode(err: unknown): void {
    const current =
      this.stop === undefined
        ? undefined
        : { cancellation: isCancellation(this.stop), jobFailure: this.stop instanceof JobFailedError };
    if (stopWins(current, { cancellation: isCancellation(err) })) this.stop = err;
    this.settled();
  }

  private settled(): void {
    this.running -= 1;
    if (this.mayStart() && !(this.running === 0 && this.carrier.shouldContinueAsNew())) this.startReady();
    if (this.running === 0) this.nudge();
  }

  private start(node: PlanNode): void {
    this.running += 1;
    void this.runNode(node).then(
      () => {
        this.nodeDone(node);
        this.settled();
      },
      (err: unknown) => this.failedNode(err)
    );
  }

  private runNode(node: PlanNode): Promise<unknown> {
    const step = this.stepOf.get(node.id) as Step;
    if (!isGroupStep(step)) return this.startJob(step.id, step.args);
    const members = step.parallel.length;
    return this.engine.runGroup(
      step.parallel.map((job) => (unit: string[]) => this.startJob(job.id, job.args, unit)),
      step.pivot,
      hasEarlyPolicy(step.succeedWhen, members)
        ? { needed: membersNeeded(step.succeedWhen, members), stepIds: step.parallel.map((m) => m.id) }
        : undefined
    );
  }

  /** A job's args with references resolved; a reference that cannot be resolved fails the job (throws). */
  private resolveArgs(stepId: string, args: Record<string, unknown> | undefined): unknown {
    try {
      return resolveRefs(args ?? {}, this.ctx.plan.params, this.ctx.state.results, `steps.${stepId}.args`);
    } catch (err) {
      const error = { type: UNRESOLVED_REFERENCE_TYPE, message: (err as Error).message };
      const row = this.engine.jobReport(stepId);
      Object.assign(row, { status: 'failed', error });
      throw new JobFailedError(stepId, error);
    }
  }

  /**
   * Starts a step's job: its tokens first when it claims any, then its run. A job without tokens starts at once, with
   * no promise of its own (the common path: every workflow promise costs the SDK a captured stack).
   */
  private startJob(stepId: string, args: Record<string, unknown> | undefined, unit?: string[]): Promise<unknown> {
    const planned = this.engine.plannedOf(stepId);
    if (planned?.tokens?.length) return this.startJobWithTokens(stepId, args, planned, unit);
    try {
      return this.engine.runJob(stepId, this.resolveArgs(stepId, args), unit, this.firstJobOptions());
    } catch (err) {
      return rejectWith(err);
    }
  }

  private async startJobWithTokens(
    stepId: string,
    args: Record<string, unknown> | undefined,
    planned: PlannedJob,
    unit: string[] | undefined
  ): Promise<unknown> {
    const { plan, state, options, workflowId } = this.ctx;
    let claims;
    try {
      claims = resolveTokens(planned.tokens ?? [], plan.params, state.results, `steps.${stepId}.tokens`);
    } catch (err) {
      throw TokenDesk.failure(stepId, err);
    }
    const priority = planned.options.priority ?? options?.priority ?? 3;
    let waitedMs: number;
    try {
      waitedMs = await this.tokens.acquire(`${workflowId}/${stepId}`, claims, planned.waitFor, priority);
    } catch (err) {
      if (isCancellation(err)) throw err;
      throw TokenDesk.failure(stepId, err);
    }
    this.engine.tokensWaited(stepId, waitedMs);
    return this.engine.runJob(stepId, this.resolveArgs(stepId, args), unit, this.firstJobOptions());
  }

  /** Whether every step has succeeded. */
  get complete(): boolean {
    return this.done.size === this.nodes.length;
  }

  /**
   * The loop: continues as new when due (nothing running), starts what is ready, and waits for settlements, a
   * revision, or the end of a pause. Returns when every step is done or forward progress stopped.
   */
  async run(cancelled: boolean, deadlineReached: () => boolean, deadlineStop: () => unknown): Promise<void> {
    for (;;) {
      if (this.mayStart()) {
        if (this.running === 0 && this.carrier.shouldContinueAsNew()) {
          const cursor = firstPending(this.nodes, this.done);
          await this.carrier.carryOn({ cursor, done: [...this.done], phase: 'forward', cancelled });
        }
        this.startReady();
      }
      if (this.complete || (this.stop !== undefined && this.running === 0)) return;
      if (this.running === 0 && this.mayStart()) {
        const waiting = this.nodes.filter((node) => !this.started.has(node.id)).map((node) => node.id);
        this.stop = ApplicationFailure.create({
          type: UNRESOLVED_REFERENCE_TYPE,
          message: `no step can start: ${waiting.join(', ')} wait for steps that did not succeed`,
          nonRetryable: true,
        });
        return;
      }
      if (this.running > 0) {
        // Settlements start what they make ready; wake when nothing runs any more, or the steps were revised.
        await new Promise<void>((resolve) => (this.wake = resolve));
        continue;
      }
      try {
        await this.engine.whilePaused();
      } catch (err) {
        if (!isCancellation(err)) throw err;
        this.stop = deadlineReached() ? deadlineStop() : err;
        return;
      }
    }
  }
}
