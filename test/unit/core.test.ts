/** The saga core's decision functions, rule by rule (the model-based tests check them together). */
import {
  afterPivotAction,
  classifyFailure,
  endingOf,
  failedJobEffect,
  failureOutcome,
  membersNeeded,
  revertFailure,
  statusAfterUnwinding,
  stopWins,
} from '../../src/core';
import type { FailingJob } from '../../src/core';

const job = (options: Partial<FailingJob['options']> = {}, hasProbe = false): FailingJob => ({
  ...(hasProbe ? { hasProbe } : {}),
  options: { revertOnFailure: false, ...options },
});

describe('the saga core', () => {
  test('failure classes: a deadline cut is a timeout, a cancellation cancel, a non-retryable error business', () => {
    const signs = { cancelled: false, timedOut: false, nonRetryable: false };
    expect(classifyFailure({ ...signs, cancelled: true, cutByDeadline: true })).toBe('timeout');
    expect(classifyFailure({ ...signs, cancelled: true })).toBe('cancel');
    expect(classifyFailure({ ...signs, timedOut: true })).toBe('timeout');
    expect(classifyFailure({ ...signs, nonRetryable: true })).toBe('business');
    expect(classifyFailure(signs)).toBe('infrastructure');
  });

  test('group success policies', () => {
    expect(membersNeeded(undefined, 3)).toBe(3);
    expect(membersNeeded('all', 3)).toBe(3);
    expect(membersNeeded('any', 3)).toBe(1);
    expect(membersNeeded(2, 3)).toBe(2);
  });

  test('a failed job is reverted when its probe finds the effect, or its step says revertOnFailure', () => {
    expect(failedJobEffect(job({}, true), 'timeout', 'applied')).toBe('revert');
    expect(failedJobEffect(job({ revertOnFailure: true }, true), 'cancel', 'not-applied')).toBe('none');
    expect(failedJobEffect(job({}, true), 'business', 'applied')).toBe('none');
    expect(failedJobEffect(job({ revertOnFailure: true }), 'business')).toBe('revert');
    expect(failedJobEffect(job(), 'timeout')).toBe('unknown');
    expect(failedJobEffect(job(), 'infrastructure')).toBe('none');
  });

  test('revertOn and otherwise: unwind, park (never on a cancellation), or keep the effects', () => {
    expect(failureOutcome(job(), 'business', false)).toBe('unwind');
    expect(failureOutcome(job({ revertOn: ['timeout'] }), 'business', false)).toBe('keep-effects');
    expect(failureOutcome(job({ revertOn: ['timeout'], otherwise: 'park' }), 'business', false)).toBe('park');
    expect(failureOutcome(job({ revertOn: ['timeout'], otherwise: 'park' }), 'cancel', true)).toBe('keep-effects');
  });

  test('past the pivot: afterPivot, park by default in park mode; a cancellation stops', () => {
    expect(afterPivotAction(job(), 'continue', false)).toBe('stop');
    expect(afterPivotAction(job(), 'park', false)).toBe('park');
    expect(afterPivotAction(job({ afterPivot: 'retry' }), 'continue', false)).toBe('retry');
    expect(afterPivotAction(job({ afterPivot: { recover: { job: 'r' } } }), 'continue', false)).toEqual({
      recover: { job: 'r' },
    });
    expect(afterPivotAction(job({ afterPivot: 'retry' }), 'continue', true)).toBe('stop');
  });

  test('the first stop wins, except that a cancellation wins over a non-job failure', () => {
    expect(stopWins(undefined, { cancellation: false })).toBe(true);
    expect(stopWins({ cancellation: false, jobFailure: true }, { cancellation: true })).toBe(false);
    expect(stopWins({ cancellation: false, jobFailure: false }, { cancellation: true })).toBe(true);
    expect(stopWins({ cancellation: true, jobFailure: false }, { cancellation: false })).toBe(false);
  });

  test('how a stopped process ends', () => {
    const facts = {
      pivotPassed: false,
      keepEffects: false,
      beforeAnything: false,
      nothingStarted: false,
      stackEmpty: false,
      cancelled: false,
    };
    expect(endingOf({ ...facts, pivotPassed: true, keepEffects: true })).toBe('past-pivot');
    expect(endingOf({ ...facts, keepEffects: true })).toBe('failure-class');
    expect(endingOf({ ...facts, beforeAnything: true, nothingStarted: true, stackEmpty: true })).toBe(
      'nothing-started'
    );
    expect(endingOf({ ...facts, beforeAnything: true, nothingStarted: true, stackEmpty: true, cancelled: true })).toBe(
      'unwind'
    );
    expect(revertFailure('continue')).toBe('needs-attention');
    expect(revertFailure('park')).toBe('park');
    expect(statusAfterUnwinding(true, 0)).toBe('cancelled');
    expect(statusAfterUnwinding(true, 1)).toBe('revert_failed');
    expect(statusAfterUnwinding(false, 0)).toBe('reverted');
  });
});
