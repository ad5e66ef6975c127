/**
 * Planning from a client's job facts (in the workflow) must give exactly the plan the worker's registry gives (the
 * `jipper.plan` local activity): the same jobs, options, reverts, fingerprints and parameters.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { defineJob } from '../../src/activities/job';
import { JobRegistry } from '../../src/activities/registry';
import { volumeLibrary } from '../../src/activities/examples/volume-jobs';
import { loadDefinitionFile } from '../../src/cli/definition-file';
import { planDefinition } from '../../src/client';
import type { ProcessDefinition } from '../../src/schema/definition';
import { planFromFacts } from '../../src/shared/plan';
import { z } from 'zod';
import { defineLibrary } from '../../src/activities/library';

const examples = join(__dirname, '..', '..', 'examples');
const registry = new JobRegistry([volumeLibrary({ root: '/nonexistent' })]);

function bothWays(definition: unknown, params: Record<string, unknown>) {
  const byWorker = registry.validate(definition, params);
  expect(byWorker.problems).toEqual([]);
  const { definition: checked, jobs } = planDefinition(definition, { registry, params });
  return {
    byWorker: { problems: byWorker.problems, params: byWorker.params, jobs: byWorker.jobs },
    byFacts: planFromFacts(checked, params, jobs ?? {}),
  };
}

test.each(readdirSync(examples).filter((f) => /\.(ya?ml|json)$/.test(f)))(
  '%s: the same plan either way',
  async (file) => {
    const definition = await loadDefinitionFile(join(examples, file));
    // Only parameters the example has (a parameter a process has no use for is a typo, refused).
    const uses = (name: string) => JSON.stringify(definition).includes(`"${name}"`);
    const params = { volume: 'v1', ...(uses('exportName') ? { exportName: 'e1' } : {}) };
    const { byWorker, byFacts } = bothWays(definition, params);
    expect(byFacts).toEqual(byWorker);
    expect(byFacts.jobs.length).toBeGreaterThan(0);
  }
);

test('groups, the pivot, process defaults and step overrides plan the same either way', () => {
  const slow = defineJob({
    name: 'slow',
    input: z.object({}),
    options: { timeout: '5m', retry: { maximumAttempts: 7 }, revert: { timeout: '9m' } },
    run: async () => null,
    revert: async () => undefined,
  });
  const plain = defineJob({ name: 'plain', input: z.object({}), run: async () => null });
  const own = new JobRegistry([defineLibrary('own', [slow, plain])]);
  const definition: ProcessDefinition = {
    name: 'mixed',
    params: { a: 1, b: 2 },
    options: { defaults: { retry: { initialInterval: '2s' }, revert: { retry: { maximumAttempts: 4 } } } },
    steps: [
      { id: 's1', job: 'slow', timeout: '30s' },
      {
        id: 'g',
        pivot: true,
        parallel: [
          { id: 'p1', job: 'plain' },
          { id: 'p2', job: 'slow', revertOnFailure: true },
        ],
      },
      { parallel: [{ id: 'q1', job: 'plain', heartbeatTimeout: '3s' }] },
    ],
  };
  const params = { b: 3, c: undefined };
  const byWorker = own.validate(definition, params);
  const { definition: checked, jobs } = planDefinition(definition, { registry: own, params });
  expect(planFromFacts(checked, params, jobs ?? {})).toEqual({
    problems: [],
    params: byWorker.params,
    jobs: byWorker.jobs,
  });
  expect(byWorker.jobs.find((j) => j.stepId === 'p2')).toMatchObject({
    group: 'g',
    pivot: true,
    hasRevert: true,
    options: {
      run: { timeout: '5m', retry: { maximumAttempts: 7, initialInterval: '2s' } },
      revert: { timeout: '9m', retry: { maximumAttempts: 4 } },
      revertOnFailure: true,
    },
  });
  expect(byWorker.params).toEqual({ a: 1, b: 3 });
});

test('a job the facts do not cover and a step id used twice are problems, not a plan', () => {
  const definition: ProcessDefinition = {
    name: 'x',
    steps: [
      { id: 'a', job: 'allocate-volume' },
      { id: 'a', job: 'set-quota' },
    ],
  };
  const plan = planFromFacts(definition, {}, registry.facts(['allocate-volume']));
  expect(plan.problems).toEqual([
    { path: 'steps[1].id', message: 'duplicate step id "a"' },
    { path: 'steps[1].job', message: 'no facts about job "set-quota" came with the start request' },
  ]);
});

test('malformed facts (anyone may send a start request) are a problem, not a crash', () => {
  const definition: ProcessDefinition = {
    name: 'x',
    steps: [
      { id: 'a', job: 'allocate-volume' },
      { id: 'b', job: 'set-quota' },
    ],
  };
  const facts = registry.facts(['allocate-volume', 'set-quota']);
  const bad = {
    ...facts,
    'set-quota': { ...facts['set-quota'], defaults: { revert: 'soon' } },
  } as unknown as typeof facts;
  expect(planFromFacts(definition, {}, bad).problems).toEqual([
    { path: 'steps[1].job', message: 'the facts about job "set-quota" that came with the start request are malformed' },
  ]);
  expect(
    planFromFacts(definition, {}, { ...facts, 'allocate-volume': null } as unknown as typeof facts).problems
  ).toHaveLength(1);
});
