/**
 * The example definitions in examples/ and the code-first example workflow, run on a real server with the example
 * volume library writing into a sandbox: each ends as its name says, and the effects left on disk match the report.
 */
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import { DefaultLogger, bundleWorkflowCode } from '@temporalio/worker';
import { startTestWorker as startWorker } from '../../src/testing/worker';
import { jipperWorkflowInterceptorModules } from '../../src/worker/worker';
import { inspectSandbox, volumeLibrary } from '../../src/examples/volume/volume-jobs';
import { loadDefinitionFile } from '../../src/client/definition-file';
import {
  applySchedule,
  decide,
  describeSchedule,
  getReport,
  runProcess,
  startProcess,
  triggerSchedule,
  waitForReport,
} from '../../src/client';
import type { ProcessReport } from '../../src/shared/report';
import type { provisionVolumeCodeFirst } from '../../examples/provision-volume-code-first';
import { provisionVolume } from '../../examples/provision-volume';
import type { TestWorker } from '../support/worker';
import { serverAddress } from '../support/worker';

let root: string;
let tw: TestWorker;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'jipper-examples-'));
  // The code-first example is not in Jipper's production bundle: the worker runs a bundle of examples/workflows.ts,
  // Jipper's workflows and the example, as a team's worker with code-first workflows does.
  const { code } = await bundleWorkflowCode({
    workflowsPath: require.resolve('../../examples/workflows'),
    workflowInterceptorModules: jipperWorkflowInterceptorModules(),
    logger: new DefaultLogger('WARN'),
  });
  const bundle = join(root, 'workflow-bundle.js');
  await writeFile(bundle, code);
  tw = await startWorker([volumeLibrary({ root })], {
    address: serverAddress(),
    name: 'examples',
    workflowBundlePath: bundle,
  });
});
afterAll(async () => {
  await tw?.shutdown();
  await rm(root, { recursive: true, force: true });
});

const examples = join(__dirname, '..', '..', 'examples');
const run = async (file: string, params?: Record<string, unknown>) =>
  runProcess(tw.client, await loadDefinitionFile(join(examples, file)), {
    taskQueue: tw.taskQueue,
    registry: tw.registry,
    source: file,
    ...(params ? { params } : {}),
  });
const statuses = (report: ProcessReport) => Object.fromEntries(report.jobs.map((j) => [j.stepId, j.status]));

test('every example definition file is covered here', async () => {
  const files = (await readdir(examples)).filter((f) => /\.(json|ya?ml)$/.test(f)).sort();
  expect(files).toEqual([
    'provision-volume-local.yaml',
    'provision-volume-over-capacity.json',
    'provision-volume-over-quota.yaml',
    'provision-volume-park.yaml',
    'provision-volume-past-pivot.yaml',
    'provision-volume-slow.yaml',
    'provision-volume.yaml',
    'scratch-volume-nightly.yaml',
  ]);
});

test('provision-volume.yaml succeeds and leaves the volume provisioned', async () => {
  const report = await run('provision-volume.yaml', { volume: 'ex-ok', exportName: 'share-ok' });
  expect(report.status).toBe('succeeded');
  const sandbox = await inspectSandbox(root);
  expect(sandbox.volumes).toContain('ex-ok');
  expect(sandbox.mounts).toContain('ex-ok');
  expect(sandbox.quotas).toContain('ex-ok');
  expect(sandbox.exports).toContain('share-ok');
  expect(sandbox.catalog.filter((e) => e.volume === 'ex-ok')).toHaveLength(1);
  expect(report.jobs.find((j) => j.stepId === 'register')?.detail).toMatch(/registered ex-ok/);
});

test('provision-volume.yaml asking for a taken export name unwinds, newest first, leaving nothing but the audit line', async () => {
  await run('provision-volume.yaml', { volume: 'ex-first', exportName: 'share-taken' });
  const report = await run('provision-volume.yaml', { volume: 'ex-second', exportName: 'share-taken' });
  expect(report.status).toBe('reverted');
  expect(report.failedStep).toBe('export');
  expect(report.error).toMatchObject({ type: 'NameAlreadyExportedError' });
  expect(report.revertOrder.at(-1)).toBe('allocate');
  expect(report.revertOrder.slice(0, 2).sort()).toEqual(['filesystem', 'quota']);
  expect(statuses(report)).toMatchObject({ audit: 'skipped', export: 'failed', register: 'not_run' });
  const sandbox = await inspectSandbox(root);
  expect(sandbox.volumes).not.toContain('ex-second');
  expect(sandbox.mounts).not.toContain('ex-second');
  expect(sandbox.quotas).not.toContain('ex-second');
  expect(sandbox.audit.filter((l) => l.includes('ex-second'))).toHaveLength(1);
});

