/**
 * The one planner (`planFromFacts`) and the revert plan: every example plans from its client's facts to the plan the
 * worker's check gives; the graph follows `needs`, `$from` and `uses`, rejects cycles (named) and unknown names; the
 * unwinding's waves are LIFO for a list and side by side for independent branches; and `previewPlan` says, for a
 * failure or a cancellation at any step, what runs and what is reverted in which order. No server.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { defineJob } from '../../src/jobs/job';
import { defineLibrary } from '../../src/jobs/library';
import { JobRegistry } from '../../src/runtime/registry';
import { volumeLibrary } from '../../src/examples/volume/volume-jobs';
import { loadDefinitionFile } from '../../src/client/definition-file';
import { planDefinition } from '../../src/client';
import type { ProcessDefinition } from '../../src/schema/definition';
import type { Plan } from '../../src/shared/plan';
import { planFromFacts } from '../../src/shared/plan';
import { previewPlan, revertWaves } from '../../src/shared/revert-plan';

const examples = join(__dirname, '..', '..', 'examples');
const volumes = new JobRegistry([volumeLibrary({ root: '/nonexistent' })]);

const undo = async () => undefined;
const job = (name: string, revert = true) =>
  defineJob({
    name,
    input: z.object({}).loose(),
    run: async () => ({ ok: name }),
    ...(revert ? { revert: undo } : {}),
  });
const registry = new JobRegistry([defineLibrary('abc', [job('a'), job('b'), job('c'), job('d'), job('plain', false)])]);

/** Plans a definition the way a client and the workflow do; fails the test on any problem. */
function plan(definition: ProcessDefinition, reg = registry): Plan & { definition: ProcessDefinition } {
  const checked = reg.validate(definition);
  expect(checked.problems).toEqual([]);
  const { jobs } = planDefinition(definition, { registry: reg });
  const planned = planFromFacts(definition, {}, jobs ?? {});
  expect(planned).toMatchObject({ problems: [], params: checked.params, jobs: checked.jobs, nodes: checked.nodes });
  return { ...planned, definition };
}

function problemsOf(definition: unknown): string[] {
  return registry.validate(definition).problems.map((p) => `${p.path}: ${p.message}`);
}

test.each(readdirSync(examples).filter((f) => /\.(ya?ml|json)$/.test(f)))(
  '%s: the client plans from facts exactly what the worker plans',
  async (file) => {
    const definition = await loadDefinitionFile(join(examples, file));
    // Only parameters the example has (a parameter a process has no use for is a typo, refused).
    const uses = (name: string) => JSON.stringify(definition).includes(`"${name}"`);
    const params = { volume: 'v1', ...(uses('exportName') ? { exportName: 'e1' } : {}) };
    const byWorker = volumes.validate(definition, params);
    expect(byWorker.problems).toEqual([]);
    const { definition: checked, jobs } = planDefinition(definition, { registry: volumes, params });
    const byFacts = planFromFacts(checked, params, jobs ?? {});
    expect(byFacts.problems).toEqual([]);
    expect(byFacts.jobs).toEqual(byWorker.jobs);
    expect(byFacts.nodes).toEqual(byWorker.nodes);
    expect(byFacts.jobs.length).toBeGreaterThan(0);
  }
);

