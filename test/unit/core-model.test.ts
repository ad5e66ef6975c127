/**
 * Model-based tests of the saga core, without a server: random definitions (lists, groups with all/any/n, `needs`
 * DAGs, a pivot, `revertOnFailure`, `revertOn` / `otherwise`, jobs with and without reverts or probes, tokens) with a
 * failure, a cancellation or a deadline at any step, run on the core's simulated clock. The invariants are computed
 * here from the definition, not by the core's own helpers.
 */
import fc from 'fast-check';
import type { SimRun, SimScenario } from '../../src/core';
import { afterWave, revertWaves, simulate } from '../../src/core';
import { processDefinitionSchema } from '../../src/schema/definition';
import type { ProcessDefinition } from '../../src/schema/definition';
import type { PlanNode, PlannedJob } from '../../src/shared/plan';
import { planFromFacts } from '../../src/shared/plan';
import type { ModelScenario } from '../support/arbitraries';
import { caseArbitrary, definitionArbitrary, modelFacts } from '../support/arbitraries';

const RUNS = 10_000;
/** Cases per generated definition (planning a definition costs more than simulating a case). */
const PER_DEFINITION = 4;

/** A failed invariant: plain throws in the hot loops (`expect` costs far more per call). */
function holds(condition: boolean, what: string): void {
  if (!condition) throw new Error(`invariant broken: ${what}`);
}

/** `depends(a, b)`: job `a` waits, transitively, for job `b` (through the nodes' needs). */
function dependencies(nodes: readonly PlanNode[]): (a: string, b: string) => boolean {
  const nodeOf = new Map<string, PlanNode>();
  for (const node of nodes) {
    nodeOf.set(node.id, node);
    for (const m of node.members) nodeOf.set(m, node);
  }
  const closure = new Map<PlanNode, Set<PlanNode>>();
  const above = (node: PlanNode): Set<PlanNode> => {
    const known = closure.get(node);
    if (known) return known;
    const all = new Set<PlanNode>();
    for (const name of node.needs) {
      const up = nodeOf.get(name) as PlanNode;
      all.add(up);
      for (const n of above(up)) all.add(n);
    }
    closure.set(node, all);
    return all;
  };
  return (a, b) => above(nodeOf.get(a) as PlanNode).has(nodeOf.get(b) as PlanNode);
}

function toSim(scenario: ModelScenario, revertFails: string[], probeApplied: boolean): SimScenario {
  const probe = () => (probeApplied ? ('applied' as const) : ('not-applied' as const));
  const base = { revertFails, probe };
  if (scenario.kind === 'fail') return { ...base, failAt: scenario.stepIds };
  if (scenario.kind === 'cancel') return { ...base, cancelAt: scenario.stepId };
  if (scenario.kind === 'deadline') return { ...base, deadlineAt: scenario.tick };
  return base;
}

interface Case {
  definition: ProcessDefinition;
  jobs: Map<string, PlannedJob>;
  nodes: PlanNode[];
  run: SimRun;
}

function planned(definition: ProcessDefinition): { jobs: PlannedJob[]; nodes: PlanNode[] } {
  const plan = planFromFacts(definition, {}, modelFacts());
  if (plan.problems.length) throw new Error(`unplannable: ${JSON.stringify(plan.problems)}`);
  return { jobs: plan.jobs, nodes: plan.nodes as PlanNode[] };
}

/** Whether the process's forward pass stopped past its pivot: the pivot node met its policy in an earlier tick. */
function pivotPassedBeforeStop(c: Case): boolean {
  const pivot = c.nodes.find((node) => node.pivot);
  if (!pivot || !c.run.stoppedAt) return false;
  const stopTick = c.run.forward.length - 1;
  const tick = c.run.forward.findIndex((wave) => wave.includes(pivot.members[0] as string));
  const ok = pivot.members.filter((m) => c.run.succeeded.includes(m)).length;
  const needed =
    !pivot.group || pivot.succeedWhen === 'all'
      ? pivot.members.length
      : pivot.succeedWhen === 'any'
        ? 1
        : (pivot.succeedWhen as number);
  return tick >= 0 && tick < stopTick && ok >= needed;
}