test('provision-volume-local.yaml: audit and export run as one run of local jobs, register alone; the volume is provisioned', async () => {
  const definition = await loadDefinitionFile(join(examples, 'provision-volume-local.yaml'));
  const params = { volume: 'ex-local', exportName: 'share-local' };
  const handle = await startProcess(tw.client, definition, { taskQueue: tw.taskQueue, registry: tw.registry, params });
  const report = await waitForReport(handle);
  expect(report.status).toBe('succeeded');
  const sandbox = await inspectSandbox(root);
  expect(sandbox.exports).toContain('share-local');
  expect(sandbox.catalog.filter((e) => e.volume === 'ex-local')).toHaveLength(1);
  expect(sandbox.audit.filter((l) => l.includes('ex-local'))).toHaveLength(1);
  const history = await handle.fetchHistory();
  const scheduled = (history.events ?? []).flatMap(
    (e) => e.activityTaskScheduledEventAttributes?.activityType?.name ?? []
  );
  const localActivities = (history.events ?? []).filter(
    (e) => e.markerRecordedEventAttributes?.markerName === 'core_local_activity'
  );
  // allocate, filesystem and quota are ordinary activities; audit + export one local activity, register another.
  expect(scheduled.sort()).toEqual(['allocate-volume.run', 'create-filesystem.run', 'set-quota.run']);
  expect(localActivities).toHaveLength(2);
});

test('provision-volume-local.yaml with a taken export name: the run stops at export, everything before it is reverted', async () => {
  await run('provision-volume-local.yaml', { volume: 'ex-local-1', exportName: 'share-local-taken' });
  const report = await run('provision-volume-local.yaml', { volume: 'ex-local-2', exportName: 'share-local-taken' });
  expect(report.status).toBe('reverted');
  expect(report.failedStep).toBe('export');
  expect(statuses(report)).toMatchObject({ allocate: 'reverted', export: 'failed', register: 'not_run' });
  const sandbox = await inspectSandbox(root);
  expect(sandbox.volumes).not.toContain('ex-local-2');
  expect(sandbox.quotas).not.toContain('ex-local-2');
});

test('provision-volume-over-quota.yaml unwinds: the quota fails, its sibling and the allocation are reverted', async () => {
  const report = await run('provision-volume-over-quota.yaml');
  expect(report.status).toBe('reverted');
  expect(report.error).toMatchObject({ type: 'QuotaAboveLimitError' });
  expect(statuses(report)).toEqual({
    allocate: 'reverted',
    filesystem: 'reverted',
    quota: 'failed',
    register: 'not_run',
  });
  expect(report.revertOrder).toEqual(['filesystem', 'allocate']);
  expect((await inspectSandbox(root)).volumes).not.toContain('vol-over-quota');
});

test('provision-volume-over-capacity.json unwinds at its first job: nothing to revert', async () => {
  const report = await run('provision-volume-over-capacity.json');
  expect(report.status).toBe('reverted');
  expect(report.error).toMatchObject({ type: 'CapacityExceededError' });
  expect(report.jobs[0]?.attempts).toBe(1);
  expect(report.revertOrder).toEqual([]);
});

test('provision-volume-past-pivot.yaml fails past the pivot: the export stays, nothing is unwound', async () => {
  const report = await run('provision-volume-past-pivot.yaml');
  expect(report.status).toBe('failed');
  expect(report.stoppedPastPivot).toBe(true);
  expect(report.failedStep).toBe('second-export');
  expect(report.revertOrder).toEqual([]);
  const sandbox = await inspectSandbox(root);
  expect(sandbox.volumes).toContain('vol-pivot');
  expect(sandbox.exports).toContain('share-pivot');
});

test('provision-volume-park.yaml parks past the pivot and moves on when an operator skips the failed export', async () => {
  const definition = await loadDefinitionFile(join(examples, 'provision-volume-park.yaml'));
  const handle = await startProcess(tw.client, definition, { taskQueue: tw.taskQueue, registry: tw.registry });
  const deadline = Date.now() + 30_000;
  let live = await getReport(tw.client, handle.workflowId);
  while (live.status !== 'parked' && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    live = await getReport(tw.client, handle.workflowId);
  }
  expect(live).toMatchObject({ status: 'parked', needsAttention: ['second-export'] });
  await decide(tw.client, handle.workflowId, 'second-export', 'skip');
  const report = await waitForReport(handle);
  expect(report.status).toBe('succeeded');
  expect(statuses(report)).toEqual({
    allocate: 'succeeded',
    export: 'succeeded',
    register: 'succeeded',
    'second-export': 'skipped',
  });
  expect(report.revertOrder).toEqual([]);
});

