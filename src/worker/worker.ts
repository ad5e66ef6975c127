/**
 * The worker factory: one Temporal worker that runs Jipper's workflows and the activities of the registered job
 * libraries.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { NativeConnection, WorkerOptions } from '@temporalio/worker';
import { DefaultLogger, Worker, bundleWorkflowCode } from '@temporalio/worker';

import { JobRegistry } from '../activities/registry';
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

export async function createJipperWorker(
  options: JipperWorkerOptions
): Promise<{ worker: Worker; registry: JobRegistry }> {
  const registry = new JobRegistry(options.libraries);
  const worker = await Worker.create({
    connection: options.connection,
    namespace: options.namespace ?? 'default',
    taskQueue: options.taskQueue,
    activities: registry.activities(),
    ...workflowCode(options.workflowBundlePath),
    ...options.workerOptions,
  });
  return { worker, registry };
}
