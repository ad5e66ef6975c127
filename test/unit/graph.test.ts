/**
 * `jipper graph` draws the graph the planner makes, not the list: a step with `needs` hangs off what it needs (a
 * group it needs fans in from every member), steps that need nothing start together, an edge another need already
 * implies is left out, and the revert path is the engine's own waves (`revertWaves`): newest first, independent
 * branches side by side, nothing that waits for the pivot. No server.
 */
import { z } from 'zod';
import { defineJob } from '../../src/jobs/job';
import { defineLibrary } from '../../src/jobs/library';
import { JobRegistry } from '../../src/runtime/registry';
import { forwardEdges, processGraph, revertPath } from '../../src/cli/graph';
import { planMermaid, planView } from '../../src/cli/plan-view';
import type { ProcessDefinition } from '../../src/schema/definition';
import type { Plan } from '../../src/shared/plan';

const job = (name: string, revert = true) =>
  defineJob({
    name,
    input: z.object({}).loose(),
    run: async () => ({ ok: name }),
    ...(revert ? { revert: async () => undefined } : {}),
  });
const registry = new JobRegistry([defineLibrary('t', [job('work'), job('note', false)])]);

function planOf(definition: ProcessDefinition): Plan & { definition: ProcessDefinition } {
  const checked = registry.validate(definition);
  expect(checked.problems).toEqual([]);
  return { ...checked, definition };
}

/** alloc and audit start together; prepare (a group) needs alloc; export needs prepare and audit; register, alloc. */
const diamond: ProcessDefinition = {
  name: 'diamond',
  steps: [
    { id: 'alloc', job: 'work' },
    { id: 'audit', job: 'note', needs: [] },
    {
      id: 'prepare',
      needs: ['alloc'],
      parallel: [
        { id: 'fs', job: 'work', args: { v: { $from: 'alloc.ok' } } },
        { id: 'quota', job: 'work' },
      ],
    },
    { id: 'export', job: 'work', needs: ['prepare', 'audit'] },
    // Reads alloc and needs prepare, which needs alloc: the edge from alloc is implied.
    { id: 'register', job: 'work', needs: ['prepare'], args: { path: { $from: 'alloc.ok' } } },
  ],
};

/** The chart's edges drawn with `arrow`, by step id (j<n> and r<n> are the n-th job). */
function edges(chart: string, arrow: string, ids: readonly string[]): string[] {
  const name = (node: string) => {
    const m = /^[jr](\d+)$/.exec(node);
    return m ? (ids[Number(m[1])] as string) : node;
  };
  return chart
    .split('\n')
    .map((line) => line.trim().split(` ${arrow} `))
    .filter((parts) => parts.length === 2)
    .map(([from, to]) => `${name(from as string)} → ${name(to as string)}`);
}

test('a needs graph: edges follow needs and $from, not the list; groups fan out and in; implied edges left out', () => {
  const { definition, jobs, nodes } = planOf(diamond);
  expect(forwardEdges(nodes ?? [])).toEqual({
    starts: ['alloc', 'audit'],
    edges: [
      ['alloc', 'fs'],
      ['alloc', 'quota'],
      ['fs', 'export'],
      ['quota', 'export'],
      ['audit', 'export'],
      ['fs', 'register'],
      ['quota', 'register'],
    ],
    ends: ['export', 'register'],
  });
  const chart = processGraph(definition, jobs, nodes);
  const ids = jobs.map((j) => j.stepId);
  expect(edges(chart, '-->', ids)).toEqual([
    'start → alloc',
    'start → audit',
    'alloc → fs',
    'alloc → quota',
    'fs → export',
    'quota → export',
    'audit → export',
    'fs → register',
    'quota → register',
    'export → done',
    'register → done',
  ]);
  expect(chart).toContain('subgraph g2["parallel: prepare"]');
  // The same forward graph in the plan preview's chart.
  const view = planView(definition, planOf(diamond), {});
  expect(edges(planMermaid(view, definition, jobs), '-->', ids)).toEqual(edges(chart, '-->', ids));
});

test('the revert path is the engine’s waves: export and register side by side, then prepare and audit, then alloc', () => {
  const { definition, jobs, nodes } = planOf(diamond);
  expect(revertPath(definition, jobs, nodes ?? [])).toEqual([
    ['register', 'export'],
    ['quota', 'fs', 'audit'],
    ['alloc'],
  ]);
  const chart = processGraph(definition, jobs, nodes);
  const ids = jobs.map((j) => j.stepId);
  const dashed = edges(chart, '-.->', ids);
  expect(dashed.slice(0, 2)).toEqual(['failure → export', 'failure → register']);
  expect(dashed).toContain('register → audit');
  expect(dashed).toContain('export → quota');
  expect(dashed).toContain('audit → alloc');
  expect(dashed.at(-1)).toBe('alloc → reverted');
  // audit has no revert: skipped on the revert path.
  expect(chart).toContain(`r${ids.indexOf('audit')}["skip audit<br/>no revert"]`);

  const parallel = { ...diamond, options: { revertMode: 'parallel' as const } };
  expect(revertPath(parallel, jobs, nodes ?? [])).toHaveLength(1);
});

test('a pivot in a graph: nothing that starts after it is unwound; a job beside it still is', () => {
  const { definition, jobs, nodes } = planOf({
    name: 'pivoted',
    steps: [
      { id: 'a', job: 'work' },
      { id: 'commit', job: 'work', pivot: true },
      { id: 'after', job: 'work' },
      { id: 'beside', job: 'work', needs: ['a'] },
      // Needs no pivot, but starts once the pivot has succeeded: a failure there is past the pivot (as `plan` says).
      { id: 'later', job: 'work', needs: ['beside'] },
    ],
  });
  expect(revertPath(definition, jobs, nodes ?? [])).toEqual([['beside'], ['a']]);
  expect(planView(definition, planOf(definition), { failAt: 'later' }).previews[0]?.stoppedPastPivot).toBe(true);
  const chart = processGraph(definition, jobs, nodes);
  expect(chart).toContain('j1["⚑ commit<br/>work<br/>pivot: no way back"]');
  expect(chart).not.toMatch(/revert (commit|after|later)/);
  expect(chart).toContain('failure{{"a job before the pivot fails, or cancel"}}');
});
