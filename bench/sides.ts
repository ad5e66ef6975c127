/**
 * The two sides of the benchmark — the hand-written saga and Jipper — behind one interface: create a worker (same
 * settings for both), run a process of a given shape from start to result, and start one without waiting.
 */
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { WorkflowFailedError } from '@temporalio/client';
import type { NativeConnection, WorkerOptions } from '@temporalio/worker';
import { Worker } from '@temporalio/worker';
import { JobRegistry } from '../src/activities/registry';
import { runProcess, startProcess } from '../src/client';

import { createJipperWorker } from '../src/worker/worker';
import type { ProcessShape } from './jobs';
import { benchLibrary, handwrittenActivities, jipperDefinition } from './jobs';
import type { handwrittenSaga } from './workflows/handwritten-saga';
import { findProjectRoot } from '../src/config/project';

export type SideName = 'handwritten' | 'jipper';
export const SIDES: readonly SideName[] = ['handwritten', 'jipper'];

export const PROJECT_ROOT = findProjectRoot(__dirname);
/** Jipper's prebuilt workflow bundle, written by `npm run build`. */
export const JIPPER_BUNDLE = join(PROJECT_ROOT, 'dist', 'workflow-bundle.js');
/** The hand-written saga's bundle, written by the benchmark before it starts (see run.ts). */
export const HANDWRITTEN_BUNDLE = join(PROJECT_ROOT, 'dist', 'bench', 'handwritten-bundle.js');
export const HANDWRITTEN_WORKFLOWS = require.resolve('./workflows/handwritten-saga');

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
  if (side === 'jipper') {
    const { worker } = await createJipperWorker({
      connection,
      taskQueue,
      libraries: [benchLibrary],
      ...(prebuilt ? { workflowBundlePath: JIPPER_BUNDLE } : {}),
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
const benchRegistry = new JobRegistry([benchLibrary]);

let sequence = 0;
export function nextId(side: SideName, label: string): string {
  sequence += 1;
  return `bench-${side}-${label}-${process.pid}-${sequence}`;
}

/**
 * Runs one process from start to result and returns the workflow id; throws when the outcome is not the expected one
 * (success, or a failure at `failAt` that was unwound).
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
  await client.workflow.start<typeof handwrittenSaga>('handwrittenSaga', { taskQueue, workflowId: id, args: [shape] });
}
