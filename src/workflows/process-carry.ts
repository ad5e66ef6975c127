/**
 * Continue-as-new for the process workflow: when (at `continueAsNewAfterEvents` events, or at
 * {@link CONTINUE_AS_NEW_AFTER_BYTES} of history) and what it carries (the saga core's `CarriedState`).
 */
import {
  CancellationScope,
  allHandlersFinished,
  condition,
  continueAsNew,
  log,
  workflowInfo,
} from '@temporalio/workflow';
import type { CarriedState } from '../core';
import { reportToCarry } from '../core';
import { CONTINUE_AS_NEW_AFTER_BYTES, DEFAULT_CONTINUE_AS_NEW_AFTER_EVENTS, MAX_CARRIED_CHARS } from '../shared/limits';
import type { ProcessReport } from '../shared/report';
import { carriedChild } from './process-children';
import type { ProcessContext, ProcessInput } from './process-input';

export class Carrier {
  private readonly limit: number;
  private tooLarge = false;

  constructor(private readonly ctx: ProcessContext) {
    this.limit = ctx.options?.continueAsNewAfterEvents ?? DEFAULT_CONTINUE_AS_NEW_AFTER_EVENTS;
  }

  /**
   * Whether to continue as new now: at `limit` events, or at {@link CONTINUE_AS_NEW_AFTER_BYTES} of history. Not at
   * Temporal's suggestion (4,096 events): each continue-as-new writes the whole carried state into the history twice,
   * so continuing early makes a long process's history grow with the square of its steps.
   */
  readonly shouldContinueAsNew = (): boolean => {
    if (this.tooLarge) return false;
    const now = workflowInfo();
    return now.historyLength >= this.limit || now.historySize >= CONTINUE_AS_NEW_AFTER_BYTES;
  };

  /**
   * Continues as new, carrying the state. Not cancellable: a cancelled process that continues as new while unwinding
   * must still carry its revert stack. When the state is too large for one payload, Temporal would refuse the
   * continue-as-new, and keep refusing: the run goes on in this history instead (and says so in its log).
   */
  async carryOn(next: Omit<CarriedState, 'plan' | 'state'>): Promise<void> {
    const { definition, plan, state } = this.ctx;
    await CancellationScope.nonCancellable(() => condition(allHandlersFinished));
    const report = reportToCarry(state.report, state.results);
    const carriedState: CarriedState = { plan, state: { ...state, report }, ...next };
    const chars = JSON.stringify({ definition, carried: carriedState }).length;
    if (chars > MAX_CARRIED_CHARS) {
      this.tooLarge = true;
      log.warn('the process state is too large to continue as new; going on in this run', {
        chars,
        limit: MAX_CARRIED_CHARS,
      });
      return;
    }
    const child = this.ctx.child && carriedChild(this.ctx.child);
    await continueAsNew<(input: ProcessInput) => Promise<ProcessReport>>({
      definition,
      carried: carriedState,
      ...(child ? { child } : {}),
    });
  }

  /** The options of `Engine.conclude` / `unwindAndEnd`: continue as new between waves of the unwinding. */
  unwinding(cancelled: () => boolean) {
    return {
      shouldPause: this.shouldContinueAsNew,
      carry: () =>
        this.carryOn({ cursor: this.ctx.definition.steps.length, phase: 'unwinding', cancelled: cancelled() }),
    };
  }
}
