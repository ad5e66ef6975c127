/**
 * The engine's semantics beyond a plain list, on a real server, each checked on the jobs' own journal (what ran, what
 * was reverted, when) and not only on the report: graphs (`needs`), group success policies, failure classes, probes,
 * `afterPivot`, pause and resume, deadlines, start tolerance, revisions, workers without a job, malformed inputs from
 * clients that do not check, and the revert plan preview as the single source the unwinding order is tested against.
 */
import { randomUUID } from 'node:crypto';
import type { WorkflowHandle } from '@temporalio/client';
import { WorkflowFailedError } from '@temporalio/client';
import {
  OperatorActionRejectedError,
  decide,
  getReport,
  pauseProcess,
  planDefinition,
  resumeProcess,
  reviseProcess,
  runProcess,
  startProcess,
  waitForReport,
} from '../../src/client';
import { JobRegistry } from '../../src/runtime/registry';
import type { ProcessDefinition } from '../../src/schema/definition';
import { DEADLINE_TYPE, INVALID_DEFINITION_TYPE, MISSING_JOB_TYPE, NOT_STARTED_TYPE } from '../../src/shared/errors';
import { planFromFacts } from '../../src/shared/plan';
import type { ProcessReport } from '../../src/shared/report';
import { previewPlan } from '../../src/shared/revert-plan';
import type { JournalEntry } from '../support/journal-jobs';
import { journalLibrary, overlap } from '../support/journal-jobs';
import type { TestWorker } from '../support/worker';
import { startTestWorker } from '../support/worker';
import { startTestWorker as startWorker } from '../../src/testing/worker';
import { defineJob } from '../../src/jobs/job';
import { defineLibrary } from '../../src/jobs/library';
import { z } from 'zod';

const journal: JournalEntry[] = [];
/** Steps that fail until a test removes them (a dependency that is down): `<stepId>` for a run. */
const blocked = new Set<string>();
let tw: TestWorker;

beforeAll(async () => {
  tw = await startTestWorker([journalLibrary(journal, blocked)], 'semantics');
});
afterAll(async () => {
  await tw?.shutdown();
});

type Step = ProcessDefinition['steps'][number];
const task = (id: string, args: Record<string, unknown> = {}, extra: Record<string, unknown> = {}): Step => ({
  id,
  job: 'task',
  args: { value: id, ...args },
  ...extra,
});

const entriesOf = (report: ProcessReport, kind?: JournalEntry['kind']) =>
  journal.filter((e) => e.key.startsWith(`${report.processId}/`) && (!kind || e.kind === kind));
const entry = (report: ProcessReport, kind: JournalEntry['kind'], stepId: string) =>
  entriesOf(report, kind).find((e) => e.stepId === stepId);
const revertedSteps = (report: ProcessReport) =>
  entriesOf(report, 'revert')
    .sort((a, b) => (a.at ?? 0) - (b.at ?? 0))
    .map((e) => e.stepId);

const run = (definition: ProcessDefinition) =>
  runProcess(tw.client, definition, { taskQueue: tw.taskQueue, registry: tw.registry });
const start = (definition: ProcessDefinition): Promise<WorkflowHandle> =>
  startProcess(tw.client, definition, { taskQueue: tw.taskQueue, registry: tw.registry });

async function until(handle: WorkflowHandle, check: (r: ProcessReport) => boolean, what: string) {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const report = await getReport(tw.client, handle.workflowId);
    if (check(report)) return report;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(report.jobs)}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

