/**
 * The sides of the benchmark — the hand-written saga, Jipper's definition runs and Jipper's code-first `runSaga` —
 * behind one interface: create a worker (same settings for all), run a process of a given shape from start to result,
 * and start one without waiting. The main comparison is Jipper (definitions) against the hand-written saga; the
 * code-first side is measured beside Jipper's definition runs.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { WorkflowFailedError } from '@temporalio/client';
import type { NativeConnection, WorkerOptions } from '@temporalio/worker';
import { DefaultLogger, Worker, bundleWorkflowCode } from '@temporalio/worker';
import { JobRegistry } from '../src/runtime/registry';
import { reportFromError, runProcess, startProcess } from '../src/client';

import { createJipperWorker, jipperWorkflowInterceptorModules } from '../src/worker/worker';
import type { ProcessShape } from './jobs';
import { benchLibrary, handwrittenActivities, jipperDefinition } from './jobs';
import type { handwrittenSaga } from './workflows/handwritten-saga';
import type { benchCodeFirst } from './workflows/code-first';
import { findProjectRoot } from '../src/config/project';
import type { ProcessReport } from '../src/shared/report';

export type SideName = 'handwritten' | 'jipper' | 'codefirst';
/** The two sides of the main comparison. */
export const SIDES: readonly ('handwritten' | 'jipper')[] = ['handwritten', 'jipper'];
export const ALL_SIDES: readonly SideName[] = ['handwritten', 'jipper', 'codefirst'];

export const PROJECT_ROOT = findProjectRoot(__dirname);
/** Jipper's prebuilt workflow bundle, written by `npm run build`. */
export const JIPPER_BUNDLE = join(PROJECT_ROOT, 'dist', 'workflow-bundle.js');
/** The hand-written saga's bundle, written by the benchmark before it starts (see run.ts). */
export const HANDWRITTEN_BUNDLE = join(PROJECT_ROOT, 'dist', 'bench', 'handwritten-bundle.js');
export const HANDWRITTEN_WORKFLOWS = require.resolve('./workflows/handwritten-saga');
/** The code-first workflow's bundle, written by the benchmark before it starts (see run.ts). */
export const CODEFIRST_BUNDLE = join(PROJECT_ROOT, 'dist', 'bench', 'code-first-bundle.js');
export const CODEFIRST_WORKFLOWS = require.resolve('./workflows/code-first');

/**
 * Bundles the hand-written saga and the code-first workflow (not timed) and writes them where the workers load them;
 * Jipper's own bundle comes from `npm run build`.
 */
export async function writeBenchBundles(log: (line: string) => void): Promise<void> {
  // The code-first saga is bundled as a project would bundle its own: with Jipper's workflow interceptor modules.
  for (const [label, workflowsPath, path, workflowInterceptorModules] of [
    ['the hand-written saga', HANDWRITTEN_WORKFLOWS, HANDWRITTEN_BUNDLE, []],
    ['the code-first saga', CODEFIRST_WORKFLOWS, CODEFIRST_BUNDLE, jipperWorkflowInterceptorModules()],
  ] as const) {
    log(`bundling ${label} (not timed)`);
    const { code } = await bundleWorkflowCode({
      workflowsPath,
      workflowInterceptorModules: [...workflowInterceptorModules],
      logger: new DefaultLogger('WARN'),
    });
    writeFileSync(path, code);
  }
  if (!existsSync(JIPPER_BUNDLE)) throw new Error(`${JIPPER_BUNDLE} is missing: run npm run build`);
}

/**
 * Worker settings, identical for both sides. `maxCachedWorkflows` is large so the memory benchmark's parked runs all
 * stay cached; everything else is the SDK's default.
 */
export const BENCH_WORKER_OPTIONS = {
  maxCachedWorkflows: 2_000,
  shutdownGraceTime: '1s',
} satisfies Partial<WorkerOptions>;

export async function createSideWorker(
  side: SideName,
  connection: NativeConnection,
  taskQueue: string,
  options: { bundle?: 'prebuilt' | 'at-start' } = {}
): Promise<Worker> {
  const prebuilt = (options.bundle ?? 'prebuilt') === 'prebuilt';
  if (side === 'jipper' || side === 'codefirst') {
    const bundle = side === 'codefirst' ? CODEFIRST_BUNDLE : JIPPER_BUNDLE;
    const { worker } = await createJipperWorker({
      connection,
      taskQueue,
      libraries: [benchLibrary],
      ...(prebuilt || side === 'codefirst' ? { workflowBundlePath: bundle } : {}),
      workerOptions: BENCH_WORKER_OPTIONS,
    });
    return worker;
  }
  return Worker.create({
    connection,
    namespace: 'default',
    taskQueue,
    activities: handwrittenActivities,
    ...(prebuilt ? { workflowBundle: { codePath: HANDWRITTEN_BUNDLE } } : { workflowsPath: HANDWRITTEN_WORKFLOWS }),
    ...BENCH_WORKER_OPTIONS,
  });
}

/**
 * The client's registry: Jipper's side checks and plans each definition with the worker's job library before starting
 * it, as the `jipper` command does, so the worker does not plan it again.
 */
export const benchRegistry = new JobRegistry([benchLibrary]);

let sequence = 0;
export function nextId(side: SideName, label: string): string {
  sequence += 1;
  return `bench-${side}-${label}-${process.pid}-${sequence}`;
}

/**
 * Runs one process from start to result; throws when the outcome is not the expected one (success, or a failure at
 * `failAt` that was unwound).
 */
export async function runToResult(
  client: Client,
  side: SideName,
  taskQueue: string,
  shape: ProcessShape,
  id: string
): Promise<void> {
  if (side === 'jipper') {
    const report = await runProcess(client, jipperDefinition(shape), { taskQueue, id, registry: benchRegistry });
    const expected = shape.failAt === undefined ? 'succeeded' : 'reverted';
    if (report.status !== expected) throw new Error(`${id}: expected ${expected}, got ${report.status}`);
    return;
  }
  if (side === 'codefirst') {
    let report: ProcessReport;
    try {
      report = await client.workflow.execute<typeof benchCodeFirst>('benchCodeFirst', {
        taskQueue,
        workflowId: id,
        args: [shape],
      });
    } catch (err) {
      const fromError = reportFromError(err);
      if (!fromError) throw err;
      report = fromError;
    }
    const expected = shape.failAt === undefined ? 'succeeded' : 'reverted';
    if (report.status !== expected) throw new Error(`${id}: expected ${expected}, got ${report.status}`);
    return;
  }
  try {
    await client.workflow.execute<typeof handwrittenSaga>('handwrittenSaga', {
      taskQueue,
      workflowId: id,
      args: [shape],
    });
    if (shape.failAt !== undefined) throw new Error(`${id}: expected a failure at step ${shape.failAt}, it succeeded`);
  } catch (err) {
    if (!(shape.failAt !== undefined && err instanceof WorkflowFailedError)) throw err;
  }
}

/** Starts a process without waiting for it (the memory benchmark's parked runs). */
export async function startOnly(
  client: Client,
  side: SideName,
  taskQueue: string,
  shape: ProcessShape,
  id: string
): Promise<void> {
  if (side === 'jipper') {
    await startProcess(client, jipperDefinition(shape), { taskQueue, id, registry: benchRegistry });
    return;
  }
  if (side === 'codefirst') {
    await client.workflow.start<typeof benchCodeFirst>('benchCodeFirst', { taskQueue, workflowId: id, args: [shape] });
    return;
  }
  await client.workflow.start<typeof handwrittenSaga>('handwrittenSaga', { taskQueue, workflowId: id, args: [shape] });
}
