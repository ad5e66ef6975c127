/**
 * Effective options of a job at a step: Jipper's defaults, then the job's own defaults (from its library), then the
 * process's `options.defaults`, then the step's overrides — later layers win, field by field (retry policies merge
 * field by field too).
 */
import type { ActivityOptions } from '@temporalio/common';
import type { CallOptions, Duration, JobOptions, RetrySpec } from '../schema/definition';

export interface EffectiveCallOptions {
  timeout: Duration;
  heartbeatTimeout?: Duration;
  retry: RetrySpec;
}

export interface EffectiveJobOptions {
  run: EffectiveCallOptions;
  revert: EffectiveCallOptions;
  revertOnFailure: boolean;
}

/** What the workflow needs to know about a registered job (the worker tells it, through the plan activity). */
export interface JobMeta {
  name: string;
  hasRevert: boolean;
  defaults: JobOptions;
}

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

export function mergeJobOptions(...layers: (JobOptions | undefined)[]): EffectiveJobOptions {
  return layers.reduce<EffectiveJobOptions>(
    (acc, layer) =>
      layer
        ? {
            run: mergeCall(acc.run, layer),
            revert: mergeCall(acc.revert, layer.revert),
            revertOnFailure: layer.revertOnFailure ?? acc.revertOnFailure,
          }
        : acc,
    DEFAULT_JOB_OPTIONS
  );
}

/** Temporal activity options for one side of a job. */
export function toActivityOptions(call: EffectiveCallOptions): ActivityOptions {
  return {
    startToCloseTimeout: call.timeout,
    ...(call.heartbeatTimeout !== undefined ? { heartbeatTimeout: call.heartbeatTimeout } : {}),
    retry: { ...call.retry },
  };
}
