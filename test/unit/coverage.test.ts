/**
 * Compensation coverage (`compensationCoverage`, `jipper check`): one definition per kind of gap — a job without a
 * revert, a timeout with an unknown outcome, a failure past the pivot, a failure class that does not unwind — and how
 * each is covered (a revert, `revertOnFailure`, a probe, `afterPivot: retry`, the class in `revertOn`) or said to be
 * intended (`reason`, `revert: none`). `revert: none` also leaves the job's revert out of the plan: a preview of a
 * failure skips it. No server.
 */
import { z } from 'zod';
import { defineJob } from '../../src/jobs/job';
import { defineLibrary } from '../../src/jobs/library';
import { JobRegistry } from '../../src/runtime/registry';
import type { ProcessDefinition } from '../../src/schema/definition';
import type { CoverageReport } from '../../src/checks/coverage';
import { compensationCoverage } from '../../src/checks/coverage';
import { previewPlan } from '../../src/shared/revert-plan';
import { coverageOf, expectFullCoverage } from '../../src/testing';

const undo = async () => undefined;
const job = (name: string, extra: { revert?: boolean; probe?: boolean } = {}) =>
  defineJob({
    name,
    input: z.object({}).loose(),
    run: async () => ({ ok: name }),
    ...(extra.revert === false ? {} : { revert: undo }),
    ...(extra.probe ? { probe: async () => 'not-applied' as const } : {}),
  });
const registry = new JobRegistry([
  defineLibrary('abc', [job('a'), job('b'), job('c'), job('plain', { revert: false }), job('probed', { probe: true })]),
]);

function coverage(definition: ProcessDefinition): CoverageReport {
  const checked = registry.validate(definition);
  expect(checked.problems).toEqual([]);
  return compensationCoverage(checked.definition as ProcessDefinition, checked);
}

/** step → its gap kinds (or its status when it has none). */
function gaps(report: CoverageReport): Record<string, string> {
  return Object.fromEntries(
    report.steps.map((s) => [
      s.stepId,
      s.gaps.length ? `${s.status}: ${s.gaps.map((g) => g.kind).join(',')}` : s.status,
    ])
  );
}

// Every step's own timeout is covered by revertOnFailure, so each table shows only the gap it is about.
const safe = { revertOnFailure: true };

test('a job without a revert is a gap when something after it can fail, and only then', () => {
  const report = coverage({
    name: 'p',
    steps: [
      { id: 's1', job: 'plain' },
      { id: 's2', job: 'a', ...safe },
      { id: 's3', job: 'plain' },
    ],
  });
  expect(gaps(report)).toEqual({ s1: 'gap: no-revert', s2: 'covered', s3: 'covered' });
  expect(report.steps[0]?.gaps[0]).toMatchObject({ failing: ['s2', 's3'] });
  expect(report.findings).toBe(1);
});

test('a timeout of a job with a revert leaves an unknown outcome unless revertOnFailure or a probe covers it', () => {
  const report = coverage({
    name: 'p',
    steps: [
      { id: 'bare', job: 'a' },
      { id: 'flagged', job: 'b', revertOnFailure: true },
      { id: 'probed', job: 'probed' },
    ],
  });
  expect(gaps(report)).toEqual({ bare: 'gap: unknown-outcome', flagged: 'covered', probed: 'covered' });
});

test('past the pivot a failure that ends the process leaves every earlier effect standing; afterPivot: retry covers it', () => {
  const failing = coverage({
    name: 'p',
    steps: [
      { id: 'before', job: 'a', ...safe },
      { id: 'pivot', job: 'b', pivot: true, ...safe },
      { id: 'after', job: 'c', ...safe },
    ],
  });
  expect(gaps(failing)).toEqual({ before: 'gap: past-pivot', pivot: 'gap: past-pivot', after: 'covered' });
  expect(failing.steps[0]?.gaps[0]).toMatchObject({ failing: ['after'] });
  const retried = coverage({
    name: 'p',
    steps: [
      { id: 'before', job: 'a', ...safe },
      { id: 'pivot', job: 'b', pivot: true, ...safe },
      { id: 'after', job: 'c', afterPivot: 'retry', ...safe },
    ],
  });
  expect(retried.findings).toBe(0);
});

test('a failure class not in a later step’s revertOn leaves the earlier effects standing', () => {
  const report = coverage({
    name: 'p',
    steps: [
      { id: 'first', job: 'a', ...safe },
      { id: 'second', job: 'b', revertOn: ['business', 'infrastructure', 'cancel'], ...safe },
    ],
  });
  expect(gaps(report)).toEqual({ first: 'gap: failure-class', second: 'covered' });
  expect(report.steps[0]?.gaps[0]).toMatchObject({ classes: { second: ['timeout'] } });
  expect(report.steps[0]?.gaps[0]?.message).toMatch(/timeout failure of second is not in its revertOn/);
});

test('a reason makes the gaps intended; revert: none needs one, and leaves the job’s revert out of the plan', () => {
  const definition: ProcessDefinition = {
    name: 'p',
    steps: [
      { id: 'mail', job: 'a', revert: 'none', reason: 'an email cannot be unsent' },
      { id: 'later', job: 'b', ...safe },
    ],
  };
  const report = coverage(definition);
  expect(gaps(report)).toEqual({ mail: 'intended: no-revert', later: 'covered' });
  expect(report.findings).toBe(0);
  const checked = registry.validate(definition);
  expect(checked.jobs.find((j) => j.stepId === 'mail')?.hasRevert).toBe(false);
  expect(previewPlan(checked, definition, {}, { failAt: 'later' }).reverts.flat()).toContainEqual({
    stepId: 'mail',
    action: 'skip',
  });
  const problems = registry
    .validate({ name: 'p', steps: [{ id: 'x', job: 'a', revert: 'none' }] })
    .problems.map((p) => `${p.path}: ${p.message}`);
  expect(problems).toEqual(['steps[0].reason: `revert: none` needs a `reason` (why the effect may stand)']);
});

test('the testing kit asserts full coverage, naming each finding', () => {
  const gappy: ProcessDefinition = {
    name: 'gappy',
    steps: [
      { id: 's1', job: 'plain' },
      { id: 's2', job: 'a', ...safe },
    ],
  };
  expect(coverageOf(gappy, registry).findings).toBe(1);
  expect(() => expectFullCoverage(gappy, registry)).toThrow(
    /gappy: s1 \(plain\): no-revert: no revert: a failure of s2/
  );
  expect(() => expectFullCoverage({ ...gappy, steps: gappy.steps.slice(1) }, registry)).not.toThrow();
});
