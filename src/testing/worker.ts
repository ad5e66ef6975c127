/**
 * A Jipper worker inside the test process, with the job libraries under test, on a task queue of its own (so test
 * files running side by side never take each other's tasks), and a client to start processes on it.
 */
import { randomUUID } from 'node:crypto';
import { Client } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import type { Worker, WorkerOptions } from '@temporalio/worker';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import type { JobLibrary } from '../activities/library';
import type { JobRegistry } from '../activities/registry';
import type { SecretProvider } from '../activities/secrets';
import { loadConfig } from '../config/config';
import { createJipperWorker } from '../worker/worker';

export interface TestWorkerOptions {
  /**
   * The server's address (a {@link TestServer}'s `address`). Default: `TEMPORAL_ADDRESS`. The connection uses the TLS
   * and API-key settings of the environment (`TEMPORAL_TLS_*`, `TEMPORAL_API_KEY`, a profile) either way.
   */
  address?: string;
  namespace?: string;
  /** Default: `<name>-<uuid>`, a queue of this worker's own. */
  taskQueue?: string;
  /** Prefix of the generated task queue name. Default `test`. */
  name?: string;
  /** A prebuilt workflow bundle. Default: Jipper's prebuilt bundle when present, else the workflow sources. */
  workflowBundlePath?: string;
  /**
   * How the worker and its client encode payloads. Default: the configuration's (the encrypting data converter when
   * `JIPPER_ENCRYPTION_KEYS` or `JIPPER_ENCRYPTION_KEYS_FILE` is set).
   */
  dataConverter?: DataConverter;
  /** Where the worker reads `$secret`s. Default: `JIPPER_SECRET_<NAME>` of the environment. */
  secrets?: SecretProvider;
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
  const config = loadConfig();
  const address = options.address ?? config.address;
  if (!address) throw new Error('no Temporal server for the test worker: pass `address` or set TEMPORAL_ADDRESS');
  const namespace = options.namespace ?? config.namespace;
  const dataConverter = options.dataConverter ?? config.dataConverter;
  const nativeConnection = await NativeConnection.connect({ ...config.connectionOptions, address });
  const taskQueue = options.taskQueue ?? `${options.name ?? 'test'}-${randomUUID()}`;
  const { worker, registry } = await createJipperWorker({
    connection: nativeConnection,
    namespace,
    taskQueue,
    libraries,
    ...(dataConverter ? { dataConverter } : {}),
    ...(options.secrets ? { secrets: options.secrets } : {}),
    ...(options.workflowBundlePath !== undefined ? { workflowBundlePath: options.workflowBundlePath } : {}),
    workerOptions: { shutdownGraceTime: '1s', ...options.workerOptions },
  });
  const running = worker.run();
  const client = new Client({ connection: nativeConnection, namespace, ...(dataConverter ? { dataConverter } : {}) });
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
