/**
 * Jipper: a durable saga orchestrator on Temporal. A process is an ordered list of jobs; when one fails, every
 * finished job is reverted, newest first, and the report says what happened to each job.
 *
 * @example
 * ```ts
 * import { z } from 'zod';
 * import { JobRegistry, defineJob, defineLibrary, createJipperWorker, runProcess } from 'jipper';
 *
 * const createBucket = defineJob({
 *   name: 'create-bucket',
 *   input: z.object({ bucket: z.string() }),
 *   async run({ bucket }, ctx) { await storage.create(bucket, { requestId: ctx.idempotencyKey }); return { bucket }; },
 *   async revert({ bucket }) { await storage.remove(bucket); },
 * });
 * const libraries = [defineLibrary('storage', [createBucket])];
 * const { worker } = await createJipperWorker({ connection, taskQueue: 'jipper', libraries });
 * // With the workers' libraries the client checks the definition and plans it (no planning on the worker).
 * const registry = new JobRegistry(libraries);
 * const report = await runProcess(client, { name: 'setup', steps: [{ id: 'bucket', job: 'create-bucket', args: { bucket: 'b1' } }] }, { taskQueue: 'jipper', registry });
 * ```
 *
 * Code-first workflows (branching) import their API from `jipper/workflow` (`src/workflow.ts`), which is safe for the
 * workflow sandbox.
 */
export { defineJob } from './activities/job';
export type { AnyJob, JobContext, JobDefinition, JobInput, JobResult, RevertContext } from './activities/job';
export { DuplicateJobError, JobRegistry, PLAN_MISMATCH_TYPE, defineLibrary } from './activities/registry';
export type { JobLibrary } from './activities/registry';
export { validateDefinition } from './activities/validate';
export { volumeJobs, volumeLibrary, inspectSandbox } from './activities/examples/volume-jobs';
export type { VolumeJobs } from './activities/examples/volume-jobs';

export { defineProcess, processDefinitionSchema } from './shared/definition';
export type { GroupStep, JobOptions, JobStep, ProcessDefinition, ProcessOptions, Step } from './shared/definition';
export type { Decision, ErrorInfo, JobReport, JobStatus, ProcessReport, ProcessStatus } from './shared/report';
export type { JobFacts, Problem } from './shared/plan';
export { planFromFacts } from './shared/plan';
export { reportToMarkdown } from './shared/render';

export {
  DecisionRejectedError,
  DefinitionError,
  PayloadTooLargeError,
  cancelProcess,
  decide,
  getReport,
  parseDefinition,
  planDefinition,
  runProcess,
  startProcess,
  waitForReport,
} from './client/process-client';
export { findStuckWorkflowTask } from './client/stuck-task';
export type { StuckWorkflowTask } from './client/stuck-task';
export { loadDefinitionFile } from './client/definition-file';
export { loadConfig, connectClient, connectNative, ensureServer } from './client/config';

export { createJipperWorker, bundleJipperWorkflows } from './worker/worker';
export type { JipperWorkerOptions } from './worker/worker';
export { startWorker } from './worker/main';
