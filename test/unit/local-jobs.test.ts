/**
 * What a local job may be (`local: true`): the core's rule, and validation reporting it at the step, one line each,
 * before anything runs — a heartbeat timeout, a long timeout, a priority, tokens or a rate limit is refused; a short
 * job with none of them, from a step, the process's defaults or the job's own defaults, is accepted.
 */
import { z } from 'zod';
import { localJobProblems, MAX_LOCAL_TIMEOUT_MS } from '../../src/core';
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
