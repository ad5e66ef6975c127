/**
 * Measurements that need a fresh Node process, forked by run.ts; each sends one JSON message back and exits.
 *
 * - `worker-start <address> <side> <prebuilt|at-start>`: how long a new process takes to get a polling worker —
 *   Node start and module loading, the connection, and `Worker.create` (with the prebuilt bundle, or bundling the
 *   workflow code at start).
 * - `memory <address> <side> <warm> <n>`: memory per cached workflow. Parks `warm` runs, measures, parks `n` more (all
 *   cached: `maxCachedWorkflows` is larger), measures again; the difference over `n` is the cost of one cached run.
 *   Run with `--expose-gc` so the main thread's heap is collected before each measurement.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import type { Worker } from '@temporalio/worker';
import { reportQuery } from '../src/workflows/messages';
import { failedSteps } from './jobs';
import type { SideName } from './sides';
import { createSideWorker, nextId, startOnly } from './sides';
import { pool } from './stats';

/** Loaded: Node is up and every module the worker needs is imported. */
const modulesLoadedMs = performance.now();

export interface WorkerStartResult {
  /** Node start and module loading, until the first line of the script runs. */
  bootMs: number;
  connectMs: number;
  /** `Worker.create` (through `createJipperWorker` for Jipper). */
  createMs: number;
  /** From process start to a running worker. */
  totalMs: number;
}

export interface MemoryResult {
  n: number;
  warm: number;
  cached: number;
  rssBeforeMb: number;
  rssAfterMb: number;
  heapBeforeMb: number;
  heapAfterMb: number;
  /** RSS growth over the `n` runs, per run, in KB. */
  rssPerWorkflowKb: number;
  /** Main-thread V8 heap growth per run, in KB (workflows themselves live in the workflow thread; see RSS). */
  heapPerWorkflowKb: number;
  parkMs: number;
}

const PARKED_SHAPE = { steps: 2, failAt: 2, park: true } as const;
const START_CONCURRENCY = 20;

async function workerStart(
  address: string,
  side: SideName,
  bundle: 'prebuilt' | 'at-start'
): Promise<WorkerStartResult> {
  const t0 = performance.now();
  const connection = await NativeConnection.connect({ address });
  const t1 = performance.now();
  const worker = await createSideWorker(side, connection, `bench-start-${side}-${process.pid}`, { bundle });
  const running = worker.run();
  const t2 = performance.now();
  worker.shutdown();
  await running;
  await connection.close();
  return { bootMs: modulesLoadedMs, connectMs: t1 - t0, createMs: t2 - t1, totalMs: t2 };
}

/** Waits until every parked run's failing step has failed and the worker has nothing in flight, twice in a row. */
async function settle(worker: Worker, expectedFailures: number): Promise<void> {
  let quietChecks = 0;
  const deadline = Date.now() + 120_000;
  while (quietChecks < 3) {
    if (Date.now() > deadline) throw new Error(`runs did not park in time: ${JSON.stringify(worker.getStatus())}`);
    await delay(200);
    const status = worker.getStatus();
    const quiet =
      failedSteps.count >= expectedFailures &&
      status.numInFlightWorkflowActivations === 0 &&
      status.numInFlightActivities === 0 &&
      status.numCachedWorkflows >= expectedFailures;
    quietChecks = quiet ? quietChecks + 1 : 0;
  }
}

async function measure(): Promise<NodeJS.MemoryUsage> {
  for (let i = 0; i < 3; i++) {
    global.gc?.();
    await delay(300);
  }
  return process.memoryUsage();
}

async function memory(address: string, side: SideName, warm: number, n: number): Promise<MemoryResult> {
  const connection = await NativeConnection.connect({ address });
  const clientConnection = await Connection.connect({ address });
  const client = new Client({ connection: clientConnection });
  const taskQueue = `bench-memory-${side}-${process.pid}`;
  const worker = await createSideWorker(side, connection, taskQueue);
  const running = worker.run();
  const ids: string[] = [];
  const park = (count: number) =>
    pool(count, START_CONCURRENCY, async () => {
      const id = nextId(side, 'parked');
      ids.push(id);
      await startOnly(client, side, taskQueue, PARKED_SHAPE, id);
    });
  try {
    await park(warm);
    await settle(worker, warm);
    await checkParked(client, side, ids[0] as string);
    const before = await measure();
    const t0 = performance.now();
    await park(n);
    await settle(worker, warm + n);
    const parkMs = performance.now() - t0;
    const after = await measure();
    const cached = worker.getStatus().numCachedWorkflows;
    if (cached < warm + n) throw new Error(`only ${cached} of ${warm + n} parked runs are cached`);
    const mb = (bytes: number) => bytes / 2 ** 20;
    return {
      n,
      warm,
      cached,
      rssBeforeMb: mb(before.rss),
      rssAfterMb: mb(after.rss),
      heapBeforeMb: mb(before.heapUsed),
      heapAfterMb: mb(after.heapUsed),
      rssPerWorkflowKb: (after.rss - before.rss) / 1024 / n,
      heapPerWorkflowKb: (after.heapUsed - before.heapUsed) / 1024 / n,
      parkMs,
    };
  } finally {
    await Promise.allSettled(ids.map((id) => client.workflow.getHandle(id).terminate('benchmark done')));
    worker.shutdown();
    await running;
    await clientConnection.close();
    await connection.close();
  }
}

/** The parked shape really parks: Jipper reports `parked`, the hand-written saga is still running. */
async function checkParked(client: Client, side: SideName, id: string): Promise<void> {
  const handle = client.workflow.getHandle(id);
  if (side === 'jipper') {
    const report = await handle.query(reportQuery);
    if (report.status !== 'parked') throw new Error(`${id} is ${report.status}, not parked`);
  } else if ((await handle.describe()).status.name !== 'RUNNING') {
    throw new Error(`${id} is not running`);
  }
}

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const [mode, address, side, ...rest] = process.argv.slice(2);
  if (address === undefined || (side !== 'jipper' && side !== 'handwritten'))
    throw new Error('usage: child <mode> <address> <side> ...');
  let result: WorkerStartResult | MemoryResult;
  if (mode === 'worker-start')
    result = await workerStart(address, side, rest[0] === 'at-start' ? 'at-start' : 'prebuilt');
  else if (mode === 'memory') result = await memory(address, side, Number(rest[0]), Number(rest[1]));
  else throw new Error(`unknown mode ${mode}`);
  await new Promise<void>((resolve, reject) =>
    process.send?.(result, (err: Error | null) => (err ? reject(err) : resolve()))
  );
}

main()
  .then(() => process.exit(0))
  .catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
