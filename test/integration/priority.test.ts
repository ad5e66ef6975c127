/**
 * Priorities on Temporal's task-queue priority, on the server `jipper dev` starts (Jipper's dynamic config turns the
 * priority matcher and fairness on and gives each task queue one partition, within which a backlog is ordered): a backlog builds on a queue while no worker polls it; then one worker with one activity slot drains it.
 * High-priority forward work and reverts (one level more urgent than forward work, by default) overtake low-priority
 * forward work that was queued before them — checked on the order in which the jobs really ran.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { startProcess, waitForReport } from '../../src/client';
import { JobRegistry } from '../../src/runtime/registry';
import type { ProcessDefinition } from '../../src/schema/definition';
import { startTestWorker } from '../../src/testing/worker';
import { waitUntil } from '../support/observe';
import type { JournalEntry } from '../support/journal-jobs';
import { journalLibrary } from '../support/journal-jobs';
import type { TestServer } from '../../src/testing/server';
import { startTestServer } from '../../src/testing/server';
import type { DevServer } from '../../src/dev/dev-server';
import { startDevServer } from '../../src/dev/dev-server';
import { freePort } from '../../src/dev/ports';

const journal: JournalEntry[] = [];
/** Runs held on the worker's slot until the test lets them go (`<stepId>/hold`). */
const held = new Set<string>();
const registry = new JobRegistry([journalLibrary(journal, held)]);
let devServer: DevServer;
let server: TestServer;
let scratch: string;
beforeAll(async () => {
  // The server `jipper dev` starts (startDevServer, with Jipper's dynamic config: the priority matcher, fairness and one
  // partition per task queue), on a port of this file's own, in memory.
  scratch = mkdtempSync(join(tmpdir(), 'jipper-priority-'));
  devServer = await startDevServer({
    port: await freePort(),
    uiPort: false,
    projectRoot: scratch,
    ...(process.env.TEMPORAL_CLI_PATH ? { cliPath: process.env.TEMPORAL_CLI_PATH } : {}),
  });
  server = await startTestServer({ address: devServer.address });
});

