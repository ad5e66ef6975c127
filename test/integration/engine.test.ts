/**
 * The zipper semantics (DESIGN.md "Semantics") on a real Temporal server: forward order, unwinding newest-first,
 * parallel groups, jobs without revert, revertOnFailure, failing reverts (continue and park), cancellation, the
 * pivot, data between steps, idempotency keys, details, and continue-as-new.
 */
import { WorkflowFailedError } from '@temporalio/client';
import type { WorkflowHandle } from '@temporalio/client';
import { CancelledFailure } from '@temporalio/common';
import type { ProcessDefinition } from '../../src/schema/definition';
import type { ProcessReport, ProcessStatus } from '../../src/shared/report';
import { decide, getReport, planDefinition, runProcess, startProcess, waitForReport } from '../../src/client';
import type { AnyJob } from '../../src/jobs/job';
import { defineJob } from '../../src/jobs/job';
import { z } from 'zod';
import { JobRegistry } from '../../src/runtime/registry';
import type { JournalEntry } from '../support/journal-jobs';
import { journalLibrary } from '../support/journal-jobs';
import type { TestWorker } from '../support/worker';
import { startTestWorker } from '../support/worker';
import { defineLibrary } from '../../src/jobs/library';
import { PLAN_MISMATCH_TYPE, UNDECLARED_RESULT_TYPE } from '../../src/shared/errors';

const journal: JournalEntry[] = [];
const blocked = new Set<string>();
let tw: TestWorker;

beforeAll(async () => {
  tw = await startTestWorker([journalLibrary(journal, blocked)], 'engine');
});
afterAll(async () => {
  await tw?.shutdown();
});
beforeEach(() => {
  blocked.clear();
});

type TaskArgs = Record<string, unknown>;
const task = (id: string, args: TaskArgs = {}, extra: Partial<ProcessDefinition['steps'][number]> = {}) => ({
  id,
  job: 'task',
  args: { value: id, ...args },
  ...extra,
});

function definition(
  name: string,
  steps: ProcessDefinition['steps'],
  options?: ProcessDefinition['options']
): ProcessDefinition {
  return { name, steps, ...(options ? { options } : {}) };
}

/** Journal entries of one process. */
function entriesOf(report: ProcessReport, kind?: JournalEntry['kind']): JournalEntry[] {
  return journal.filter((e) => e.key.startsWith(`${report.processId}/`) && (!kind || e.kind === kind));
}
const reverted = (report: ProcessReport) => entriesOf(report, 'revert').map((e) => e.stepId);
const ran = (report: ProcessReport) => entriesOf(report, 'run').map((e) => e.stepId);
const statuses = (report: ProcessReport) => Object.fromEntries(report.jobs.map((j) => [j.stepId, j.status]));

async function run(def: ProcessDefinition, params?: Record<string, unknown>): Promise<ProcessReport> {
  return runProcess(tw.client, def, { taskQueue: tw.taskQueue, registry: tw.registry, ...(params ? { params } : {}) });
}

async function start(def: ProcessDefinition): Promise<WorkflowHandle> {
  return startProcess(tw.client, def, { taskQueue: tw.taskQueue, registry: tw.registry });
}

