/**
 * A Jipper worker inside the test process, with the job libraries under test, on a task queue of its own (so test
 * files running side by side never take each other's tasks), and a client to start processes on it.
 */
import { randomUUID } from 'node:crypto';
import { Client } from '@temporalio/client';
import type { Worker, WorkerOptions } from '@temporalio/worker';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import type { JobLibrary } from '../activities/library';
import type { JobRegistry } from '../activities/registry';
import { createJipperWorker } from '../worker/worker';

export interface TestWorkerOptions {
  /** The server's address (a {@link TestServer}'s `address`). Default: `TEMPORAL_ADDRESS`. */
  address?: string;
  namespace?: string;
  /** Default: `<name>-<uuid>`, a queue of this worker's own. */
  taskQueue?: string;
  /** Prefix of the generated task queue name. Default `test`. */
  name?: string;
  /** A prebuilt workflow bundle. Default: Jipper's prebuilt bundle when present, else the workflow sources. */
  workflowBundlePath?: string;
  /** Any other Temporal worker option. */
  workerOptions?: Partial<WorkerOptions>;
}

export interface TestWorker {
  client: Client;
  taskQueue: string;
  /** The registry built from the libraries: pass it to `startProcess` / `runProcess` so the client plans. */
  registry: JobRegistry;
  worker: Worker;
  /** Stops polling, waits for the worker to finish, closes its connections. */
  shutdown(): Promise<void>;
}

let runtimeInstalled = false;

/** Starts a worker with `libraries` against the test server; it polls until `shutdown()`. */
export async function startTestWorker(
  libraries: readonly JobLibrary[],
  options: TestWorkerOptions = {}
): Promise<TestWorker> {
  if (!runtimeInstalled) {
    // Workers log their activity failures at WARN; in a test run those are expected (failure cases): keep ERROR.
    try {
      Runtime.install({ logger: new DefaultLogger('ERROR') });
    } catch {
      // A runtime was installed already (by the test's own code): keep it.
    }
    runtimeInstalled = true;
  }
  const address = options.address ?? process.env.TEMPORAL_ADDRESS;
  if (!address) throw new Error('no Temporal server for the test worker: pass `address` or set TEMPORAL_ADDRESS');
  const namespace = options.namespace ?? process.env.TEMPORAL_NAMESPACE ?? 'default';
  const nativeConnection = await NativeConnection.connect({ address });
  const taskQueue = options.taskQueue ?? `${options.name ?? 'test'}-${randomUUID()}`;
  const { worker, registry } = await createJipperWorker({
    connection: nativeConnection,
    namespace,
    taskQueue,
    libraries,
    ...(options.workflowBundlePath !== undefined ? { workflowBundlePath: options.workflowBundlePath } : {}),
    workerOptions: { shutdownGraceTime: '1s', ...options.workerOptions },
  });
  const running = worker.run();
  const client = new Client({ connection: nativeConnection, namespace });
  return {
    client,
    taskQueue,
    registry,
    worker,
    async shutdown() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
      await nativeConnection.close();
    },
  };
}