describe('graphs: a step starts once what it needs has succeeded; unwinding follows the graph backwards', () => {
  const diamond = (failAt?: string): ProcessDefinition => ({
    name: 'diamond',
    steps: [
      task('root'),
      task('left', { durationMs: 600 }, { needs: ['root'] }),
      task('right', { durationMs: 600 }, { needs: ['root'] }),
      task('tip', { outcome: failAt === 'tip' ? 'fail-nonretryable' : 'succeed' }, { needs: ['left', 'right'] }),
    ],
  });

  test('independent branches run side by side; the join waits for both', async () => {
    const report = await run(diamond());
    expect(report.status).toBe('succeeded');
    const [left, right, tip] = ['left', 'right', 'tip'].map((s) => entry(report, 'run', s));
    expect(overlap(left, right)).toBe(true);
    expect(tip?.at).toBeGreaterThanOrEqual(Math.max(left?.end ?? Infinity, right?.end ?? Infinity));
  });

  test('a failure at the join unwinds both branches side by side, then the root — as the preview says', async () => {
    const definition = diamond('tip');
    const report = await run(definition);
    expect(report).toMatchObject({ status: 'reverted', failedStep: 'tip' });
    const [left, right, root] = ['left', 'right', 'root'].map((s) => entry(report, 'revert', s));
    expect(left && right && root).toBeTruthy();
    expect(root?.at).toBeGreaterThanOrEqual(Math.max(left?.end ?? Infinity, right?.end ?? Infinity));
    const { definition: checked, jobs } = planDefinition(definition, { registry: tw.registry });
    const preview = previewPlan(planFromFacts(checked, {}, jobs ?? {}), checked, {}, { failAt: 'tip' });
    expect(preview.reverts.map((wave) => wave.map((r) => r.stepId).sort())).toEqual([['left', 'right'], ['root']]);
    expect(new Set(report.revertOrder.slice(0, 2))).toEqual(new Set(['left', 'right']));
    expect(report.revertOrder[2]).toBe('root');
  });
});

describe('the revert plan preview is what the engine does (a failure at every step of a list)', () => {
  const list = (failAt: string): ProcessDefinition => ({
    name: 'matrix',
    steps: [
      task('a', { outcome: failAt === 'a' ? 'fail-nonretryable' : 'succeed' }),
      {
        id: 'g',
        parallel: [
          task('b', { outcome: failAt === 'b' ? 'fail-nonretryable' : 'succeed' }) as never,
          { id: 'n', job: 'one-way' },
        ],
      },
      task('c', { outcome: failAt === 'c' ? 'fail-nonretryable' : 'succeed' }, { revertOnFailure: true }),
      task('d', { outcome: failAt === 'd' ? 'fail-nonretryable' : 'succeed' }, { pivot: true }),
      task('e', { outcome: failAt === 'e' ? 'fail-nonretryable' : 'succeed' }),
    ],
  });
  test.each(['a', 'b', 'c', 'd', 'e'])('failure at %s', async (failAt) => {
    const definition = list(failAt);
    const report = await run(definition);
    const { definition: checked, jobs } = planDefinition(definition, { registry: tw.registry });
    const preview = previewPlan(planFromFacts(checked, {}, jobs ?? {}), checked, {}, { failAt });
    expect(report.status).toBe(preview.status);
    expect(report.revertOrder).toEqual(preview.revertOrder);
    expect(revertedSteps(report)).toEqual(preview.revertOrder);
    expect(report.stoppedPastPivot ?? false).toBe(preview.stoppedPastPivot);
  });
});

describe('group success policies', () => {
  test('`any`: the group succeeds with the first member; a slower one is cancelled and the process goes on', async () => {
    const report = await run({
      name: 'mirrors',
      steps: [
        {
          id: 'mirrors',
          succeedWhen: 'any',
          parallel: [task('fast', { durationMs: 100 }) as never, task('slow', { durationMs: 20_000 }) as never],
        },
        task('after'),
      ],
    });
    expect(report.status).toBe('succeeded');
    const rows = Object.fromEntries(report.jobs.map((j) => [j.stepId, j.status]));
    expect(rows).toEqual({ fast: 'succeeded', slow: 'skipped', after: 'succeeded' });
    // The slow member was cancelled, not left to run its 20 s.
    expect((entry(report, 'run', 'slow')?.end ?? Infinity) - (entry(report, 'run', 'slow')?.at ?? 0)).toBeLessThan(
      10_000
    );
  });

  test('`2` of 3: one failed member does not fail the group; a failure that makes it impossible does', async () => {
    const ok = await run({
      name: 'two-of-three',
      steps: [
        {
          id: 'g',
          succeedWhen: 2,
          parallel: [task('m1') as never, task('m2') as never, task('m3', { outcome: 'fail-nonretryable' }) as never],
        },
      ],
    });
    expect(ok.status).toBe('succeeded');
    const failing = await run({
      name: 'two-of-three-failing',
      steps: [
        task('before'),
        {
          id: 'g',
          succeedWhen: 2,
          parallel: [
            task('m1') as never,
            task('m2', { outcome: 'fail-nonretryable' }) as never,
            task('m3', { outcome: 'fail-nonretryable' }) as never,
          ],
        },
      ],
    });
    expect(failing.status).toBe('reverted');
    expect(new Set(revertedSteps(failing))).toEqual(new Set(['m1', 'before']));
  });
});

