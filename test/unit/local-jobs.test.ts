/**
 * What a local job may be (`local: true`): the core's rule, and validation reporting it at the step, one line each,
 * before anything runs — a heartbeat timeout, a long timeout, a priority, tokens or a rate limit is refused; a short
 * job with none of them, from a step, the process's defaults or the job's own defaults, is accepted.
 */
import { z } from 'zod';
import { localJobProblems, localRun, MAX_LOCAL_RUN, MAX_LOCAL_TIMEOUT_MS } from '../../src/core';
import type { ProcessDefinition } from '../../src/schema/definition';
import { planNodes } from '../../src/shared/plan';
import { defineJob } from '../../src/jobs/job';
import { defineLibrary } from '../../src/jobs/library';
import { JobRegistry } from '../../src/runtime/registry';

const row = defineJob({
  name: 'row',
  input: z.object({}),
  run: async () => ({}),
  revert: async () => undefined,
});
const watched = defineJob({
  name: 'watched',
  input: z.object({}),
  options: { local: true, heartbeatTimeout: '5s' },
  run: async () => ({}),
});
const limited = defineJob({ name: 'limited', input: z.object({}), rateLimit: '5/s', run: async () => ({}) });
const registry = new JobRegistry([defineLibrary('t', [row, watched, limited])]);

function problems(step: Record<string, unknown>, options?: Record<string, unknown>): string[] {
  const definition = { name: 'p', steps: [{ id: 'a', job: 'row', ...step }], ...(options ? { options } : {}) };
  return registry.validate(definition).problems.map((p) => `${p.path}: ${p.message}`);
}

const fix = 'drop it or run the job as an ordinary one (no "local")';

describe('local jobs are checked before anything runs', () => {
  it('accepts a short local job, from the step, the process defaults or the job itself', () => {
    expect(problems({ local: true })).toEqual([]);
    expect(problems({ local: true, timeout: '60s', revert: { timeout: '10s' } })).toEqual([]);
    expect(problems({}, { defaults: { local: true } })).toEqual([]);
    expect(
      registry.validate({ name: 'p', steps: [{ id: 'a', job: 'watched', heartbeatTimeout: '5s', local: false }] })
        .problems
    ).toEqual([]);
  });

  it('refuses, one line each at the option, what a local activity cannot honour', () => {
    expect(problems({ local: true, heartbeatTimeout: '2s' })).toEqual([
      `steps[0].heartbeatTimeout: a local job has no heartbeat timeout (the server never sees a local attempt); ${fix}`,
    ]);
    expect(problems({ local: true, revert: { heartbeatTimeout: '2s' } })).toEqual([
      `steps[0].revert.heartbeatTimeout: a local job has no heartbeat timeout (the server never sees a local attempt); ${fix}`,
    ]);
    expect(problems({ local: true, timeout: '2m' })).toEqual([
      `steps[0].timeout: a local job attempt may take at most 60s; ${fix}`,
    ]);
    expect(problems({}, { defaults: { local: true, revert: { timeout: '5m' } } })).toEqual([
      `steps[0].revert.timeout: a local job revert attempt may take at most 60s; ${fix}`,
    ]);
    expect(problems({ local: true, priority: 1 })).toEqual([
      `steps[0].priority: a local job has no task-queue priority (it never goes through a task queue); ${fix}`,
    ]);
    expect(problems({ local: true, tokens: ['db'] })).toEqual([
      `steps[0].tokens: a local job holds no resource tokens; ${fix}`,
    ]);
  });

  it('refuses a local step of a job whose own defaults or rate limit rule it out', () => {
    expect(registry.validate({ name: 'p', steps: [{ id: 'a', job: 'watched' }] }).problems.map((p) => p.path)).toEqual([
      'steps[0].heartbeatTimeout',
    ]);
    expect(registry.validate({ name: 'p', steps: [{ id: 'a', job: 'limited', local: true }] }).problems).toEqual([
      {
        path: 'steps[0].local',
        message: `a local job has no rate limit, and this job has one (its own task queue); ${fix}`,
      },
    ]);
  });

  it('is the core rule: a revert the job does not have is not checked', () => {
    const facts = {
      runTimeoutMs: MAX_LOCAL_TIMEOUT_MS,
      revertTimeoutMs: MAX_LOCAL_TIMEOUT_MS + 1,
      hasRevert: false,
      runHeartbeat: false,
      revertHeartbeat: true,
      priority: false,
      tokens: false,
      rateLimited: false,
    };
    expect(localJobProblems(facts)).toEqual([]);
    expect(localJobProblems({ ...facts, hasRevert: true }).map((p) => p.field)).toEqual([
      'revert.heartbeatTimeout',
      'revert.timeout',
    ]);
  });

  it('refuses local on a child-process step (a child workflow), at the step', () => {
    const child = { name: 'kid', steps: [{ id: 'x', job: 'row' }] };
    expect(registry.validate({ name: 'p', steps: [{ id: 'k', process: child, local: true }] }).problems).toEqual([
      { path: 'steps[0].local', message: 'a child process runs as a child workflow, never locally; drop "local"' },
    ]);
    expect(registry.validate({ name: 'p', steps: [{ id: 'k', process: child }] }).problems).toEqual([]);
  });

  it('refuses local on a non-boolean, at the step', () => {
    expect(problems({ local: 'yes' })).toEqual([expect.stringMatching(/^steps\[0\]\.local: /)]);
  });
});

