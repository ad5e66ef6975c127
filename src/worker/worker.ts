/**
 * The worker factory: one Temporal worker that runs Jipper's workflows and the activities of the registered job
 * libraries.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { NativeConnection, WorkerOptions } from '@temporalio/worker';
import { DefaultLogger, Worker, bundleWorkflowCode } from '@temporalio/worker';

import { JobRegistry } from '../activities/registry';
import { rateLimitedTaskQueue, runActivityName } from '../shared/calls';
import type { JobLibrary } from '../activities/library';

export interface JipperWorkerOptions {
  connection: NativeConnection;
  /** Default `default`. */
  namespace?: string;
  taskQueue: string;
  /** Job libraries to register; duplicate job names are a startup error. */
  libraries: readonly JobLibrary[];
  /**
   * Path of a prebuilt workflow bundle (`npm run build` writes `dist/workflow-bundle.js`). When unset, the bundle
   * next to the compiled code is used if present, else the workflows are bundled at start (a few seconds).
   */
  workflowBundlePath?: string;
  /** Any other Temporal worker option (concurrency, cache size, identity...). */
  workerOptions?: Partial<WorkerOptions>;
}

/** Where the build puts the prebuilt bundle. */
export const DEFAULT_BUNDLE_PATH = join(__dirname, '..', 'workflow-bundle.js');

export function workflowsPath(): string {
  return require.resolve('../workflows');
}

/** Bundles Jipper's workflow code (what `npm run build` does once, ahead of time). */
export async function bundleJipperWorkflows(): Promise<string> {
  const { code } = await bundleWorkflowCode({ workflowsPath: workflowsPath(), logger: new DefaultLogger('WARN') });
  return code;
}

/**
 * Where a worker (or a replayer) gets its workflow code: the bundle at `bundlePath` when given; else the prebuilt
 * bundle next to the compiled code when present; else the workflow sources, bundled at start.
 */
export function workflowCode(bundlePath?: string): Pick<WorkerOptions, 'workflowBundle' | 'workflowsPath'> {
  const prebuilt = existsSync(DEFAULT_BUNDLE_PATH) && __filename.endsWith('.js') ? DEFAULT_BUNDLE_PATH : undefined;
  const path = bundlePath ?? prebuilt;
  return path ? { workflowBundle: { codePath: path } } : { workflowsPath: workflowsPath() };
}

/**
 * A worker for Jipper's workflows and the activities of `libraries`. A job with a `rateLimit` runs on a task queue of
 * its own whose rate Temporal's matching service limits across all workers: the returned worker also polls those
 * queues (its `run()` runs them, its `shutdown()` stops them).
 */
export async function createJipperWorker(
  options: JipperWorkerOptions
): Promise<{ worker: Worker; registry: JobRegistry }> {
  const registry = new JobRegistry(options.libraries);
  const namespace = options.namespace ?? 'default';
  const activities = registry.activities();
  const worker = await Worker.create({
    connection: options.connection,
    namespace,
    taskQueue: options.taskQueue,
    activities,
    ...workflowCode(options.workflowBundlePath),
    ...options.workerOptions,
  });
  const limited = await Promise.all(
    registry.rateLimited().map(({ job, ratePerSecond }) =>
      Worker.create({
        connection: options.connection,
        namespace,
        taskQueue: rateLimitedTaskQueue(options.taskQueue, job),
        activities: { [runActivityName(job)]: activities[runActivityName(job)], default: activities.default },
        maxTaskQueueActivitiesPerSecond: ratePerSecond,
        ...pick(options.workerOptions, 'shutdownGraceTime'),
      })
    )
  );
  if (limited.length) runTogether(worker, limited);
  return { worker, registry };
}

/** Makes `main.run()` run the other workers too, and `main.shutdown()` stop them. */
function runTogether(main: Worker, others: Worker[]): void {
  const run = main.run.bind(main);
  const shutdown = main.shutdown.bind(main);
  main.run = async () => {
    await Promise.all([run(), ...others.map((w) => w.run())]);
  };
  main.shutdown = () => {
    for (const w of others) if (w.getState() === 'RUNNING') w.shutdown();
    shutdown();
  };
}

/** `{ [key]: value }` when the options set it, else `{}`. */
function pick<K extends keyof WorkerOptions>(
  options: Partial<WorkerOptions> | undefined,
  key: K
): Partial<WorkerOptions> {
  return options?.[key] !== undefined ? { [key]: options[key] } : {};
}
