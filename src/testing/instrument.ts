/**
 * What the test worker adds around the job libraries under test, in the test worker only — the jobs themselves stay
 * as written, with no fault flags in their types:
 *
 * - a call log: every run and revert of every process, with its input, result and outcome, so a test can check each
 *   job's effects against the report (`expectEffects`);
 * - faults on request, per process: a chosen step's run (or revert) fails with a non-retryable
 *   {@link INJECTED_FAULT_TYPE} before the job's own code runs, or its run waits — heartbeating — until the process is
 *   cancelled. The failure-matrix cases use them.
 */
import { EventEmitter } from 'node:events';
import { ApplicationFailure } from '@temporalio/common';
import type { AnyJob, JobContext } from '../jobs/job';
import type { JobLibrary } from '../jobs/library';
import { pathUnder } from './tree';

/** The failure type of an injected fault (what the report's `error.type` shows for it). */
export const INJECTED_FAULT_TYPE = 'JipperInjectedFault';

/** One run or revert of a job, as the test worker saw it. */
export interface CallRecord {
  processId: string;
  stepId: string;
  job: string;
  side: 'run' | 'revert';
  attempt: number;
  input: unknown;
  /** `true` when the job's own code was called (an injected fault or a cancel-wait never calls it). */
  invoked: boolean;
  /** `ok`, `error` (the job threw), `fault` (injected), `cancelled` (a cancel-wait ended), `running`. */
  outcome: 'running' | 'ok' | 'error' | 'fault' | 'cancelled';
  result?: unknown;
  error?: string;
}

/** The faults of one process, by step id; a job inside a child process by its path (`db/grant`). */
export interface FaultPlan {
  /** Steps whose run fails (before the job's code runs). */
  failRun: Set<string>;
  /** Steps whose revert fails (before the job's code runs). */
  failRevert: Set<string>;
  /** Steps whose run waits, heartbeating, until the process is cancelled. */
  holdRun?: Set<string>;
}

/** The shared state of a test worker's instrumentation. */
export class Instrumentation {
  readonly calls: CallRecord[] = [];
  private readonly faults = new Map<string, FaultPlan>();
  private readonly events = new EventEmitter();

  constructor() {
    this.events.setMaxListeners(0);
  }

  /** Sets the faults of a process (before it starts). */
  setFaults(processId: string, plan: FaultPlan): void {
    this.faults.set(processId, plan);
  }

  /** The faults of a process, to change while it runs (an operator "fixing" what failed). */
  faultsOf(processId: string): FaultPlan | undefined {
    return this.faults.get(processId);
  }

  clearFaults(processId: string): void {
    this.faults.delete(processId);
  }

  callsOf(processId: string): CallRecord[] {
    return this.calls.filter((call) => call.processId === processId);
  }

  /** The calls of a process and of its children, each call's step id its path from the process (`db/grant`). */
  treeCallsOf(processId: string): CallRecord[] {
    return this.calls.flatMap((call) => {
      const path = pathUnder(processId, call.processId, call.stepId);
      return path === undefined ? [] : [{ ...call, stepId: path }];
    });
  }

  /** The faults that apply to a call, and the step's key in them: its path from the process they were set for. */
  private faultFor(processId: string, stepId: string): { plan: FaultPlan; key: string } | undefined {
    const own = this.faults.get(processId);
    if (own) return { plan: own, key: stepId };
    for (const [root, plan] of this.faults) {
      const key = pathUnder(root, processId, stepId);
      if (key !== undefined) return { plan, key };
    }
    return undefined;
  }

  /** Resolves once `predicate` holds for the calls of a process and its children, by path (checked on every call). */
  waitFor(processId: string, predicate: (calls: CallRecord[]) => boolean, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (!predicate(this.treeCallsOf(processId))) return;
        this.events.off('call', check);
        resolve();
      };
      signal?.addEventListener('abort', () => {
        this.events.off('call', check);
        reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
      });
      this.events.on('call', check);
      check();
    });
  }

  private changed(): void {
    this.events.emit('call');
  }

  /** The libraries with every job's run and revert passing through this instrumentation. Names and options unchanged. */
  wrap(libraries: readonly JobLibrary[]): JobLibrary[] {
    return libraries.map((library) => ({ name: library.name, jobs: library.jobs.map((job) => this.wrapJob(job)) }));
  }

  private wrapJob(job: AnyJob): AnyJob {
    const wrapped: AnyJob = {
      ...job,
      run: (input, ctx) => this.call(job, 'run', input, ctx, () => job.run(input, ctx)),
    };
    if (typeof job.revert === 'function') {
      wrapped.revert = (input, result, ctx) =>
        this.call(job, 'revert', input, ctx, () =>
          (job.revert as NonNullable<AnyJob['revert']>).call(job, input, result, ctx)
        );
    } else {
      delete wrapped.revert;
    }
    return wrapped;
  }

  private async call<T>(
    job: AnyJob,
    side: 'run' | 'revert',
    input: unknown,
    ctx: JobContext,
    body: () => Promise<T>
  ): Promise<T> {
    const record: CallRecord = {
      processId: ctx.processId,
      stepId: ctx.stepId,
      job: job.name,
      side,
      attempt: ctx.attempt,
      input,
      invoked: false,
      outcome: 'running',
    };
    this.calls.push(record);
    this.changed();
    const fault = this.faultFor(ctx.processId, ctx.stepId);
    const plan = fault?.plan;
    const key = fault?.key ?? ctx.stepId;
    try {
      if (side === 'run' && plan?.holdRun?.has(key)) {
        // Waits for the cancellation, which reaches an activity through its heartbeat; sleep() throws when it does.
        for (;;) {
          ctx.heartbeat();
          try {
            await ctx.sleep(50);
          } catch (err) {
            record.outcome = 'cancelled';
            throw err;
          }
        }
      }
      if ((side === 'run' ? plan?.failRun : plan?.failRevert)?.has(key)) {
        record.outcome = 'fault';
        throw ApplicationFailure.create({
          type: INJECTED_FAULT_TYPE,
          message: `injected by jipper/testing: the ${side} of job "${job.name}" at step "${ctx.stepId}" fails`,
          nonRetryable: true,
        });
      }
      record.invoked = true;
      try {
        const result = await body();
        record.outcome = 'ok';
        if (side === 'run') record.result = result;
        return result;
      } catch (err) {
        record.outcome = 'error';
        record.error = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
        throw err;
      }
    } finally {
      this.changed();
    }
  }
}