describe('a run of local jobs is a chain of steps that would each start alone (the core rule)', () => {
  const nodesOf = (steps: Record<string, unknown>[]) => planNodes({ name: 'p', steps } as ProcessDefinition);
  const ids = (run: readonly { id: string }[]) => run.map((n) => n.id);
  const job = (id: string, extra: Record<string, unknown> = {}) => ({ id, job: 'row', ...extra });

  it('takes a plain list from its head to its end, and from a later head to the end', () => {
    const nodes = nodesOf([job('a'), job('b'), job('c'), job('d')]);
    const none = new Set<string>();
    expect(ids(localRun(nodes[0]!, nodes, none, none, () => true))).toEqual(['a', 'b', 'c', 'd']);
    const done = new Set(['a', 'b']);
    expect(ids(localRun(nodes[2]!, nodes, done, done, () => true))).toEqual(['c', 'd']);
  });

  it('stops before a step that may not join, and at the most jobs a run holds', () => {
    const nodes = nodesOf(Array.from({ length: 30 }, (_, i) => job(`s${i}`)));
    const none = new Set<string>();
    expect(ids(localRun(nodes[0]!, nodes, none, none, (node) => node.id !== 's3'))).toEqual(['s0', 's1', 's2']);
    expect(localRun(nodes[0]!, nodes, none, none, () => true)).toHaveLength(MAX_LOCAL_RUN);
    const seen: string[][] = [];
    localRun(nodes[0]!, nodes, none, none, (node, run) => {
      seen.push([node.id, ...ids(run)]);
      return seen.length < 2;
    });
    expect(seen).toEqual([
      ['s1', 's0'],
      ['s2', 's0', 's1'],
    ]);
  });

  it('is no run where two steps become ready at once, or the next is a parallel group', () => {
    const none = new Set<string>();
    const fork = nodesOf([job('a'), job('b', { needs: ['a'] }), job('c', { needs: ['a'] })]);
    expect(ids(localRun(fork[0]!, fork, none, none, () => true))).toEqual(['a']);
    const group = nodesOf([job('a'), { id: 'g', parallel: [job('b'), job('c')] }, job('d')]);
    expect(ids(localRun(group[0]!, group, none, none, () => true))).toEqual(['a']);
  });

  it('waits for a join: a step that needs two branches ends the run of one of them', () => {
    const nodes = nodesOf([job('a'), job('b', { needs: [] }), job('c', { needs: ['a', 'b'] })]);
    const none = new Set<string>();
    // b has not succeeded: c is not ready after a, so the run is a alone.
    expect(ids(localRun(nodes[0]!, nodes, new Set(['b']), none, () => true))).toEqual(['a']);
    // b succeeded: c follows a.
    expect(ids(localRun(nodes[0]!, nodes, new Set(['b']), new Set(['b']), () => true))).toEqual(['a', 'c']);
  });
});
