/**
 * A worker killed mid-hook (issue 28): the real worker entrypoint runs a process whose `succeeded` hook calls a webhook;
 * the receiver holds the first request, and the worker is SIGKILLed while it waits. A new worker runs the hook again
 * (its attempt timed out), with the same idempotency key: the receiver sees two requests and processes one. The
 * process's outcome is unchanged and its report records the hook's second attempt. Needs `npm run build`.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startProcess, waitForReport } from '../../src/client';
import { volumeLibrary } from '../../src/examples/volume/volume-jobs';
import { JobRegistry } from '../../src/runtime/registry';
import { withStandardJobs } from '../../src/worker/libraries';
import { waitUntil } from '../support/observe';
import type { WebhookReceiver } from '../support/receivers';
import { startReceiver } from '../support/receivers';
import type { TestConnection } from '../support/server';
import { testConnection } from '../support/server';
import type { WorkerProcess } from '../support/worker-process';
import { spawnWorker } from '../support/worker-process';

const HOOK_KEY = `crash-key-${randomUUID()}`;

let conn: TestConnection;
let dir: string;
let sandbox: string;
let taskQueue: string;
let worker: WorkerProcess | undefined;
let receiver: WebhookReceiver;

beforeAll(async () => {
  conn = await testConnection();
  dir = await mkdtemp(join(tmpdir(), 'jipper-hooks-crash-'));
  sandbox = join(dir, 'sandbox');
  await mkdir(sandbox, { recursive: true });
  taskQueue = `hooks-crash-${randomUUID()}`;
  receiver = await startReceiver(HOOK_KEY);
});

afterAll(async () => {
  await worker?.kill();
  await receiver?.close();
  await conn?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('a worker killed mid-hook: the hook runs again, and the receiver deduplicates by the idempotency key', async () => {
  const env = { JIPPER_SECRET_HOOK_KEY: HOOK_KEY };
  worker = await spawnWorker({ taskQueue, sandbox, env });
  receiver.hold(1);
  const registry = new JobRegistry(withStandardJobs([volumeLibrary({ root: sandbox })]));
  const handle = await startProcess(
    conn.client,
    {
      name: 'crash-hook',
      steps: [{ id: 'audit', job: 'record-audit-event', args: { volume: 'vol-crash', message: 'hello' } }],
      on: {
        succeeded: [
          {
            job: 'http-request',
            args: { url: receiver.url, signingKey: { $secret: 'hook-key' }, body: { $report: 'report' } },
            timeout: '3s',
            retry: { initialInterval: '200ms', maximumAttempts: 5 },
          },
        ],
      },
    },
    { taskQueue, registry }
  );
  const key = `${handle.workflowId}/on.succeeded.0`;
  await waitUntil(async () => receiver.requests.some((r) => r.key === key), 'the first hook request', 60_000);
  await worker.kill('SIGKILL');
  worker = await spawnWorker({ taskQueue, sandbox, env });
  const report = await waitForReport(handle);

  expect(report.status).toBe('succeeded');
  const requests = receiver.requests.filter((r) => r.key === key);
  expect(requests.length).toBeGreaterThanOrEqual(2);
  expect(requests.every((r) => r.verified)).toBe(true);
  expect(receiver.deliveries.filter((d) => d.key === key)).toHaveLength(1);
  expect(report.hooks).toEqual([expect.objectContaining({ hookId: 'on.succeeded.0', status: 'succeeded' })]);
  expect(report.hooks?.[0]?.attempts).toBeGreaterThanOrEqual(2);
}, 120_000);