/** Every invariant of a simulated run; throws the first that does not hold. */
function checkInvariants(c: Case): void {
  const { run, jobs } = c;
  const reverted = run.reverts.flat();
  const ids = reverted.map((r) => r.stepId);
  const started = new Set(run.forward.flat());
  const stopped = new Set([run.stoppedAt?.stepId, ...run.alsoFailed, ...run.cancelled].filter((x) => x !== undefined));

  // Nothing is reverted twice, and nothing that did not start.
  holds(new Set(ids).size === ids.length, `nothing is reverted twice: ${ids.join(', ')}`);
  for (const id of ids) holds(started.has(id), `${id} is reverted but never started`);
  // Only what finished is reverted: a succeeded job, or a stopped job whose effect may stand.
  for (const r of reverted) {
    if (r.afterFailure) {
      holds(stopped.has(r.stepId), `${r.stepId} is reverted after a failure it did not have`);
      const job = jobs.get(r.stepId) as PlannedJob;
      holds(job.options.revertOnFailure || Boolean(job.hasProbe), `${r.stepId} is reverted after its failure unasked`);
    } else {
      holds(run.succeeded.includes(r.stepId), `${r.stepId} is reverted but did not succeed`);
    }
    // A job without a revert is skipped, never reverted.
    holds(
      (r.action === 'skip') === !(jobs.get(r.stepId) as PlannedJob).hasRevert,
      `${r.stepId}: skipped iff no revert`
    );
  }

  if (!run.stoppedAt) {
    expect(run.status).toBe('succeeded');
    expect(reverted).toEqual([]);
    expect(run.notRun).toEqual([]);
    return;
  }
  // Nothing past a pivot is reverted.
  expect(run.stoppedPastPivot).toBe(pivotPassedBeforeStop(c));
  if (run.stoppedPastPivot) expect(reverted).toEqual([]);

  const stopper = jobs.get(run.stoppedAt.stepId) as PlannedJob;
  const failureClass = { failure: 'business', cancel: 'cancel', deadline: 'timeout' }[run.stoppedAt.by] as 'business';
  // The stopper and every job cancelled (or cut) with it failed with that class: each one's `revertOn` counts.
  const withClass = [stopper, ...run.cancelled.map((id) => jobs.get(id) as PlannedJob)];
  const unwinds =
    !run.stoppedPastPivot &&
    withClass.every((job) => !job.options.revertOn || job.options.revertOn.includes(failureClass));
  if (!unwinds) {
    expect(reverted).toEqual([]);
    return;
  }
  // Every job that succeeded before the stop is accounted for: reverted, or skipped for want of a revert.
  for (const id of run.succeeded) holds(ids.includes(id), `${id} succeeded and is not accounted for in the unwinding`);

  if (c.definition.options?.revertMode === 'parallel') {
    expect(run.reverts.length).toBeLessThanOrEqual(1);
  } else {
    // Newest first within the graph's order: a job is reverted only after every job that depends on it.
    const depends = dependencies(c.nodes);
    const wave = new Map<string, number>();
    run.reverts.forEach((w, i) => w.forEach((r) => wave.set(r.stepId, i)));
    for (const a of ids) {
      for (const b of ids) {
        if (a !== b && depends(a, b))
          holds((wave.get(a) as number) < (wave.get(b) as number), `${a} (needs ${b}) is reverted first`);
      }
    }
    // The failed jobs' own reverts come first.
    for (const r of reverted)
      if (r.afterFailure) holds(wave.get(r.stepId) === 0, `${r.stepId}'s own revert comes first`);
    // Unwinding wave by wave (as the workflow does) gives the same waves as the preview's one-shot plan.
    let units = run.units;
    const stepwise: string[][] = [];
    while (units.length) {
      const [first = []] = revertWaves(units, { nodes: c.nodes });
      stepwise.push(first);
      units = afterWave(units, first);
    }
    expect(stepwise).toEqual(run.reverts.map((w) => w.map((r) => r.stepId)));
  }
  // How it ends.
  const failedRevert = reverted.some((r) => r.action === 'revert-failed');
  const park = c.definition.options?.onRevertFailure === 'park';
  const expected = failedRevert
    ? park
      ? 'parked'
      : 'revert_failed'
    : run.stoppedAt.by === 'cancel'
      ? 'cancelled'
      : 'reverted';
  expect(run.status).toBe(expected);
}

describe('the saga core, model-based', () => {
  test('generated definitions are valid and plannable', () => {
    fc.assert(
      fc.property(definitionArbitrary(), (definition) => {
        const parsed = processDefinitionSchema.safeParse(definition);
        if (!parsed.success) throw new Error(JSON.stringify(parsed.error.issues));
        planned(definition);
      }),
      { numRuns: 500 }
    );
  });

  test(`invariants hold for ${RUNS} generated cases of failure, cancellation and deadline`, () => {
    const began = performance.now();
    const kinds: Record<string, number> = {};
    let cases = 0;
    fc.assert(
      fc.property(
        caseArbitrary({ perDefinition: PER_DEFINITION }),
        fc.boolean(),
        ({ definition, cases: each }, probe) => {
          const { jobs, nodes } = planned(definition);
          const byId = new Map(jobs.map((j) => [j.stepId, j]));
          for (const { scenario, revertFails } of each) {
            cases += 1;
            const run = simulate(nodes, jobs, definition.options ?? {}, toSim(scenario, revertFails, probe));
            const key = `${scenario.kind}:${run.status}${run.stoppedPastPivot ? ':past-pivot' : ''}`;
            kinds[key] = (kinds[key] ?? 0) + 1;
            checkInvariants({ definition, jobs: byId, nodes, run });
          }
        }
      ),
      { numRuns: RUNS / PER_DEFINITION }
    );
    expect(cases).toBeGreaterThanOrEqual(RUNS);
    const ms = performance.now() - began;
    // The cases reach every ending (not a generator stuck on one shape).
    for (const key of [
      'fail:reverted',
      'fail:failed',
      'fail:parked',
      'cancel:cancelled',
      'deadline:reverted',
      'none:succeeded',
    ]) {
      expect(kinds[key] ?? 0).toBeGreaterThan(0);
    }
    expect(Object.keys(kinds).some((k) => k.endsWith(':past-pivot'))).toBe(true);
    // 1.7 s with the two cores at a load of 3, 9 s at a load of 18: recorded here, not asserted (load makes it flaky).
    void ms;
  });
});