describe('failure classes: which failures unwind', () => {
  test('a business failure its step does not unwind for ends `failed` with every effect standing', async () => {
    const report = await run({
      name: 'classes',
      steps: [task('a'), task('b', { outcome: 'fail-nonretryable' }, { revertOn: ['timeout', 'infrastructure'] })],
    });
    expect(report).toMatchObject({ status: 'failed', failedStep: 'b', notUnwound: 'failure-class' });
    expect(report.error?.class).toBe('business');
    expect(entriesOf(report, 'revert')).toEqual([]);
  });

  test('`otherwise: park` waits for an operator, who retries the job once it can succeed', async () => {
    blocked.add('park-b');
    const handle = await start({
      name: 'classes-park',
      steps: [
        task('a'),
        task(
          'park-b',
          {},
          { revertOn: ['business'], otherwise: 'park', retry: { maximumAttempts: 2, initialInterval: '50ms' } }
        ),
      ],
    });
    await until(handle, (r) => r.status === 'parked', 'the park');
    blocked.delete('park-b');
    await decide(tw.client, handle.workflowId, 'park-b', 'retry');
    const report = await waitForReport(handle);
    expect(report.status).toBe('succeeded');
    expect(entriesOf(report, 'run').filter((e) => e.stepId === 'park-b')).toHaveLength(3);
  });
});

describe('probes: after an ambiguous failure, the job says whether its effect was applied', () => {
  const probed = (answer: string): ProcessDefinition => ({
    name: `probe-${answer}`,
    steps: [
      task('a'),
      {
        id: 'b',
        job: 'probed',
        args: { outcome: 'hang', probe: answer },
        timeout: '1s',
        retry: { maximumAttempts: 1 },
      },
    ],
  });

  test('`applied`: the timed-out job is reverted with the rest', async () => {
    const report = await run(probed('applied'));
    expect(report.status).toBe('reverted');
    expect(report.jobs[1]).toMatchObject({
      status: 'failed',
      probe: { answer: 'applied' },
      revert: { status: 'reverted' },
    });
    expect(revertedSteps(report)).toEqual(['b', 'a']);
    expect(entry(report, 'revert', 'b')?.afterFailure).toBe(true);
  });

  test('`not-applied`: nothing of it to revert', async () => {
    const report = await run(probed('not-applied'));
    expect(report.status).toBe('reverted');
    expect(revertedSteps(report)).toEqual(['a']);
  });

  test('`unknown`: the process parks for a person', async () => {
    const handle = await start(probed('unknown'));
    const parked = await until(handle, (r) => r.status === 'parked', 'the park');
    expect(parked.needsAttention).toEqual(['b']);
    await decide(tw.client, handle.workflowId, 'b', 'skip');
    const report = await waitForReport(handle);
    expect(report.status).toBe('reverted');
    expect(revertedSteps(report)).toEqual(['a']);
  });
});

