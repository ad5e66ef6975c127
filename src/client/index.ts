/**
 * `jipper/client`: what a program uses to start, watch, cancel and decide processes. It never loads worker code.
 *
 * @example
 * ```ts
 * import { connectClient, loadConfig, runProcess } from 'jipper/client';
 * import { JobRegistry } from 'jipper';
 * import { libraries } from './jobs';
 *
 * const config = await loadConfig(); // flags, environment, jipper.config.ts, Temporal profile
 * const client = await connectClient(config);
 * // With the workers' job libraries the client checks the definition and plans it before starting.
 * const report = await runProcess(client, definition, { taskQueue: config.taskQueue, registry: new JobRegistry(libraries) });
 * console.log(report.status); // succeeded | reverted | revert_failed | cancelled | failed
 *
 * // A process id names one process: a second start with it is refused (ProcessAlreadyStartedError) unless `rerun`
 * // is asked for and the first did not succeed. `startAt` / `startDelay` begin it later (it is `waiting` till then).
 * await startProcess(client, definition, { taskQueue: config.taskQueue, id: 'vol-7', startDelay: '2h' });
 * // A definition's `schedule:` block, on a Temporal Schedule (created or brought in line; idempotent).
 * await applySchedule(client, definition, { taskQueue: config.taskQueue });
 * ```
 */
export {
  PROCESS_WORKFLOW_TYPE,
  buildStartRequest,
  existingRun,
  parseDefinition,
  planDefinition,
  runProcess,
  startDelayOf,
  startProcess,
} from './start';
export type { StartProcessOptions, StartRequest, StartRequestOptions } from './start';
export {
  SCHEDULED_BY_ATTRIBUTE,
  SCHEDULED_BY_KEY,
  ScheduleConflictError,
  applySchedule,
  backfillSchedule,
  createSchedule,
  describeSchedule,
  listSchedules,
  planSchedule,
  triggerSchedule,
} from './schedules';
export type { AppliedSchedule, ScheduleInfo, ScheduleListing, ScheduleProcessOptions, ScheduledRun } from './schedules';
export { describeSpec } from './schedule-spec';
export { getReport, isWaiting, reportFromError, waitForReport, waitingReport } from './report';
export { watchProcess } from './watch';
export type { WatchOptions } from './watch';
export { cancelProcess, decide, pauseProcess, resumeProcess, reviseProcess } from './control';
export type { ReviseOptions } from './control';
export { approve, defaultIdentity, reject, sendEvent } from './waits';
export type { DecisionOptions, SendEventOptions, SentEvent } from './waits';
export { waitUpdate } from '../workflows/wait-messages';
export type { WaitMessage, WaitResponse } from '../workflows/wait-messages';
export { listTokens } from './tokens';
export {
  CompletionInputError,
  CompletionTokenError,
  awaitedJobs,
  completeJob,
  decodeCompletionToken,
  failJob,
  heartbeatJob,
  reportJobCancelled,
} from './callbacks';
export type { AwaitedJob, CompleteJobOptions, FailJobOptions, SettledJob } from './callbacks';
export { DEFAULT_CALLBACK_PORT, MAX_CALLBACK_BODY_BYTES, startCallbackServer } from './callback-server';
export type { CallbackServer, CallbackServerOptions } from './callback-server';
export { runDefinition } from './run-definition';
export type { RunDefinition } from './run-definition';
export { previewProcess } from './preview';
export { findStuckWorkflowTask } from './stuck-task';
export type { StuckWorkflowTask } from './stuck-task';
export {
  ConfigError,
  DecisionRejectedError,
  DefinitionError,
  OperatorActionRejectedError,
  PayloadTooLargeError,
  ProcessAlreadyStartedError,
  ScheduleSpecError,
  StartTimeError,
  TemporalUnreachableError,
} from './errors';
export type { ExistingRun } from './errors';
export { DEFAULT_TASK_QUEUE, loadConfig } from '../config/config';
export type { ConfigFlags, JipperConfig, LibrarySpec, LoadConfigOptions } from '../config/config';
export { DefinitionFileError, loadDefinitionFile } from './definition-file';
export { connectClient } from '../config/connect';
export { reportQuery, decideUpdate, pauseUpdate, resumeUpdate, reviseUpdate, tokensQuery } from '../workflows/messages';
export type { DecideRequest, DecideResponse, PauseRequest, ReviseRequest, TokensView } from '../workflows/messages';
export type { Decision, ErrorInfo, JobReport, JobStatus, ProcessReport, ProcessStatus } from '../shared/report';
export { TemporalAccessError, TemporalTlsError } from '../config/errors';
export { encryptingDataConverter } from '../codec/data-converter';
export { EncryptionCodec, UnknownKeyError, PayloadDecryptError } from '../codec/encryption-codec';
export { KeyRingError, loadKeyRing, parseInlineKeyRing } from '../codec/keyring';
export { FileKeyRing, openKeyRing } from '../codec/keyring';
export { registerKekProvider } from '../codec/envelope';
export type { KeyEncryptionKeyProvider, KekProviderFactory, KekSpec } from '../codec/envelope';
export type { KeyRing } from '../codec/keyring';
export { startCodecServer } from '../codec/codec-server';
export type { CodecServer, CodecServerOptions } from '../codec/codec-server';
export type { CodecJwtOptions } from '../codec/codec-auth';
export { DEFAULT_CODEC_LIMITS } from '../codec/codec-limits';
export type { CodecLimits } from '../codec/codec-limits';
