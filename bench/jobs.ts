/**
 * The work both sides of the benchmark run: a no-op step that returns a small result, or fails with a non-retryable
 * error when its input says so (the failure path). The hand-written saga registers it as plain activities; Jipper
 * registers the same function as a job (`defineJob`/`defineLibrary`) with the same activity options.
 */
import { ApplicationFailure } from '@temporalio/activity';
import { z } from 'zod';
import { defineJob } from '../src/jobs/job';

import type { ProcessDefinition } from '../src/schema/definition';
import { REVERT_OPTIONS, RUN_OPTIONS } from './workflows/options';
import { defineLibrary } from '../src/jobs/library';

/** The error a step fails with on the failure path. */
export const STEP_FAILED_TYPE = 'BenchStepFailed';

export interface StepResult {
  step: string;
}

/**
 * Counts steps that failed on purpose, in this process: the memory benchmark waits for every parked workflow's step
 * to have failed before it measures.
 */
export const failedSteps = { count: 0 };

async function work(stepId: string, fail: boolean): Promise<StepResult> {
  if (fail) {
    failedSteps.count += 1;
    throw ApplicationFailure.nonRetryable(`step ${stepId} failed`, STEP_FAILED_TYPE);
  }
  return { step: stepId };
}

async function undo(): Promise<void> {
  // A no-op, like the run: the benchmark measures orchestration, not work.
}

export interface StepCall {
  processId: string;
  stepId: string;
  fail: boolean;
}

/** The hand-written saga's activities. */
export const handwrittenActivities = {
  async benchStep(call: StepCall): Promise<StepResult> {
    return work(call.stepId, call.fail);
  },
  async undoBenchStep(_call: { processId: string; stepId: string; result: StepResult }): Promise<void> {
    return undo();
  },
};
export type HandwrittenActivities = typeof handwrittenActivities;

/** The same step as a Jipper job. */
export const benchStep = defineJob({
  name: 'bench-step',
  input: z.object({ fail: z.boolean().default(false) }),
  options: {
    timeout: RUN_OPTIONS.startToCloseTimeout,
    retry: { ...RUN_OPTIONS.retry },
    revert: { timeout: REVERT_OPTIONS.startToCloseTimeout, retry: { ...REVERT_OPTIONS.retry } },
  },
  async run(input, ctx) {
    return work(ctx.stepId, input.fail);
  },
  async revert() {
    return undo();
  },
});

/**
 * A step with a result of `size` characters of data (the history-size benchmark): it returns the same result whatever
 * its input, and its input may reference an earlier step's result (`$from`), so its call carries that result.
 */
export const benchPayload = defineJob({
  name: 'bench-payload',
  input: z.object({ size: z.number().int().min(0), after: z.string().optional() }),
  options: {
    timeout: RUN_OPTIONS.startToCloseTimeout,
    retry: { ...RUN_OPTIONS.retry },
    revert: { timeout: REVERT_OPTIONS.startToCloseTimeout, retry: { ...REVERT_OPTIONS.retry } },
  },
  async run(input, ctx) {
    return { step: ctx.stepId, data: 'x'.repeat(input.size) };
  },
  async revert() {
    return undo();
  },
});

export const benchLibrary = defineLibrary('bench', [benchStep, benchPayload]);

export interface ProcessShape {
  steps: number;
  /** 1-based step that fails (non-retryable); none when unset. */
  failAt?: number;
  /**
   * Park instead of ending: Jipper parks past a pivot (the first step) in park mode, waiting for an operator decision;
   * the hand-written saga waits for a signal before compensating. Used by the memory benchmark.
   */
  park?: boolean;
}

export function stepId(index: number): string {
  return `s${index}`;
}

/**
 * A chain of `steps` payload steps (the history-size benchmark): each returns `size` characters of data, and each after
 * the first reads the one before it (`$from`), so its call carries exactly that one result. `continueAsNewAfterEvents`:
 * the history length at which the process continues as new (Jipper's default when not given).
 */
export function payloadDefinition(steps: number, size: number, continueAsNewAfterEvents?: number): ProcessDefinition {
  return {
    name: `bench-history-${steps}`,
    ...(continueAsNewAfterEvents !== undefined ? { options: { continueAsNewAfterEvents } } : {}),
    steps: Array.from({ length: steps }, (_, i) => ({
      id: stepId(i + 1),
      job: benchPayload.name,
      args: { size, ...(i > 0 ? { after: { $from: `${stepId(i)}.step` } } : {}) },
    })),
  };
}

/** The Jipper definition of a process shape. */
export function jipperDefinition(shape: ProcessShape): ProcessDefinition {
  return {
    name: `bench-${shape.steps}`,
    ...(shape.park ? { options: { onRevertFailure: 'park' as const } } : {}),
    steps: Array.from({ length: shape.steps }, (_, i) => ({
      id: stepId(i + 1),
      job: benchStep.name,
      args: { fail: i + 1 === shape.failAt },
      ...(shape.park && i === 0 ? { pivot: true } : {}),
    })),
  };
}
