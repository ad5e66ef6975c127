/**
 * Time limits of a process: its start window (`startWithin`: the first jobs must start within it of the process's
 * start, a delayed start's end) and its deadline (when it is reached, forward progress stops and the process unwinds).
 */
import type { ActivityOptions } from '@temporalio/common';
import { ApplicationFailure, CancellationScope, sleep } from '@temporalio/workflow';
import { DEADLINE_TYPE, NOT_STARTED_TYPE } from '../shared/errors';
import { durationMs } from '../shared/options';
import { nowMs } from './clock';
import type { Engine } from './engine';
import type { ProcessContext } from './process-input';

export class StartWindow {
  private readonly withinMs: number | undefined;
  private readonly dueAt: number;

  constructor(
    private readonly ctx: Pick<ProcessContext, 'options' | 'state'>,
    startTime: Date,
    startDelayMs: unknown
  ) {
    const within = ctx.options?.startWithin;
    this.withinMs = within !== undefined ? durationMs(within) : undefined;
    this.dueAt = startTime.getTime() + (typeof startDelayMs === 'number' ? startDelayMs : 0);
  }

  /** The first jobs' schedule-to-start timeout: what is left of the window (none once a job has completed). */
  firstJobOptions(): Partial<ActivityOptions> {
    if (this.withinMs === undefined || this.ctx.state.completedCount > 0) return {};
    const left = this.withinMs - (nowMs() - this.dueAt);
    return { scheduleToStartTimeout: Math.max(1, left) };
  }

  /** The stop of a process that starts after its window closed (a fresh run only), else undefined. */
  missed(carried: boolean): ApplicationFailure | undefined {
    if (this.withinMs === undefined || carried || nowMs() - this.dueAt <= this.withinMs) return undefined;
    return ApplicationFailure.create({
      type: NOT_STARTED_TYPE,
      message: `the first job had not started within ${String(this.ctx.options?.startWithin)} of the process's start (no worker, or a backlog)`,
      nonRetryable: true,
    });
  }
}

/**
 * The process's deadline. Only a process with a deadline runs its forward pass in a cancellation scope: the first
 * scope a workflow runs switches Node's async hooks on for its whole thread, and every promise after that costs more.
 */
export class ProcessDeadline {
  reached = false;
  private readonly forward: CancellationScope | undefined;
  private readonly timerScope: CancellationScope | undefined;

  constructor(
    private readonly deadline: string | number | undefined,
    startedAt: string,
    engine: Engine
  ) {
    if (deadline === undefined) return;
    const scope = (this.forward = new CancellationScope());
    const left = durationMs(deadline) - (nowMs() - Date.parse(startedAt));
    void (this.timerScope = new CancellationScope())
      .run(() => sleep(Math.max(1, left)))
      .then(
        () => {
          this.reached = true;
          engine.cutRunning(`the process's deadline (${String(deadline)}) was reached`);
          scope.cancel();
        },
        () => undefined
      );
  }

  /** Runs forward work in the deadline's scope (directly when there is no deadline). */
  run<T>(fn: () => Promise<T>): Promise<T> {
    return this.forward ? this.forward.run(fn) : fn();
  }

  /** The forward pass is over: the timer goes. */
  cancelTimer(): void {
    this.timerScope?.cancel();
  }

  /** The stop of a process whose deadline was reached. */
  stop(): ApplicationFailure {
    return ApplicationFailure.create({
      type: DEADLINE_TYPE,
      message: `the process's deadline (${String(this.deadline)}) was reached`,
      nonRetryable: true,
    });
  }
}
