/**
 * Repeated worker crashes: three provisioning processes with long, heartbeating jobs (zero-fill on the way forward, a
 * wipe on the way back) run while the worker process is SIGKILLed again and again at random moments and restarted.
 * Every process completes or unwinds fully, with every effect applied (or undone) exactly once, and each long job
 * resumes from its last heartbeat instead of starting over.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspectSandbox, volumeLibrary } from '../../src/examples/volume/volume-jobs';
import { JobRegistry } from '../../src/runtime/registry';
import type { WorkflowHandle } from '@temporalio/client';
import { startProcess, waitForReport } from '../../src/client';
import { recordFigure } from '../support/figures';
import { seededRandom } from '../support/load';
import { pendingActivity, waitUntil } from '../support/observe';
import { testConnection } from '../support/server';
import type { TestConnection } from '../support/server';
import type { Provisioning } from '../support/volume-effects';
import {
  TAKEN_EXPORT,
  effectsOf,
  expectedEffects,
  longAlloc,
  provisioning,
  takenExportConf,
} from '../support/volume-effects';
import type { WorkerProcess } from '../support/worker-process';
import { spawnWorker } from '../support/worker-process';

let conn: TestConnection;
let dir: string;
let sandbox: string;
let worker: WorkerProcess;

beforeAll(async () => {
  conn = await testConnection();
  dir = await mkdtemp(join(tmpdir(), 'jipper-worker-crash-faults-'));
  sandbox = join(dir, 'sandbox');
  await mkdir(join(sandbox, 'exports'), { recursive: true });
  await writeFile(join(sandbox, 'exports', `${TAKEN_EXPORT}.conf`), takenExportConf());
});
/**
 * Where each process's long job stands: its pending zero-fill or wipe and its last heartbeat (the MB it reached), or
 * nothing. It changes when a long job makes progress, starts or ends — not when a killed attempt is retried.
 */
async function longJobs(handles: WorkflowHandle[]): Promise<string> {
  const states = await Promise.all(
    handles.map(async (handle) => {
      for (const activityId of ['alloc.run', 'alloc.revert.1']) {
        const pending = await pendingActivity(handle, activityId);
        if (pending) return `${activityId} ${String(pending.heartbeat)}`;
      }
      return '-';
    })
  );
  return states.join(' | ');
}

afterAll(async () => {
  await worker?.kill();
  await conn?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('the worker SIGKILLed every few seconds: every process finishes or unwinds, every effect exactly once', async () => {
  const taskQueue = `worker-crash-faults-${randomUUID()}`;
  const registry = new JobRegistry([volumeLibrary({ root: sandbox })]);
  worker = await spawnWorker({ taskQueue, sandbox });
  const long = longAlloc(2, '2s');
  const specs: Provisioning[] = [
    { volume: 'many-kills-a', sizeMb: 24, ...long },
    { volume: 'many-kills-b', sizeMb: 20, failAt: 'last', ...long },
    { volume: 'many-kills-c', sizeMb: 16, failAt: 'export', ...long },
  ];
  const started = Date.now();
  const handles = await Promise.all(
    specs.map((spec) => startProcess(conn.client, provisioning(spec), { taskQueue, registry }))
  );

  let done = false;
  const kills: number[] = [];
  const random = seededRandom(7);
  // Each kill waits for the long jobs to move on the new worker, then comes 0.5–2.5 s (seeded) later: every kill lands
  // while the processes run and lets them gain at most a few seconds, so they outlast at least 5 kills however fast
  // or slow the machine is (kills at fixed intervals did not: a busy machine, slow to start each worker, gave the
  // processes whole seconds between kills and they finished after 4).
  const killer = (async () => {
    while (!done) {
      const before = await longJobs(handles).catch(() => 'unknown');
      await waitUntil(
        async () => done || (await longJobs(handles)) !== before,
        'the long jobs to move on the new worker',
        180_000,
        200
      );
      await new Promise((r) => setTimeout(r, 500 + random() * 2_000));
      if (done) return;
      await worker.kill('SIGKILL');
      kills.push(Date.now() - started);
      worker = await spawnWorker({ taskQueue, sandbox });
    }
  })();
  const reports = await Promise.all(handles.map((h) => waitForReport(h)));
  done = true;
  await killer;

  expect(kills.length).toBeGreaterThanOrEqual(5);
  expect(reports.map((r) => [r.status, r.failedStep])).toEqual([
    ['succeeded', undefined],
    ['reverted', 'spare'],
    ['reverted', 'export'],
  ]);
  for (const [i, report] of reports.entries()) {
    const spec = specs[i] as Provisioning;
    expect(await effectsOf(sandbox, report, spec)).toEqual(expectedEffects(report));
    expect(report.needsAttention).toEqual([]);
  }
  expect(await effectsOf(sandbox, reports[0]!, specs[0]!)).toEqual({
    alloc: 1,
    fs: 1,
    quota: 1,
    export: 1,
    register: 1,
    audit: 1,
  });
  expect(await effectsOf(sandbox, reports[1]!, specs[1]!)).toEqual({
    alloc: 0,
    fs: 0,
    quota: 0,
    export: 0,
    register: 0,
    audit: 1,
  });
  expect(await effectsOf(sandbox, reports[2]!, specs[2]!)).toEqual({
    alloc: 0,
    fs: 0,
    quota: 0,
    export: 0,
    register: 0,
    audit: 0,
  });
  const state = await inspectSandbox(sandbox);
  expect(state.volumes).toEqual(['many-kills-a']);
  expect(state.exports.sort()).toEqual(['many-kills-a-share', TAKEN_EXPORT].sort());

  const allocs = reports.map((r) => r.jobs.find((j) => j.stepId === 'alloc'));
  recordFigure('worker-crash repeated', {
    kills: kills.length,
    killedAtMs: kills,
    totalMs: Date.now() - started,
    allocAttempts: allocs.map((a) => a?.attempts),
    allocDetails: allocs.map((a) => a?.detail),
    revertAttempts: allocs.map((a) => a?.revert?.attempts),
    revertDetails: allocs.map((a) => a?.revert?.detail),
  });
});