async function waitFor(
  handle: WorkflowHandle,
  check: (r: ProcessReport) => boolean,
  what: string
): Promise<ProcessReport> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const report = await getReport(tw.client, handle.workflowId);
    if (check(report)) return report;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; report: ${JSON.stringify(report)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('a 4-step process, failing at each position', () => {
  const ids = ['a', 'b', 'c', 'd'];
  const rows: { failAt: number; reverts: string[] }[] = [
    { failAt: 0, reverts: [] },
    { failAt: 1, reverts: ['a'] },
    { failAt: 2, reverts: ['b', 'a'] },
    { failAt: 3, reverts: ['c', 'b', 'a'] },
  ];

  test.each(rows)('failure at step $failAt reverts $reverts, newest first', async ({ failAt, reverts }) => {
    const def = definition(
      'matrix',
      ids.map((id, i) => task(id, i === failAt ? { outcome: 'fail-nonretryable' } : {}))
    );
    const report = await run(def);

    expect(report.status).toBe('reverted');
    expect(report.failedStep).toBe(ids[failAt]);
    expect(report.error).toMatchObject({ type: 'TaskRefused', message: `task ${ids[failAt]} refused` });
    expect(ran(report)).toEqual(ids.slice(0, failAt + 1));
    expect(reverted(report)).toEqual(reverts);
    expect(report.revertOrder).toEqual(reverts);
    expect(statuses(report)).toEqual(
      Object.fromEntries(ids.map((id, i) => [id, i < failAt ? 'reverted' : i === failAt ? 'failed' : 'not_run']))
    );
  });

  test('no failure: every job succeeds, nothing is reverted, the workflow result is the report', async () => {
    const report = await run(
      definition(
        'matrix',
        ids.map((id) => task(id))
      )
    );
    expect(report.status).toBe('succeeded');
    expect(ran(report)).toEqual(ids);
    expect(reverted(report)).toEqual([]);
    expect(report.jobs.map((j) => j.completedOrder)).toEqual([1, 2, 3, 4]);
    expect(report.jobs.every((j) => j.status === 'succeeded' && j.attempts === 1 && j.startedAt && j.endedAt)).toBe(
      true
    );
  });
});

test('a failed process ends as a failed workflow whose failure carries the report', async () => {
  const handle = await start(definition('fails', [task('a'), task('b', { outcome: 'fail-nonretryable' })]));
  const err: unknown = await handle.result().catch((e: unknown) => e);
  expect(err).toBeInstanceOf(WorkflowFailedError);
  const cause = (err as WorkflowFailedError).cause as { type?: string; details?: unknown[] };
  expect(cause.type).toBe('JipperProcessFailed');
  expect(cause.details?.[0]).toMatchObject({ status: 'reverted', failedStep: 'b' });
});

test('a parallel group: siblings settle, completed members are reverted together, before earlier steps', async () => {
  const report = await run(
    definition('group', [
      task('a'),
      {
        id: 'prepare',
        parallel: [task('b'), task('c', { outcome: 'fail-nonretryable' }), task('d', { durationMs: 400 })],
      },
      task('e'),
    ])
  );
  expect(report.status).toBe('reverted');
  expect(report.failedStep).toBe('c');
  expect(statuses(report)).toEqual({ a: 'reverted', b: 'reverted', c: 'failed', d: 'reverted', e: 'not_run' });
  const order = reverted(report);
  expect(order).toHaveLength(3);
  expect(order.slice(0, 2).sort()).toEqual(['b', 'd']);
  expect(order[2]).toBe('a');
  expect(report.jobs.find((j) => j.stepId === 'b')?.group).toBe('prepare');
});

test('a job without a revert is recorded as skipped while unwinding', async () => {
  const report = await run(
    definition('no-revert', [task('a'), { id: 'note', job: 'one-way' }, task('c', { outcome: 'fail-nonretryable' })])
  );
  expect(report.status).toBe('reverted');
  expect(statuses(report)).toMatchObject({ a: 'reverted', note: 'skipped', c: 'failed' });
  expect(report.jobs.find((j) => j.stepId === 'note')?.revert).toMatchObject({
    status: 'skipped',
    reason: 'the job has no revert',
  });
  expect(reverted(report)).toEqual(['a']);
});

test('revertOnFailure reverts the failed job itself first, without a result', async () => {
  const report = await run(
    definition('revert-on-failure', [task('a'), task('b', { outcome: 'fail-nonretryable' }, { revertOnFailure: true })])
  );
  expect(report.status).toBe('reverted');
  expect(reverted(report)).toEqual(['b', 'a']);
  const revertOfB = entriesOf(report, 'revert').find((e) => e.stepId === 'b');
  expect(revertOfB).toMatchObject({ afterFailure: true, result: undefined });
  expect(report.jobs.find((j) => j.stepId === 'b')).toMatchObject({ status: 'failed', revert: { status: 'reverted' } });
});

test('a revert that still fails: unwinding goes on, the process ends revert_failed naming the job', async () => {
  const report = await run(
    definition('revert-fails', [
      task('a', { revertOutcome: 'fail' }),
      task('b'),
      task('c', { outcome: 'fail-nonretryable' }),
    ])
  );
  expect(report.status).toBe('revert_failed');
  expect(report.needsAttention).toEqual(['a']);
  expect(statuses(report)).toMatchObject({ a: 'revert_failed', b: 'reverted', c: 'failed' });
  expect(report.jobs[0]?.revert).toMatchObject({
    status: 'revert_failed',
    attempts: 2,
    error: { message: 'revert of a failed' },
  });
  expect(entriesOf(report, 'revert').filter((e) => e.stepId === 'a')).toHaveLength(2);
});

describe('a parked revert waits for an operator decision', () => {
  const parkedDefinition = () =>
    definition('parked', [task('a'), task('b'), task('c', { outcome: 'fail-nonretryable' })], {
      onRevertFailure: 'park',
    });

  async function parkAt(stepId: string) {
    blocked.add(`${stepId}/revert`);
    const handle = await start(parkedDefinition());
    const report = await waitFor(handle, (r) => r.status === 'parked', 'the process to park');
    expect(report.needsAttention).toEqual([stepId]);
    expect(report.jobs.find((j) => j.stepId === stepId)?.revert?.status).toBe('parked');
    return handle;
  }

  test('retry: the revert runs again and the unwinding finishes', async () => {
    const handle = await parkAt('b');
    blocked.delete('b/revert');
    await decide(tw.client, handle.workflowId, 'b', 'retry');
    const report = await waitForReport(handle);
    expect(report.status).toBe('reverted');
    expect(statuses(report)).toMatchObject({ a: 'reverted', b: 'reverted' });
    expect(report.jobs[1]?.revert?.decisions?.map((d) => d.decision)).toEqual(['retry']);
    expect(reverted(report).filter((s) => s === 'b').length).toBeGreaterThanOrEqual(3);
    expect(reverted(report).at(-1)).toBe('a');
  });

  test('skip: the job is left as it is, recorded as skipped by an operator', async () => {
    const handle = await parkAt('b');
    await decide(tw.client, handle.workflowId, 'b', 'skip');
    const report = await waitForReport(handle);
    expect(report.status).toBe('reverted');
    expect(report.jobs[1]).toMatchObject({
      status: 'skipped',
      revert: { status: 'skipped', reason: 'skipped by an operator' },
    });
    expect(statuses(report)).toMatchObject({ a: 'reverted' });
  });

  test('mark-reverted: a person undid it by hand', async () => {
    const handle = await parkAt('b');
    await decide(tw.client, handle.workflowId, 'b', 'mark-reverted');
    const report = await waitForReport(handle);
    expect(report.status).toBe('reverted');
    expect(report.jobs[1]).toMatchObject({ status: 'reverted', revert: { reason: 'marked reverted by an operator' } });
  });

  test('a decision for a step that is not parked is rejected with the reason', async () => {
    const handle = await parkAt('b');
    await expect(decide(tw.client, handle.workflowId, 'a', 'retry')).rejects.toThrow(
      /step "a" is not waiting for a decision \(parked: b\)/
    );
    await decide(tw.client, handle.workflowId, 'b', 'skip');
    await waitForReport(handle);
  });
});

describe('cancellation', () => {
  test('mid-job: forward progress stops, completed jobs are reverted, the run ends cancelled', async () => {
    const handle = await start(definition('cancel', [task('a'), task('b', { durationMs: 20_000 }), task('c')]));
    await waitFor(handle, (r) => r.jobs[1]?.status === 'running', 'step b to run');
    await handle.cancel();
    const err: unknown = await handle.result().catch((e: unknown) => e);
    expect((err as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
    const report = await waitForReport(handle);
    expect(report.status).toBe('cancelled');
    expect(statuses(report)).toMatchObject({ a: 'reverted', b: 'failed', c: 'not_run' });
    expect(report.jobs[1]?.error?.type).toBe('cancelled');
    expect(reverted(report)).toEqual(['a']);
  });
});

describe('the pivot', () => {
  test('a failure past the pivot is not unwound; the process ends failed', async () => {
    const report = await run(
      definition('pivot', [task('a'), task('b', {}, { pivot: true }), task('c', { outcome: 'fail-nonretryable' })])
    );
    expect(report.status).toBe('failed');
    expect(report.stoppedPastPivot).toBe(true);
    expect(reverted(report)).toEqual([]);
    expect(statuses(report)).toEqual({ a: 'succeeded', b: 'succeeded', c: 'failed' });
  });

  test('a failure before the pivot unwinds as usual', async () => {
    const report = await run(
      definition('pivot', [task('a'), task('b', { outcome: 'fail-nonretryable' }, { pivot: true }), task('c')])
    );
    expect(report.status).toBe('reverted');
    expect(reverted(report)).toEqual(['a']);
  });

  test('cancelling past the pivot reverts nothing', async () => {
    const handle = await start(
      definition('pivot-cancel', [task('a', {}, { pivot: true }), task('b', { durationMs: 20_000 })])
    );
    await waitFor(handle, (r) => r.jobs[1]?.status === 'running', 'step b to run');
    await handle.cancel();
    const report = await waitForReport(handle);
    expect(report.status).toBe('cancelled');
    expect(report.stoppedPastPivot).toBe(true);
    expect(reverted(report)).toEqual([]);
  });

  test.each([
    ['retry', 'succeeded'],
    ['skip', 'skipped'],
  ] as const)('in park mode a failure past the pivot waits; %s', async (decision, jobStatus) => {
    blocked.add('c');
    const handle = await start(
      definition('pivot-park', [task('a', {}, { pivot: true }), task('c'), task('d')], { onRevertFailure: 'park' })
    );
    await waitFor(handle, (r) => r.status === 'parked', 'the process to park');
    await expect(decide(tw.client, handle.workflowId, 'c', 'mark-reverted')).rejects.toThrow(/decide retry or skip/);
    blocked.delete('c');
    await decide(tw.client, handle.workflowId, 'c', decision);
    const report = await waitForReport(handle);
    expect(report.status).toBe('succeeded');
    expect(statuses(report)).toEqual({ a: 'succeeded', c: jobStatus, d: 'succeeded' });
    expect(reverted(report)).toEqual([]);
  });
});

test('data flows between steps: $from takes an earlier result, $param a run parameter; a call carries only the results its step uses', async () => {
  const report = await run(
    {
      name: 'data',
      params: { greeting: 'hello' },
      steps: [
        task('a', { value: { $param: 'greeting' } }),
        { id: 'b', job: 'typed', args: { count: 21, label: { $from: 'a.value' } } },
        task('c', { value: { $from: 'b.doubled' } }),
      ],
    },
    { greeting: 'bonjour' }
  );
  expect(report.status).toBe('succeeded');
  const [a, b, c] = entriesOf(report, 'run');
  expect(a?.input).toMatchObject({ value: 'bonjour' });
  expect(b?.input).toEqual({ count: 21, label: 'bonjour' });
  expect(c?.input).toMatchObject({ value: 42 });
  expect(b?.results).toBeUndefined();
  expect(c?.results).toEqual({ b: { doubled: 42 } });
  expect(report.jobs[1]?.result).toEqual({ doubled: 42 });
});

test('a job reads from ctx.results only what its step declares: `uses` adds one; reading another fails, clearly', async () => {
  const ok = await run({
    name: 'uses',
    steps: [task('a', { value: 1 }), task('b', { value: 2 }), { ...task('c', { read: ['a'] }), uses: ['a'] }],
  });
  expect(ok.status).toBe('succeeded');
  const c = entriesOf(ok, 'run').find((e) => e.stepId === 'c');
  expect(c?.results).toEqual({ a: { step: 'a', value: 1 } });
  expect(ok.jobs[2]?.result).toMatchObject({ read: { a: { step: 'a', value: 1 } } });

  const undeclared = await run({ name: 'undeclared', steps: [task('a', { value: 1 }), task('b', { read: ['a'] })] });
  expect(undeclared).toMatchObject({ status: 'reverted', failedStep: 'b' });
  expect(undeclared.error?.type).toBe(UNDECLARED_RESULT_TYPE);
  expect(undeclared.error?.message).toContain('add `uses: [a]` to the step');
  // Not retried: the same call would read the same undeclared result.
  expect(entriesOf(undeclared, 'run').filter((e) => e.stepId === 'b')).toHaveLength(1);
});

test('idempotency keys are stable across retries: <processId>/<stepId>, and .../revert for the revert', async () => {
  const report = await run(
    definition('retry', [
      task('a', { revertOutcome: 'fail-first-attempt' }),
      task('b', { outcome: 'fail-first-attempt' }),
      task('c', { outcome: 'fail-nonretryable' }),
    ])
  );
  const runsOfB = entriesOf(report, 'run').filter((e) => e.stepId === 'b');
  expect(runsOfB.map((e) => [e.key, e.attempt])).toEqual([
    [`${report.processId}/b`, 1],
    [`${report.processId}/b`, 2],
  ]);
  expect(report.jobs[1]?.attempts).toBe(2);
  const revertsOfA = entriesOf(report, 'revert').filter((e) => e.stepId === 'a');
  expect(revertsOfA.map((e) => [e.key, e.attempt])).toEqual([
    [`${report.processId}/a/revert`, 1],
    [`${report.processId}/a/revert`, 2],
  ]);
  expect(report.jobs[0]?.revert).toMatchObject({ status: 'reverted', attempts: 2, detail: 'undid a' });
});

test('a detail written by a job is shown in the report, on success and on failure', async () => {
  const report = await run(
    definition('detail', [
      task('a', { detail: 'made 3 widgets' }),
      task('b', { detail: 'got halfway', outcome: 'fail-nonretryable' }),
    ])
  );
  expect(report.jobs[0]?.detail).toBe('made 3 widgets');
  expect(report.jobs[1]?.detail).toBe('got halfway');
});

test("the Web UI's current details are the report as it is when asked: mid-run, then at the end", async () => {
  blocked.add('b/hold');
  const handle = await start(definition('details', [task('a', { detail: 'made a' }), task('b'), task('c')]));
  await waitFor(handle, (r) => r.jobs[1]?.status === 'running', 'b runs');
  // What the Web UI asks for (Temporal's built-in metadata query).
  const details = async () =>
    (await handle.query<{ currentDetails: string }>('__temporal_workflow_metadata')).currentDetails;
  const mid = await details();
  expect(mid).toContain('**details** · status **running**');
  expect(mid).toMatch(/- \*\*a\*\* · task · succeeded · \d+(ms|\.\ds) — made a/);
  expect(mid).toMatch(/- \*\*b\*\* · task · running/);
  expect(mid).toMatch(/- \*\*c\*\* · task · pending/);
  blocked.delete('b/hold');
  const report = await waitForReport(handle);
  expect(report.status).toBe('succeeded');
  const end = await details();
  expect(end).toContain('**details** · status **succeeded**');
  expect(end).toMatch(/- \*\*c\*\* · task · succeeded/);
  expect(end).not.toMatch(/running|pending/);
});

test('revertMode parallel reverts every completed job at once', async () => {
  const report = await run(
    definition('parallel-revert', [task('a'), task('b'), task('c'), task('d', { outcome: 'fail-nonretryable' })], {
      revertMode: 'parallel',
    })
  );
  expect(report.status).toBe('reverted');
  expect(reverted(report).sort()).toEqual(['a', 'b', 'c']);
});

test('a long process continues as new, carrying its revert stack, and still unwinds fully', async () => {
  const ids = Array.from({ length: 40 }, (_, i) => `s${i}`);
  const report = await run(
    definition(
      'long',
      ids.map((id, i) => task(id, i === ids.length - 1 ? { outcome: 'fail-nonretryable' } : {})),
      { continueAsNewAfterEvents: 100 }
    )
  );
  expect(report.continuedAsNew).toBeGreaterThanOrEqual(2);
  expect(report.status).toBe('reverted');
  expect(reverted(report)).toEqual(ids.slice(0, -1).reverse());
  // Each result is carried once (in the state, not in the report's rows too) and comes back whole: every row of the
  // final report has its step's result, and every revert got the result its run returned, runs of the chain ago.
  const completed = ids.slice(0, -1);
  expect(report.jobs.filter((j) => j.stepId !== 's39').map((j) => j.result)).toEqual(
    completed.map((id) => ({ step: id, value: id }))
  );
  const revertResults = Object.fromEntries(entriesOf(report, 'revert').map((e) => [e.stepId, e.result]));
  expect(revertResults).toEqual(Object.fromEntries(completed.map((id) => [id, { step: id, value: id }])));
});

test('a step reads a result from an earlier run of the continued-as-new chain', async () => {
  const ids = Array.from({ length: 30 }, (_, i) => `r${i}`);
  const report = await run(
    definition(
      'long-reads',
      ids.map((id, i) => (i === ids.length - 1 ? task(id, { read: ['r0'], value: { $from: 'r0.value' } }) : task(id))),
      { continueAsNewAfterEvents: 100 }
    )
  );
  expect(report.continuedAsNew).toBeGreaterThanOrEqual(1);
  expect(report.status).toBe('succeeded');
  const last = entriesOf(report, 'run').find((e) => e.stepId === 'r29');
  expect(last?.input).toMatchObject({ value: 'r0' });
  expect(last?.results).toEqual({ r0: { step: 'r0', value: 'r0' } });
  expect(report.jobs.map((j) => j.result)).toEqual([
    ...ids.slice(0, -1).map((id) => ({ step: id, value: id })),
    { step: 'r29', value: 'r0', read: { r0: { step: 'r0', value: 'r0' } } },
  ]);
});

describe('bad definitions are rejected before any job runs', () => {
  const cases: [string, unknown, RegExp][] = [
    [
      'unknown job',
      { name: 'bad', steps: [{ id: 'a', job: 'taks' }] },
      /steps\[0\]\.job: unknown job "taks" \(did you mean "task"\?\)/,
    ],
    [
      'args failing the job schema',
      { name: 'bad', steps: [{ id: 'a', job: 'typed', args: { count: 0, label: 'x' } }] },
      /steps\[0\]\.args\.count:/,
    ],
    ['duplicate step ids', { name: 'bad', steps: [task('a'), task('a')] }, /steps\[1\]\.id: duplicate step id "a"/],
    [
      'a reference to a later step',
      { name: 'bad', steps: [task('a', { value: { $from: 'b.value' } }), task('b')] },
      /steps\[0\]\.args\.value: \$from "b\.value": step "b" does not complete before this step/,
    ],
    [
      'a reference to a sibling in the same group',
      { name: 'bad', steps: [{ parallel: [task('a'), task('b', { value: { $from: 'a' } })] }] },
      /does not complete before this step/,
    ],
    [
      'a parameter that is not set',
      { name: 'bad', steps: [task('a', { value: { $param: 'nope' } })] },
      /parameter "nope" is not set/,
    ],
    ['no steps', { name: 'bad', steps: [] }, /steps: a process needs at least one step/],
    ['an unknown field', { name: 'bad', steps: [task('a')], stepz: [] }, /stepz/],
  ];

  test.each(cases)('%s: the client refuses to start', async (_what, def, message) => {
    await expect(run(def as ProcessDefinition)).rejects.toThrow(message);
  });

  test('every problem is listed in one error', async () => {
    const def = {
      name: 'bad',
      steps: [{ id: 'a', job: 'nope' }, task('a'), { id: 'c', job: 'typed', args: { count: 'x' } }],
    };
    const err = (await run(def as unknown as ProcessDefinition).catch((e: unknown) => e)) as {
      problems: unknown[];
      message: string;
    };
    expect(err.problems).toHaveLength(4);
    expect(err.message).toMatch(/^definition: 4 problems:/);
  });

  test('the workflow checks too: a definition the client did not check fails with every problem and no job ran', async () => {
    const def = definition('unchecked', [
      task('a'),
      { id: 'b', job: 'typed', args: { count: -1, label: 'x' } },
      task('a'),
    ]);
    const handle = await startProcess(tw.client, def, { taskQueue: tw.taskQueue });
    const err: unknown = await handle.result().catch((e: unknown) => e);
    const cause = (err as WorkflowFailedError).cause as { type?: string; message: string; details?: unknown[] };
    expect(cause.type).toBe('JipperInvalidDefinition');
    expect(cause.message).toMatch(/2 problems/);
    const report = cause.details?.[0] as ProcessReport;
    expect(report.status satisfies ProcessStatus).toBe('failed');
    expect(report.jobs.every((j) => j.status === 'not_run')).toBe(true);
    expect(entriesOf(report)).toEqual([]);
  });
});

describe('planning: by the client that has the job libraries, else by the worker', () => {
  const markers = async (processId: string) => {
    const history = await tw.client.workflow.getHandle(processId).fetchHistory();
    // The plan's local activity only (a process's end also records the hooks' patch and its default-hooks question).
    const decoded = (e: (typeof history.events & object)[number]) =>
      Object.values(e.markerRecordedEventAttributes?.details ?? {})
        .flatMap((p) => p.payloads ?? [])
        .map((p) => Buffer.from(p.data ?? new Uint8Array()).toString('utf8'))
        .join(' ');
    return (history.events ?? []).filter((e) => e.markerRecordedEventAttributes && decoded(e).includes('jipper.plan'))
      .length;
  };
  const failing = () => definition('planned', [task('a'), task('b'), task('c', { outcome: 'fail-nonretryable' })]);

  test('a client-planned process records no plan marker; a worker-planned one records one; both unwind the same', async () => {
    const byClient = await run(failing());
    const byWorker = await waitForReport(await startProcess(tw.client, failing(), { taskQueue: tw.taskQueue }));
    for (const report of [byClient, byWorker]) {
      expect(report.status).toBe('reverted');
      expect(statuses(report)).toEqual({ a: 'reverted', b: 'reverted', c: 'failed' });
      expect(reverted(report)).toEqual(['b', 'a']);
    }
    expect(await markers(byClient.processId)).toBe(0);
    expect(await markers(byWorker.processId)).toBe(1);
  });

  test('the first job refuses a plan made from other versions of the jobs: nothing runs, the process fails there', async () => {
    // The client's copy of the library gives `task` other default options than the worker's.
    const otherVersion = new JobRegistry([
      defineLibrary('journal', [{ ...(tw.registry.get('task') as AnyJob), options: { timeout: '5s' } }]),
    ]);
    expect(otherVersion.fingerprint('task')).not.toBe(tw.registry.fingerprint('task'));
    const report = await runProcess(tw.client, definition('skewed', [task('a'), task('b')]), {
      taskQueue: tw.taskQueue,
      registry: otherVersion,
    });
    expect(report.status).toBe('reverted');
    expect(report.failedStep).toBe('a');
    expect(report.jobs[0]?.error?.type).toBe(PLAN_MISMATCH_TYPE);
    expect(report.jobs[0]?.error?.message).toMatch(
      /planned by a client whose job libraries differ from this worker's: "task" \(its revert or default options differ\)/
    );
    expect(statuses(report)).toEqual({ a: 'failed', b: 'not_run' });
    expect(entriesOf(report)).toEqual([]);
  });

  test('the first job also refuses a plan naming a later job this worker does not have', async () => {
    const extra = defineJob({ name: 'extra', input: z.object({}), run: async () => null });
    const withExtra = new JobRegistry([defineLibrary('journal', [tw.registry.get('task') as AnyJob, extra])]);
    const report = await runProcess(tw.client, definition('extra', [task('a'), { id: 'b', job: 'extra' }]), {
      taskQueue: tw.taskQueue,
      registry: withExtra,
    });
    expect(report.failedStep).toBe('a');
    expect(report.jobs[0]?.error?.message).toMatch(/"extra" \(this worker on task queue "[^"]+" does not have it\)/);
    expect(entriesOf(report)).toEqual([]);
  });

  test("only the first step's calls carry the fingerprints: a worker deployed mid-process goes on with the plan", async () => {
    const report = await run(
      definition('fingerprints', [{ id: 'g', parallel: [task('a'), task('b')] }, task('c'), task('d')])
    );
    expect(report.status).toBe('succeeded');
    const history = await tw.client.workflow.getHandle(report.processId).fetchHistory();
    const calls = (history.events ?? []).flatMap((e) => {
      const payload = e.activityTaskScheduledEventAttributes?.input?.payloads?.[0]?.data;
      return payload ? [JSON.parse(Buffer.from(payload).toString()) as { stepId: string; fingerprints?: object }] : [];
    });
    expect(calls.map((c) => [c.stepId, c.fingerprints !== undefined])).toEqual([
      ['a', true],
      ['b', true],
      ['c', false],
      ['d', false],
    ]);
    expect(calls[0]?.fingerprints).toEqual({ task: tw.registry.fingerprint('task') });
  });

  test('a start request whose job facts miss a job of the definition is rejected before any job runs', async () => {
    const def = definition('unplannable', [task('a'), { id: 'b', job: 'typed', args: { count: 1, label: 'x' } }]);
    const { jobs } = planDefinition(def, { registry: tw.registry });
    expect(Object.keys(jobs ?? {}).sort()).toEqual(['task', 'typed']);
    const handle = await tw.client.workflow.start('jipperProcess', {
      taskQueue: tw.taskQueue,
      workflowId: `unplannable-${Date.now()}`,
      args: [{ definition: def, jobs: { task: jobs?.task } }],
    });
    const err: unknown = await handle.result().catch((e: unknown) => e);
    const cause = (err as WorkflowFailedError).cause as { type?: string; message: string; details?: unknown[] };
    expect(cause.type).toBe('JipperInvalidDefinition');
    expect(cause.message).toMatch(/steps\[1\]\.job: no facts about job "typed" came with the start request/);
    const report = cause.details?.[0] as ProcessReport;
    expect(report.jobs.every((j) => j.status === 'not_run')).toBe(true);
    expect(entriesOf(report)).toEqual([]);
  });
});
