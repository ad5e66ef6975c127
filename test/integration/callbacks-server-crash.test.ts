/**
 * A Temporal server of the test's own (SQLite file, free port) SIGKILLed and started again while a job awaits
 * completion from outside: the open attempt survives on disk, the token handed out before the crash completes it after
 * the restart, and the process finishes with every effect in the ledger once (test/support/callback-jobs.cjs, run by a
 * worker process).
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { completeJob, startProcess, waitForReport } from '../../src/client';
import { recordFigure } from '../support/figures';
import { waitUntil } from '../support/observe';
import type { PrivateServer } from '../support/private-server';
import { startPrivateServer } from '../support/private-server';
import type { WorkerProcess } from '../support/worker-process';
import { spawnWorker } from '../support/worker-process';

let dir: string;
let server: PrivateServer;
let worker: WorkerProcess;
let connection: Connection | undefined;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'jipper-callbacks-crash-'));
  server = await startPrivateServer(dir);
}, 120_000);

afterAll(async () => {
  await worker?.kill();
  await connection?.close();
  await server?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('the server restarted while a job awaits completion: the token still completes it, and nothing runs twice', async () => {
  const sandbox = join(dir, 'sandbox');
  const taskQueue = `callbacks-crash-${randomUUID()}`;
  worker = await spawnWorker({
    taskQueue,
    sandbox,
    address: server.address,
    env: { JIPPER_LIBRARIES: resolve('test/support/callback-jobs.cjs') },
  });
  connection = await Connection.connect({ address: server.address });
  const id = `order-${randomUUID().slice(0, 8)}`;
  await startProcess(
    new Client({ connection }),
    {
      name: 'order',
      steps: [
        { id: 'reserve', job: 'reserve-stock', args: { orderId: id } },
        { id: 'charge', job: 'charge-card', args: { orderId: id, amount: 42 }, timeout: '5m' },
        { id: 'ship', job: 'ship-order', args: { orderId: id, chargeId: { $from: 'charge.chargeId' } } },
      ],
    },
    { taskQueue, id }
  );
  const token = await waitUntil(
    () => readFile(join(sandbox, 'tokens', `${id}.1`), 'utf8').catch(() => undefined),
    'the completion token'
  );

  await connection.close();
  connection = undefined;
  const killedAt = Date.now();
  await server.crash();
  await server.restart();
  const downMs = Date.now() - killedAt;

  connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection });
  await completeJob(client, token, { chargeId: 'ch-after-restart' });
  const report = await waitForReport(client.workflow.getHandle(id));

  expect(report.status).toBe('succeeded');
  expect(report.jobs.find((j) => j.stepId === 'charge')).toMatchObject({
    attempts: 1,
    result: { chargeId: 'ch-after-restart' },
  });
  const ledger = (await readFile(join(sandbox, 'ledger.jsonl'), 'utf8'))
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as { kind: string; job: string; chargeId?: string });
  expect(ledger.map((e) => `${e.kind} ${e.job}${e.chargeId ? ` ${e.chargeId}` : ''}`)).toEqual([
    'run reserve-stock',
    'run charge-card',
    'run ship-order ch-after-restart',
  ]);
  expect(worker.alive()).toBe(true);
  recordFigure('callback across a server restart', { downMs, killToReportMs: Date.now() - killedAt });
});
