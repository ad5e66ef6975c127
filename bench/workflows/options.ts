/**
 * Activity options both sides of the benchmark use, so the hand-written saga and Jipper schedule identical activities.
 * They are Jipper's own defaults (`DEFAULT_JOB_OPTIONS`): a run gets 1 minute per attempt and 3 attempts, a revert 1
 * minute and 10 attempts. Plain data, safe in the workflow sandbox.
 */
export const RUN_OPTIONS = {
  startToCloseTimeout: '1m',
  retry: { maximumAttempts: 3, initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s' },
} as const;

export const REVERT_OPTIONS = {
  startToCloseTimeout: '1m',
  retry: { maximumAttempts: 10, initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m' },
} as const;