describe('after the pivot: retry, or a forward-recovery job', () => {
  test('`retry` runs the job again until it succeeds; nothing is unwound', async () => {
    blocked.add('retry-b');
    setTimeout(() => blocked.delete('retry-b'), 2_000);
    const report = await run({
      name: 'after-pivot-retry',
      steps: [
        task('a', {}, { pivot: true }),
        task(
          'retry-b',
          {},
          { afterPivot: 'retry', retry: { maximumAttempts: 2, initialInterval: '50ms', maximumInterval: '200ms' } }
        ),
      ],
    });
    expect(report.status).toBe('succeeded');
    expect(entriesOf(report, 'run').filter((e) => e.stepId === 'retry-b').length).toBeGreaterThanOrEqual(3);
    expect(entriesOf(report, 'revert')).toEqual([]);
  });

  test('`recover` runs the named job in place of the failed one; the process goes on', async () => {
    const report = await run({
      name: 'after-pivot-recover',
      steps: [
        task('a', {}, { pivot: true }),
        task(
          'b',
          { outcome: 'fail-nonretryable' },
          { afterPivot: { recover: { job: 'one-way', args: { note: 'fixed' } } } }
        ),
        task('c'),
      ],
    });
    expect(report.status).toBe('succeeded');
    expect(report.jobs.find((j) => j.stepId === 'b-recover')?.status).toBe('succeeded');
    expect(entry(report, 'run', 'c')).toBeDefined();
  });
});

describe('pause and resume', () => {
  test('no step starts while paused; running jobs settle; resume goes on', async () => {
    const handle = await start({ name: 'pausing', steps: [task('a', { durationMs: 1500 }), task('b'), task('c')] });
    await until(handle, (r) => r.jobs[0]?.status === 'running', 'a running');
    await pauseProcess(tw.client, handle.workflowId, 'maintenance window');
    const paused = await until(handle, (r) => r.status === 'paused', 'paused');
    expect(paused.jobs.map((j) => j.status)).toEqual(['succeeded', 'pending', 'pending']);
    expect(paused.pause?.reason).toBe('maintenance window');
    await new Promise((r) => setTimeout(r, 1000));
    expect(journal.some((e) => e.key === `${handle.workflowId}/b`)).toBe(false);
    await expect(pauseProcess(tw.client, handle.workflowId)).rejects.toThrow(OperatorActionRejectedError);
    await resumeProcess(tw.client, handle.workflowId);
    const report = await waitForReport(handle);
    expect(report.status).toBe('succeeded');
    expect(entry(report, 'run', 'b')?.at).toBeGreaterThan(entry(report, 'run', 'a')?.end ?? Infinity);
  });

  test('cancelling a paused process unwinds it', async () => {
    const handle = await start({ name: 'pause-cancel', steps: [task('a'), task('b', { durationMs: 800 }), task('c')] });
    await until(handle, (r) => r.jobs[1]?.status === 'running', 'b running');
    await pauseProcess(tw.client, handle.workflowId);
    await until(handle, (r) => r.status === 'paused', 'paused');
    await handle.cancel();
    const report = await waitForReport(handle);
    expect(report.status).toBe('cancelled');
    expect(revertedSteps(report)).toEqual(['b', 'a']);
  });
});

describe('deadlines unwind; they never end a run without its reverts', () => {
  test("a step's deadline cancels its job and unwinds the process with an error of type deadline", async () => {
    const report = await run({
      name: 'step-deadline',
      steps: [
        task('a'),
        task('b', { durationMs: 30_000 }, { deadline: '1500ms', timeout: '1s', heartbeatTimeout: '1s' }),
      ],
    });
    expect(report).toMatchObject({ status: 'reverted', failedStep: 'b' });
    expect(report.error?.type).toBe(DEADLINE_TYPE);
    expect(revertedSteps(report)).toEqual(['a']);
  });

  test("the process's deadline stops forward progress and unwinds", async () => {
    const report = await run({
      name: 'process-deadline',
      options: { deadline: '2s' },
      steps: [task('a'), task('b', { durationMs: 30_000 }, { timeout: '1m' }), task('c')],
    });
    expect(report.status).toBe('reverted');
    expect(report.error?.type).toBe(DEADLINE_TYPE);
    expect(report.jobs.map((j) => j.status)).toEqual(['reverted', 'failed', 'not_run']);
    expect(revertedSteps(report)).toEqual(['a']);
  });
});