describe('the graph', () => {
  test('a list is a chain: each step needs the one before it, and $from adds the step it reads', () => {
    const { nodes } = plan({
      name: 'list',
      steps: [
        { id: 'a', job: 'a' },
        {
          id: 'g',
          parallel: [
            { id: 'b', job: 'b' },
            { id: 'c', job: 'c', args: { x: { $from: 'a.ok' } } },
          ],
        },
        { id: 'd', job: 'd', uses: ['b'] },
      ],
    });
    expect(nodes).toEqual([
      { id: 'a', members: ['a'], needs: [] },
      { id: 'g', members: ['b', 'c'], needs: ['a'], group: true, succeedWhen: 'all' },
      { id: 'd', members: ['d'], needs: ['g', 'b'] },
    ]);
  });

  test('needs replace list order; $from and uses still add what they read', () => {
    const { nodes, jobs } = plan({
      name: 'graph',
      steps: [
        { id: 'a', job: 'a' },
        { id: 'b', job: 'b', needs: [] },
        { id: 'c', job: 'c', needs: ['a'], args: { y: { $from: 'b.ok' } } },
      ],
    });
    expect(nodes?.map((n) => [n.id, n.needs])).toEqual([
      ['a', []],
      ['b', []],
      ['c', ['a', 'b']],
    ]);
    expect(jobs.find((j) => j.stepId === 'c')?.uses).toEqual(['b']);
  });

  test('a cycle is rejected, named; a need that names nothing is rejected with a path', () => {
    expect(
      problemsOf({
        name: 'loop',
        steps: [
          { id: 'a', job: 'a', needs: ['c'] },
          { id: 'b', job: 'b', needs: ['a'] },
          { id: 'c', job: 'c', needs: ['b'] },
        ],
      })
    ).toEqual(['steps[0]: the steps wait for each other in a cycle: a → c → b → a']);
    expect(problemsOf({ name: 'x', steps: [{ id: 'a', job: 'a', needs: ['nope'] }] })).toEqual([
      'steps[0].needs[0]: no step "nope" in this process',
    ]);
  });

  test('a $from in a graph may read any step outside its group; a group member may not have needs', () => {
    expect(
      problemsOf({
        name: 'x',
        steps: [
          { id: 'a', job: 'a', needs: [], args: { v: { $from: 'b.ok' } } },
          { id: 'b', job: 'b', needs: [] },
        ],
      })
    ).toEqual([]);
    expect(
      problemsOf({
        name: 'x',
        steps: [{ id: 'a', job: 'a' }, { parallel: [{ id: 'b', job: 'b', needs: ['a'] }] }],
      })
    ).toEqual([
      'steps[1].parallel[0].needs: a member of a parallel group cannot have needs of its own: put them on the group',
    ]);
  });

  test('a group that can never succeed is rejected', () => {
    expect(problemsOf({ name: 'x', steps: [{ parallel: [{ id: 'a', job: 'a' }], succeedWhen: 2 }] })).toEqual([
      'steps[0].succeedWhen: 2 of 1 members can never succeed',
    ]);
  });

  test('facts that are missing or malformed, a step id used twice, and a cycle are problems in the workflow too', () => {
    const definition: ProcessDefinition = {
      name: 'x',
      steps: [
        { id: 'a', job: 'a', needs: ['b'] },
        { id: 'b', job: 'b', needs: ['a'] },
        { id: 'a', job: 'nofacts' },
      ],
    };
    const { jobs } = planDefinition(
      {
        name: 'y',
        steps: [
          { id: 'a', job: 'a' },
          { id: 'b', job: 'b' },
        ],
      },
      { registry }
    );
    const planned = planFromFacts(definition, {}, { ...jobs, b: { bogus: true } as never });
    expect(planned.problems.map((p) => p.message)).toEqual([
      'the facts about job "b" that came with the start request are malformed',
      'duplicate step id "a"',
      'no facts about job "nofacts" came with the start request',
      'the steps wait for each other in a cycle: b → a → b',
    ]);
  });
});

describe('revert waves', () => {
  test('a list unwinds newest first, a group together (its members newest first)', () => {
    expect(revertWaves([['a'], ['b', 'c'], ['d']])).toEqual([['d'], ['c', 'b'], ['a']]);
  });

  test('independent branches unwind side by side; a step waits for the steps that need it', () => {
    const { nodes } = plan({
      name: 'branches',
      steps: [
        { id: 'root', job: 'a' },
        { id: 'left', job: 'b', needs: ['root'] },
        { id: 'right', job: 'c', needs: ['root'] },
        { id: 'tip', job: 'd', needs: ['left'] },
      ],
    });
    // Completed in this order: root, left, right, tip.
    expect(revertWaves([['root'], ['left'], ['right'], ['tip']], { nodes })).toEqual([
      ['tip', 'right'],
      ['left'],
      ['root'],
    ]);
  });

  test('parallel mode reverts everything at once, newest first', () => {
    expect(revertWaves([['a'], ['b', 'c']], { mode: 'parallel' })).toEqual([['c', 'b', 'a']]);
  });

  test('a list of 2,000 steps unwinds as a chain, and asking before each wave stays cheap', () => {
    const ids = Array.from({ length: 2_000 }, (_, i) => `s${i}`);
    const { nodes } = plan({ name: 'long', steps: ids.map((id) => ({ id, job: 'a' })) });
    const units = ids.map((id) => [id]);
    // The engine asks before every wave; the check used to rebuild every earlier name for each node (about a second a
    // call here, so 200 calls took minutes). One pass takes well under a millisecond: the bound is generous.
    const started = Date.now();
    for (let wave = 0; wave < 200; wave++) {
      expect(revertWaves(units.slice(0, units.length - wave), { nodes })[0]).toEqual([`s${1_999 - wave}`]);
    }
    expect(Date.now() - started).toBeLessThan(20_000);
  });
});

