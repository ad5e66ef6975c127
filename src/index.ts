/**
 * `jipper`: define jobs and job libraries, write process definitions, and read reports. A process is an ordered list
 * (or a graph) of jobs; when one fails, every finished job is reverted, newest first, and the report says what
 * happened to each job. Programs start processes with `jipper/client`, workers run them with `jipper/worker`,
 * code-first workflows use `jipper/workflow`, and tests use `jipper/testing`.
 *
 * @example
 * ```ts
 * import { defineJob, defineLibrary, defineProcess, z } from 'jipper';
 *
 * export const createBucket = defineJob({
 *   name: 'create-bucket',
 *   input: z.object({ bucket: z.string() }),
 *   async run({ bucket }, ctx) {
 *     await storage.create(bucket, { requestId: ctx.idempotencyKey });
 *     return { bucket };
 *   },
 *   async revert({ bucket }) {
 *     await storage.remove(bucket);
 *   },
 * });
 * export const library = defineLibrary('storage', [createBucket]);
 *
 * export const setup = defineProcess({
 *   name: 'setup',
 *   steps: [{ id: 'bucket', job: 'create-bucket', args: { bucket: 'b1' } }],
 * });
 * ```
 */
/** The zod Jipper checks job inputs with: define your jobs' schemas with it (or with your own zod 4). */
export { z } from 'zod';
export { defineJob } from './jobs/job';
export type { AnyJob, JobContext, JobDefinition, JobInput, JobResult, RevertContext } from './jobs/job';
export { DuplicateJobError, defineLibrary } from './jobs/library';
export type { JobLibrary } from './jobs/library';
export { JobRegistry } from './runtime/registry';
export type { SecretProvider } from './runtime/secrets';
export { secretMarker, secretRef } from './shared/refs';
export type { SecretRef } from './shared/refs';

export { OVERLAP_POLICIES, defineProcess, processDefinitionSchema, scheduleSchema } from './schema/definition';
export type {
  GroupStep,
  JobOptions,
  JobStep,
  OverlapPolicy,
  ProcessDefinition,
  ProcessOptions,
  ScheduleSpecInput,
  Step,
} from './schema/definition';
export type { Problem } from './shared/plan';

export {
  FINAL_PROCESS_STATUSES,
  JOB_STATUSES,
  LIVE_PROCESS_STATUSES,
  OUTCOME_UNKNOWN_REASON,
  isFinalStatus,
} from './shared/report';
export type {
  Decision,
  ErrorInfo,
  FinalProcessStatus,
  JobReport,
  JobStatus,
  ProcessReport,
  ProcessStatus,
  RevertReport,
} from './shared/report';
export { reportToMarkdown } from './shared/render';
export { defineConfig } from './config/file';
export type { JipperConfigFile } from './config/file';
export * from './shared/errors';
export * from './shared/limits';
export type { TokenClaim } from './shared/tokens';
export type { ProbeAnswer, JobName } from './jobs/job';