test('start tolerance: a process no worker picked up within startWithin ends failed, every job not_run', async () => {
  const taskQueue = `no-worker-${randomUUID()}`;
  const handle = await startProcess(
    tw.client,
    { name: 'late', options: { startWithin: '1s' }, steps: [task('a')] },
    { taskQueue, registry: tw.registry }
  );
  await new Promise((r) => setTimeout(r, 2500));
  const late = await startWorker([journalLibrary(journal)], { address: process.env.TEMPORAL_ADDRESS, taskQueue });
  try {
    const report = await waitForReport(handle);
    expect(report.status).toBe('failed');
    expect(report.error?.type).toBe(NOT_STARTED_TYPE);
    expect(report.jobs.map((j) => j.status)).toEqual(['not_run']);
    expect(journal.some((e) => e.key.startsWith(`${handle.workflowId}/`))).toBe(false);
  } finally {
    await late.shutdown();
  }
});

test('revision: the steps not yet started change while the process runs; a started step cannot', async () => {
  const definition: ProcessDefinition = {
    name: 'revised',
    steps: [task('a', { durationMs: 1500 }), task('b'), task('c')],
  };
  const handle = await start(definition);
  await until(handle, (r) => r.jobs[0]?.status === 'running', 'a running');
  await expect(
    reviseProcess(
      tw.client,
      handle.workflowId,
      { ...definition, steps: [task('a2'), task('b')] },
      { registry: tw.registry }
    )
  ).rejects.toThrow(/step "a" has started/);
  const result = await reviseProcess(
    tw.client,
    handle.workflowId,
    { ...definition, steps: [definition.steps[0] as Step, task('b'), task('d', { value: 'new' })] },
    { registry: tw.registry, reason: 'd replaces c' }
  );
  expect(result).toEqual({ added: ['d'], removed: ['c'] });
  const report = await waitForReport(handle);
  expect(report.status).toBe('succeeded');
  expect(report.jobs.map((j) => j.stepId)).toEqual(['a', 'b', 'd']);
  expect(report.revisions).toEqual([expect.objectContaining({ reason: 'd replaces c', added: ['d'], removed: ['c'] })]);
  expect(entry(report, 'run', 'd')).toBeDefined();
  expect(entry(report, 'run', 'c')).toBeUndefined();
});

test('a job the workers lack fails at once, naming the job and the task queue', async () => {
  const ghost = defineJob({ name: 'ghost', input: z.object({}), run: async () => null });
  // The client knows the job; the workers do not (planned without facts, so no version check stops it first).
  const clientRegistry = new JobRegistry([journalLibrary([]), defineLibrary('ghosts', [ghost])]);
  const started = Date.now();
  const handle = await tw.client.workflow.start('jipperProcess', {
    taskQueue: tw.taskQueue,
    workflowId: `ghost-${randomUUID()}`,
    args: [
      {
        definition: planDefinition(
          { name: 'ghostly', steps: [{ id: 'g', job: 'ghost' }] },
          { registry: clientRegistry }
        ).definition,
        jobs: clientRegistry.facts(['ghost']),
      },
    ],
  });
  const report = await waitForReport(handle);
  expect(Date.now() - started).toBeLessThan(10_000);
  expect(report.status).toBe('reverted');
  expect(report.error?.type).toBe(MISSING_JOB_TYPE);
  expect(report.error?.message).toContain(`task queue "${tw.taskQueue}" do not have job "ghost"`);
  expect(report.jobs[0]?.attempts ?? 1).toBe(1);
});

describe('inputs from clients that do not check: the workflow ends failed listing every problem, no job run', () => {
  test.each([
    [
      'steps that are not a list',
      { definition: { name: 'x', steps: 'nope' } },
      /steps: .*(expected array|a list of steps)/,
    ],
    ['a step that is not an object', { definition: { name: 'x', steps: [42] } }, /steps\[0\]/],
    ['no definition at all', { params: {} }, /definition/],
  ])('%s', async (_what, input, message) => {
    const handle = await tw.client.workflow.start('jipperProcess', {
      taskQueue: tw.taskQueue,
      workflowId: `raw-${randomUUID()}`,
      args: [input as never],
    });
    const failure: unknown = await handle.result().catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(WorkflowFailedError);
    const cause = (failure as WorkflowFailedError).cause as { type?: string; message: string };
    expect(cause.type).toBe(INVALID_DEFINITION_TYPE);
    expect(cause.message).toMatch(message);
    expect(journal.some((e) => e.key.startsWith(`${handle.workflowId}/`))).toBe(false);
  });
});
