/**
 * Model-based test on a real server: generated definitions (chains, groups, `needs` graphs, pivots,
 * `revertOnFailure`, failure classes, jobs with and without reverts, revert modes, park mode) run through the real
 * engine with a fault — a job failing, a cancellation while a job runs, or a revert failing — and every job's run and
 * revert written to a ledger. The ledger must hold exactly what the saga core predicts (the testing kit's
 * `predictOutcome`) and what `jipper plan`'s preview shows: which effects stand, which were reverted, in which order.
 */
import fc from 'fast-check';
import { z } from 'zod';
import { defineJob } from '../../src/jobs/job';
import { defineLibrary } from '../../src/jobs/library';
import { JobRegistry } from '../../src/runtime/registry';
import type { JobStep, ProcessDefinition, Step } from '../../src/schema/definition';
import { previewPlan } from '../../src/shared/revert-plan';
import type { MatrixCase, TestRun } from '../../src/testing';
import { failureMatrix, processModel } from '../../src/testing';
import type { TestWorker } from '../support/worker';
import { startTestWorker } from '../support/worker';
import { definitionArbitrary } from '../support/arbitraries';

/** How many generated cases run on the server, and how many at once. */
const CASES = 200;
const AT_ONCE = 10;

const input = z.object({}).passthrough();
/** The model library: the jobs generated definitions name (test/support/arbitraries.ts's MODEL_JOBS), instant. */
const withRevert = defineJob({
  name: 'with-revert',
  input,
  options: { retry: { maximumAttempts: 1 } },
  async run(_input, ctx) {
    return { done: ctx.stepId };
  },
  async revert() {},
});
const withoutRevert = defineJob({
  name: 'without-revert',
  input,
  options: { retry: { maximumAttempts: 1 } },
  async run(_input, ctx) {
    return { done: ctx.stepId };
  },
});
const library = defineLibrary('model', [withRevert, withoutRevert]);

/**
 * A generated definition narrowed to what has one outcome on a real server, where jobs take real time: the steps as a
 * list (no `needs`: where branches run side by side, whether a step on one branch starts before a failure on another
 * is known is a race — the core's model test covers graphs on a simulated clock); groups succeed when `all` members do
 * (with `any` or `n`, which members finish first is a race); no tokens (the keeper's own tests cover them); no
 * `afterPivot: retry` (it retries an injected fault for ever); no probes (the model job with one becomes a job with a
 * revert: a probe answers about an ambiguous failure, which an injected fault is not).
 */
function deterministic(definition: ProcessDefinition): ProcessDefinition {
  const job = (step: JobStep): JobStep => {
    const { tokens: _tokens, afterPivot, needs: _needs, ...rest } = step;
    return {
      ...rest,
      job: step.job === 'with-probe' ? withRevert.name : step.job,
      ...(afterPivot !== undefined && afterPivot !== 'retry' ? { afterPivot } : {}),
    };
  };
  const steps = definition.steps.map((step): Step => {
    if (!('parallel' in step)) return job(step);
    const { succeedWhen: _policy, needs: _needs, ...group } = step;
    return { ...group, parallel: group.parallel.map(job) };
  });
  return { ...definition, steps };
}

/** Generated definitions and one fault case of each, the same on every run (a fixed seed). */
function generatedCases(): { definition: ProcessDefinition; testCase: MatrixCase }[] {
  const definitions = fc.sample(definitionArbitrary(), { seed: 20261207, numRuns: CASES }).map(deterministic);
  return definitions.map((definition, i) => {
    const cases = failureMatrix(definition, [library]);
    const testCase = cases[(i * 7919) % cases.length] as MatrixCase;
    return { definition, testCase };
  });
}

/** What the ledger says: each step whose run took effect, and the reverts that ran, in the order they started. */
function ledgerOf(run: TestRun): { standing: string[]; reverts: string[] } {
  const ran = run.calls.filter((c) => c.side === 'run' && c.outcome === 'ok').map((c) => c.stepId);
  // A revert retried after an operator's decision is called again: the order is that of each step's first revert.
  const reverts = [...new Set(run.calls.filter((c) => c.side === 'revert').map((c) => c.stepId))];
  const undone = new Set(run.calls.filter((c) => c.side === 'revert' && c.outcome === 'ok').map((c) => c.stepId));
  return { standing: ran.filter((id) => !undone.has(id)).sort(), reverts };
}

/** The reverts in waves (any order within a wave) as one list, taking the actual order where a wave allows it. */
function matchesWaves(actual: readonly string[], waves: readonly (readonly string[])[]): boolean {
  const rest = [...actual];
  for (const wave of waves) {
    const taken = rest.splice(0, wave.length);
    if (taken.length !== wave.length || !wave.every((id) => taken.includes(id))) return false;
  }
  return rest.length === 0;
}

let worker: TestWorker;
beforeAll(async () => {
  worker = await startTestWorker([library], 'model');
});
afterAll(async () => {
  await worker?.shutdown();
});

test(`${CASES} generated cases: the ledger of every run is what the core and the preview predict`, async () => {
  const cases = generatedCases();
  const registry = new JobRegistry([library]);
  const failures: string[] = [];
  let next = 0;
  const runOne = async (): Promise<void> => {
    for (let i = next++; i < cases.length; i = next++) {
      const { definition, testCase } = cases[i] as (typeof cases)[number];
      const where = `case ${i} (${testCase.name}) of ${JSON.stringify(definition)}`;
      let run: TestRun;
      try {
        run = await worker.runCase(testCase);
      } catch (err) {
        failures.push(`${where}: ${(err as Error).message}`);
        continue;
      }
      const ledger = ledgerOf(run);
      const expected = testCase.expected;
      const standing = Object.entries(expected.jobs)
        .filter(([, job]) => ['succeeded', 'skipped', 'revert_failed'].includes(job.status))
        .map(([id]) => id)
        .filter((id) => run.calls.some((c) => c.stepId === id && c.side === 'run' && c.outcome === 'ok'))
        .sort();
      if (JSON.stringify(ledger.standing) !== JSON.stringify(standing)) {
        failures.push(`${where}: effects standing ${ledger.standing.join(',')}, predicted ${standing.join(',')}`);
      }
      if (!matchesWaves(ledger.reverts, expected.revertOrder)) {
        failures.push(
          `${where}: reverts ran ${ledger.reverts.join(' → ')}, predicted ${JSON.stringify(expected.revertOrder)}`
        );
      }
      if (testCase.scenario.kind === 'fail' && expected.parkedAt === undefined) {
        // What `jipper plan` shows for a failure at that step.
        const model = processModel(definition, registry);
        const preview = previewPlan(model.plan, model.definition, definition.options ?? {}, {
          failAt: testCase.scenario.stepId,
        });
        const waves = preview.reverts.map((wave) => wave.filter((r) => r.action !== 'skip').map((r) => r.stepId));
        if (
          !matchesWaves(
            ledger.reverts,
            waves.filter((wave) => wave.length)
          )
        ) {
          failures.push(
            `${where}: reverts ran ${ledger.reverts.join(' → ')}, the preview shows ${JSON.stringify(waves)}`
          );
        }
      }
    }
  };
  await Promise.all(Array.from({ length: AT_ONCE }, runOne));
  expect(failures).toEqual([]);
}, 600_000);
