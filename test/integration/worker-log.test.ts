/**
 * The worker's log through the real worker process (`node dist/worker/main.js`): a job that fails on purpose (the
 * example's QuotaAboveLimitError, non-retryable) is one line with its type and message, for the attempt and for the
 * process, with no stack and no path of the machine the package was built on; the stored workflow failure names
 * Jipper's sources by their path in the package.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { loadDefinitionFile } from '../../src/client/definition-file';
import { runProcess } from '../../src/client';
import { findProjectRoot } from '../../src/config/project';
import type { WorkerProcess } from '../support/worker-process';
import { spawnWorker } from '../support/worker-process';
import type { TestConnection } from '../support/server';
import { testConnection } from '../support/server';

let scratch: string;
let worker: WorkerProcess | undefined;
let connection: TestConnection;

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'jipper-worker-log-'));
  connection = await testConnection();
});
afterAll(async () => {
  await worker?.kill('SIGTERM');
  await connection?.close();
  rmSync(scratch, { recursive: true, force: true });
});

test('a job failing on purpose logs one line with its type and message; no stacks, no build paths', async () => {
  const taskQueue = `worker-log-${randomUUID()}`;
  const logFile = join(scratch, 'worker.log');
  worker = await spawnWorker({ taskQueue, sandbox: join(scratch, 'sandbox'), logFile });
  const definition = await loadDefinitionFile('examples/provision-volume.yaml');
  const report = await runProcess(connection.client, definition, {
    taskQueue,
    params: { volume: `log-${randomUUID().slice(0, 6)}`, sizeMb: 8, quotaMb: 48 },
  });
  expect(report).toMatchObject({ status: 'reverted', failedStep: 'quota' });
  await worker.kill('SIGTERM');

  const log = readFileSync(logFile, 'utf8');
  const lines = log.split('\n');
  const activity = lines.filter((line) => line.includes('Activity failed'));
  const workflow = lines.filter((line) => line.includes('Workflow failed'));
  expect(activity).toHaveLength(1);
  expect(activity[0]).toMatch(/QuotaAboveLimitError: quota 48 MB is above the size of volume "log-\w+" \(8 MB\)/);
  expect(workflow).toHaveLength(1);
  expect(workflow[0]).toMatch(
    /(JipperProcessFailed|ApplicationFailure): process provision-volume reverted at step "quota"/
  );
  expect(log).not.toMatch(/^\s+at /m);
  expect(log).not.toContain(findProjectRoot());

  const history = await connection.client.workflow.getHandle(report.processId).fetchHistory();
  const failed = history.events?.find((e) => e.workflowExecutionFailedEventAttributes)
    ?.workflowExecutionFailedEventAttributes?.failure;
  expect(failed?.stackTrace).toContain('jipper/src/workflows/engine.ts');
  expect(failed?.stackTrace).not.toContain(findProjectRoot());
});
