/**
 * Runs a Jipper worker inside the test process against the run's dev server (started by global-setup.ts), on a task
 * queue of its own so test files do not steal each other's tasks.
 */
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Runtime, DefaultLogger } from '@temporalio/worker';
import type { Worker } from '@temporalio/worker';
import type { JobLibrary } from '../../src/activities/registry';
import type { JobRegistry } from '../../src/activities/registry';
import { createJipperWorker } from '../../src/worker/worker';

let runtimeInstalled = false;

export interface TestWorker {
  client: Client;
  taskQueue: string;
  registry: JobRegistry;
  worker: Worker;
  shutdown(): Promise<void>;
}

export function serverAddress(): string {
  const address = process.env.TEMPORAL_ADDRESS;
  if (!address) throw new Error('TEMPORAL_ADDRESS is not set: the jest global setup did not start a Temporal server');
  return address;
}

export async function startTestWorker(libraries: JobLibrary[], name = 'test'): Promise<TestWorker> {
  if (!runtimeInstalled) {
    Runtime.install({ logger: new DefaultLogger('ERROR') });
    runtimeInstalled = true;
  }
  const address = serverAddress();
  const nativeConnection = await NativeConnection.connect({ address });
  const taskQueue = `${name}-${randomUUID()}`;
  const { worker, registry } = await createJipperWorker({
    connection: nativeConnection,
    taskQueue,
    libraries,
    ...(process.env.JIPPER_TEST_BUNDLE ? { workflowBundlePath: process.env.JIPPER_TEST_BUNDLE } : {}),
    workerOptions: { shutdownGraceTime: '1s' },
  });
  const running = worker.run();
  const connection = await Connection.connect({ address });
  const client = new Client({ connection });
  return {
    client,
    taskQueue,
    registry,
    worker,
    async shutdown() {
      worker.shutdown();
      await running;
      await connection.close();
      await nativeConnection.close();
    },
  };
}
