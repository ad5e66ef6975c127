/**
 * Effective options of a job at a step: Jipper's defaults, then the job's own defaults (from its library), then the
 * process's `options.defaults`, then the step's overrides — later layers win, field by field (retry policies merge
 * field by field too).
 */
import type { ActivityOptions } from '@temporalio/common';
import type { AfterPivot, CallOptions, Duration, FailureClass, JobOptions, RetrySpec } from '../schema/definition';
import { durationToMs } from './text';

export interface EffectiveCallOptions {
  timeout: Duration;
  heartbeatTimeout?: Duration;
  retry: RetrySpec;
}

export interface EffectiveJobOptions {
  run: EffectiveCallOptions;
  revert: EffectiveCallOptions;
  revertOnFailure: boolean;
  /** Failure classes that unwind the process. Absent: all of them (Jipper's default, kept out of old plans). */
  revertOn?: FailureClass[];
  /** What a failure outside `revertOn` does. Absent: `fail`. */
  otherwise?: 'fail' | 'park';
  /** What a failure after the pivot does. Absent: `fail` (`park` when the process parks on revert failures). */
  afterPivot?: AfterPivot;
  /** Task-queue priority of the run (1 most urgent to 5). Absent: the process's, else the server's default. */
  priority?: number;
  /** The step's deadline, from its start. */
  deadline?: Duration;
}

/** What the workflow needs to know about a registered job (the client's registry, or the worker's plan activity). */
export interface JobMeta {
  name: string;
  hasRevert: boolean;
  /** The job can say, after an ambiguous failure, whether its effect was applied (`probe`). */
  hasProbe?: boolean;
  /** Runs at most this many times per second across all workers and processes (its own task queue's rate limit). */
  ratePerSecond?: number;
  defaults: JobOptions;
}

/** Every failure class (the default of `revertOn`). */
export const ALL_FAILURE_CLASSES: readonly FailureClass[] = ['business', 'infrastructure', 'timeout', 'cancel'];

/**
 * Jipper's defaults. A run: 1 minute per attempt, 3 attempts, backoff from 1 s doubling up to 30 s. A revert tries
 * harder, since a revert that gives up leaves a person work: 1 minute per attempt, 10 attempts, backoff up to 1 minute.
 */
export const DEFAULT_JOB_OPTIONS: EffectiveJobOptions = {
  run: {
    timeout: '1m',
    retry: { maximumAttempts: 3, initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s' },
  },
  revert: {
    timeout: '1m',
    retry: { maximumAttempts: 10, initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m' },
  },
  revertOnFailure: false,
};

function definedOnly<T extends object>(value: T | undefined): Partial<T> {
  if (!value) return {};
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function mergeCall(base: EffectiveCallOptions, layer: CallOptions | undefined): EffectiveCallOptions {
  if (!layer) return base;
  return {
    timeout: layer.timeout ?? base.timeout,
    heartbeatTimeout: layer.heartbeatTimeout ?? base.heartbeatTimeout,
    retry: { ...base.retry, ...definedOnly(layer.retry) },
  };
}

/** Options only set when some layer sets them, so plans of definitions that use none stay as they always were. */
const OPTIONAL_KEYS = ['revertOn', 'otherwise', 'afterPivot', 'priority', 'deadline'] as const;

export function mergeJobOptions(
  ...layers: ((Omit<JobOptions, 'revert'> & { revert?: JobOptions['revert'] | 'none' }) | undefined)[]
): EffectiveJobOptions {
  return layers.reduce<EffectiveJobOptions>((acc, layer) => {
    if (!layer) return acc;
    const merged: EffectiveJobOptions = {
      ...acc,
      run: mergeCall(acc.run, layer),
      // `revert: none` (a step's) leaves no revert to run: its call options stay the layers' below.
      revert: mergeCall(acc.revert, layer.revert === 'none' ? undefined : layer.revert),
      revertOnFailure: layer.revertOnFailure ?? acc.revertOnFailure,
    };
    for (const key of OPTIONAL_KEYS) {
      if (layer[key] !== undefined) Object.assign(merged, { [key]: layer[key] });
    }
    return merged;
  }, DEFAULT_JOB_OPTIONS);
}

/** Temporal activity options for one side of a job. */
export function toActivityOptions(call: EffectiveCallOptions): ActivityOptions {
  return {
    startToCloseTimeout: call.timeout,
    ...(call.heartbeatTimeout !== undefined ? { heartbeatTimeout: call.heartbeatTimeout } : {}),
    retry: { ...call.retry },
  };
}

/** Parses a duration as a definition writes it (`500ms`, `30s`, `5m`, `1h`, `1d`, or milliseconds) into ms. */
export const durationMs: (duration: Duration) => number = durationToMs;