test('the server `jipper dev` starts gives each task queue one partition, with the priority matcher on', () => {
  const argv = readFileSync(`/proc/${devServer.pid}/cmdline`, 'utf8').split('\0');
  for (const setting of [
    'matching.useNewMatcher=true',
    'matching.enableFairness=true',
    'matching.numTaskqueueReadPartitions=1',
    'matching.numTaskqueueWritePartitions=1',
  ]) {
    expect(argv).toContain(setting);
  }
});
afterAll(async () => {
  await server?.teardown();
  await devServer?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

/** Every process has its job scheduled on the queue: the backlog is whole, however slow the machine. */
async function allQueued(handles: WorkflowHandle[]): Promise<boolean> {
  const pending = await Promise.all(handles.map(async (h) => (await h.describe()).raw.pendingActivities ?? []));
  return pending.every((p) => p.length > 0);
}

const job = (id: string, extra: Record<string, unknown> = {}) =>
  ({ id, job: 'task', args: { value: id, durationMs: 150 }, ...extra }) as ProcessDefinition['steps'][number];

test('high-priority jobs and reverts overtake low-priority work queued before them', async () => {
  const taskQueue = `priority-${randomUUID()}`;
  const start = (definition: ProcessDefinition, id: string) =>
    startProcess(server.client, definition, { taskQueue, registry, id: `${id}-${randomUUID().slice(0, 6)}` });
  const worker = await startTestWorker([journalLibrary(journal, held)], {
    address: server.address,
    taskQueue,
    workerOptions: { maxConcurrentActivityTaskExecutions: 1 },
  });
  const handles: WorkflowHandle[] = [];
  try {
    // A process at priority 5 whose second job fails after holding the worker's one slot until the backlog is built.
    held.add('fails/hold');
    const unwinding = await start(
      {
        name: 'unwinding',
        options: { priority: 5 },
        steps: [job('undo-me'), job('fails', { args: { outcome: 'fail-nonretryable' } })],
      },
      'unwinding'
    );
    handles.push(unwinding);
    await waitUntil(async () => journal.some((e) => e.key === `${unwinding.workflowId}/fails`), 'the failing job runs');
    // Meanwhile a backlog builds: ten jobs at priority 5, then one at priority 1.
    for (let i = 0; i < 10; i++) {
      handles.push(
        await start(
          { name: 'low', options: { priority: 5 }, steps: [job(`low-${i}`, { args: { value: i, durationMs: 600 } })] },
          `low-${i}`
        )
      );
    }
    handles.push(await start({ name: 'high', options: { priority: 1 }, steps: [job('high')] }, 'high'));
    await waitUntil(() => allQueued(handles.slice(1)), 'the backlog is queued');
    held.delete('fails/hold');
    const reports = await Promise.all(handles.map((h) => waitForReport(h)));
    expect(reports.map((r) => r.status)).toEqual(['reverted', ...Array<string>(11).fill('succeeded')]);
  } finally {
    await worker.shutdown();
  }
  const ours = journal
    .filter((e) => handles.some((h) => e.key.startsWith(`${h.workflowId}/`)))
    .sort((a, b) => (a.at ?? 0) - (b.at ?? 0))
    .map((e) => (e.kind === 'revert' ? `revert ${e.stepId}` : e.stepId));
  const lows = ours.filter((s) => s.startsWith('low-'));
  const position = (s: string) => ours.indexOf(s);
  expect(position('fails')).toBeLessThan(Math.min(...lows.map(position)));
  // Queued last, the high-priority job runs before nearly all the low-priority jobs queued before it.
  expect(lows.filter((low) => position(low) > position('high')).length).toBeGreaterThanOrEqual(8);
  // The revert (priority 4: one level more urgent than its process's 5) overtakes the low-priority jobs too — all but
  // one or two that take the worker's slot while the workflow task that schedules the revert runs.
  expect(lows.filter((low) => position(low) > position('revert undo-me')).length).toBeGreaterThanOrEqual(7);
});

test('a fairness key shares a backlog between tenants: a small tenant is not stuck behind a large one', async () => {
  const taskQueue = `fairness-${randomUUID()}`;
  const start = (tenant: string, i: number) =>
    startProcess(
      server.client,
      { name: 'tenant-work', options: { fairnessKey: tenant }, steps: [job(`${tenant}-${i}`)] },
      { taskQueue, registry, id: `${tenant}-${i}-${randomUUID().slice(0, 6)}` }
    );
  const worker = await startTestWorker([journalLibrary(journal, held)], {
    address: server.address,
    taskQueue,
    workerOptions: { maxConcurrentActivityTaskExecutions: 1 },
  });
  let handles: WorkflowHandle[] = [];
  try {
    // A job holds the worker's one slot while a backlog builds: twelve jobs of tenant "big", then three of "small".
    held.add('blocker/hold');
    const blocker = await startProcess(
      server.client,
      { name: 'blocker', steps: [{ id: 'blocker', job: 'task' }] },
      { taskQueue, registry }
    );
    await waitUntil(async () => journal.some((e) => e.key === `${blocker.workflowId}/blocker`), 'the blocker runs');
    handles = [
      ...(await Promise.all(Array.from({ length: 12 }, (_, i) => start('big', i)))),
      ...(await Promise.all(Array.from({ length: 3 }, (_, i) => start('small', i)))),
    ];
    await waitUntil(() => allQueued(handles), 'all fifteen jobs are queued');
    expect(journal.filter((e) => handles.some((h) => e.key.startsWith(`${h.workflowId}/`)))).toEqual([]);
    held.delete('blocker/hold');
    await Promise.all([blocker, ...handles].map((h) => waitForReport(h)));
  } finally {
    await worker.shutdown();
  }
  const order = journal
    .filter((e) => handles.some((h) => e.key.startsWith(`${h.workflowId}/`)))
    .sort((a, b) => (a.at ?? 0) - (b.at ?? 0))
    .map((e) => e.stepId);
  // Queued after all twelve of "big", the jobs of "small" are not left for last (without a fairness key they run at
  // 12–14): fairness takes the tenants in turn, so all three run among the first six (the check leaves two places).
  const lastSmall = Math.max(...order.map((s, i) => (s.startsWith('small-') ? i : -1)));
  expect(lastSmall).toBeLessThan(8);
});