test('provision-volume-slow.yaml zero-fills its volume at the rate asked, then succeeds', async () => {
  const report = await run('provision-volume-slow.yaml', { sizeMb: 4, mbPerSec: 20 });
  expect(report.status).toBe('succeeded');
  expect(report.jobs[0]?.detail).toMatch(/allocated 4 MB for vol-slow, zero-filled/);
  const allocate = report.jobs[0];
  expect(Date.parse(allocate?.endedAt ?? '') - Date.parse(allocate?.startedAt ?? '')).toBeGreaterThanOrEqual(150);
});

test('scratch-volume-nightly.yaml runs by itself: a first run provisions the volume, a second one unwinds', async () => {
  const definition = await loadDefinitionFile(join(examples, 'scratch-volume-nightly.yaml'));
  // Its own schedule id: the server may outlive this test run.
  const id = `scratch-volume-${Date.now().toString(36)}`;
  const applied = await applySchedule(tw.client, definition, {
    taskQueue: tw.taskQueue,
    registry: tw.registry,
    schedule: { id },
  });
  expect(applied).toMatchObject({ scheduleId: id, process: 'scratch-volume', outcome: 'created', paused: false });
  try {
    const first = await triggerSchedule(tw.client, id);
    expect((await waitForReport(tw.client.workflow.getHandle(first ?? ''))).status).toBe('succeeded');
    const sandbox = await inspectSandbox(root);
    expect(sandbox.volumes).toContain('scratch-nightly');
    expect(sandbox.mounts).toContain('scratch-nightly');
    // Last night's volume is still there: the next run fails at allocate and unwinds (nothing to revert).
    const second = await triggerSchedule(tw.client, id);
    const report = await waitForReport(tw.client.workflow.getHandle(second ?? ''));
    expect(report).toMatchObject({ status: 'reverted', failedStep: 'allocate' });
    expect(report.error?.type).toBe('VolumeExistsError');
    const info = await describeSchedule(tw.client, id);
    expect(info.recentRuns.map((r) => [r.processId, r.status])).toEqual([
      [second, 'reverted'],
      [first, 'succeeded'],
    ]);
    expect(info).toMatchObject({ pauseOnFailure: true, overlap: 'skip', params: { volume: 'scratch-nightly' } });
    expect(info.spec).toBe('cron "0 3 * * *" · time zone Europe/Paris · jitter 2m');
  } finally {
    await tw.client.schedule.getHandle(id).delete();
  }
});

test('the TypeScript definition (examples/provision-volume.ts) runs like the YAML one', async () => {
  const report = await runProcess(tw.client, provisionVolume({ volume: 'ex-ts', exportName: 'share-ts' }), {
    taskQueue: tw.taskQueue,
    registry: tw.registry,
  });
  expect(report.status).toBe('succeeded');
  expect(report.jobs.map((j) => j.stepId)).toEqual(['allocate', 'filesystem', 'quota', 'export', 'register']);
});

describe('the code-first example workflow (branching, same engine and report)', () => {
  const start = (args: Parameters<typeof provisionVolumeCodeFirst>[0]) =>
    tw.client.workflow.start<typeof provisionVolumeCodeFirst>('provisionVolumeCodeFirst', {
      taskQueue: tw.taskQueue,
      workflowId: `code-first-${args.volume}`,
      args: [args],
    });

  test('without an export name it skips the export branch and succeeds', async () => {
    const report = await (await start({ volume: 'cf-a', sizeMb: 10 })).result();
    expect(report.status).toBe('succeeded');
    expect(report.jobs.map((j) => [j.stepId, j.status])).toEqual([
      ['allocate', 'succeeded'],
      ['filesystem', 'succeeded'],
      ['quota', 'succeeded'],
      ['register', 'succeeded'],
    ]);
    expect(report.jobs.find((j) => j.stepId === 'quota')?.result).toEqual({ limitMb: 9 });
  });

  test('a failing branch unwinds what ran, newest first, and the failure carries the report', async () => {
    await (await start({ volume: 'cf-b', sizeMb: 10, exportName: 'cf-share' })).result();
    const handle = await start({ volume: 'cf-c', sizeMb: 10, exportName: 'cf-share' });
    await expect(handle.result()).rejects.toBeInstanceOf(WorkflowFailedError);
    const report = await waitForReport(handle);
    expect(report.status).toBe('reverted');
    expect(report.failedStep).toBe('export');
    expect(report.revertOrder.at(-1)).toBe('allocate');
    expect(report.jobs.find((j) => j.stepId === 'register')).toBeUndefined();
    expect((await inspectSandbox(root)).volumes).not.toContain('cf-c');
  });
});