describe('previewPlan: what runs and what is reverted, before anything runs', () => {
  const list: ProcessDefinition = {
    name: 'list',
    steps: [
      { id: 'a', job: 'a' },
      {
        id: 'g',
        parallel: [
          { id: 'b', job: 'b' },
          { id: 'p', job: 'plain' },
        ],
      },
      { id: 'c', job: 'c', revertOnFailure: true },
      { id: 'd', job: 'd', pivot: true },
      { id: 'e', job: 'b' },
    ],
  };
  const planned = () => plan(list);

  test.each([
    ['a', [], 'reverted', [['a']]],
    ['b', [[{ stepId: 'p', action: 'skip' }], [{ stepId: 'a', action: 'revert' }]], 'reverted', [['a'], ['b', 'p']]],
    [
      'c',
      [
        [{ stepId: 'c', action: 'revert', afterFailure: true }],
        [
          { stepId: 'p', action: 'skip' },
          { stepId: 'b', action: 'revert' },
        ],
        [{ stepId: 'a', action: 'revert' }],
      ],
      'reverted',
      [['a'], ['b', 'p'], ['c'], ['d'], ['e']],
    ],
    ['e', [], 'failed', [['a'], ['b', 'p'], ['c'], ['d'], ['e']]],
  ])('a failure at %s', (failAt, reverts, status, forward) => {
    const preview = previewPlan(planned(), list, {}, { failAt });
    expect(preview.reverts).toEqual(reverts);
    expect(preview.status).toBe(status);
    expect(preview.forward.slice(0, forward.length)).toEqual(forward.slice(0, preview.forward.length));
    expect(preview.stoppedPastPivot).toBe(failAt === 'e');
  });

  test('every job succeeding: the forward waves, nothing reverted', () => {
    const preview = previewPlan(planned(), list);
    expect(preview).toMatchObject({
      forward: [['a'], ['b', 'p'], ['c'], ['d'], ['e']],
      succeeded: ['a', 'b', 'p', 'c', 'd', 'e'],
      reverts: [],
      status: 'succeeded',
    });
  });

  test('a cancellation at a group member cancels its sibling; the cancelled job is not reverted', () => {
    const preview = previewPlan(planned(), list, {}, { cancelAt: 'b' });
    expect(preview).toMatchObject({
      stoppedAt: { stepId: 'b', by: 'cancel' },
      cancelled: ['p'],
      notRun: ['c', 'd', 'e'],
      revertOrder: ['a'],
      status: 'cancelled',
    });
  });

  test('a revert that fails: revert_failed, or parked in park mode', () => {
    expect(previewPlan(planned(), list, {}, { failAt: 'c', revertFails: 'b' }).status).toBe('revert_failed');
    expect(previewPlan(planned(), list, { onRevertFailure: 'park' }, { failAt: 'c', revertFails: 'b' }).status).toBe(
      'parked'
    );
  });

  test('a group that succeeds with any member goes on without the failed one', () => {
    const any: ProcessDefinition = {
      name: 'any',
      steps: [
        { id: 'a', job: 'a' },
        {
          id: 'mirrors',
          parallel: [
            { id: 'm1', job: 'b' },
            { id: 'm2', job: 'c' },
          ],
          succeedWhen: 'any',
        },
        { id: 'd', job: 'd' },
      ],
    };
    const preview = previewPlan(plan(any), any, {}, { failAt: 'm1' });
    expect(preview.status).toBe('succeeded');
    expect(preview.succeeded).toEqual(['a', 'm2', 'd']);
  });

  test('a failure class the step does not unwind for ends failed with nothing reverted', () => {
    const definition: ProcessDefinition = {
      name: 'classes',
      steps: [
        { id: 'a', job: 'a' },
        { id: 'b', job: 'b', revertOn: ['timeout'] },
      ],
    };
    const preview = previewPlan(plan(definition), definition, {}, { failAt: 'b' });
    expect(preview).toMatchObject({ status: 'failed', reverts: [] });
  });
});
