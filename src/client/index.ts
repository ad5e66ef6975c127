/**
 * `jipper/client`: what a program uses to start, watch, cancel and decide processes. It never loads worker code.
 *
 * @example
 * ```ts
 * import { connectClient, loadConfig, runProcess } from 'jipper/client';
 * import { JobRegistry } from 'jipper';
 * import { libraries } from './jobs';
 *
 * const config = loadConfig();
 * const client = await connectClient(config);
 * // With the workers' job libraries the client checks the definition and plans it before starting.
 * const report = await runProcess(client, definition, { taskQueue: config.taskQueue, registry: new JobRegistry(libraries) });
 * console.log(report.status); // succeeded | reverted | revert_failed | cancelled | failed
 * ```
 */
export { PROCESS_WORKFLOW_TYPE, parseDefinition, planDefinition, runProcess, startProcess } from './start';
export type { StartProcessOptions } from './start';
export { getReport, reportFromError, waitForReport } from './report';
export { watchProcess } from './watch';
export type { WatchOptions } from './watch';
export { cancelProcess, decide, pauseProcess, resumeProcess, reviseProcess } from './control';
export type { ReviseOptions } from './control';
export { listTokens } from './tokens';
export { previewProcess } from './preview';
export { findStuckWorkflowTask } from './stuck-task';
export type { StuckWorkflowTask } from './stuck-task';
export {
  ConfigError,
  DecisionRejectedError,
  DefinitionError,
  OperatorActionRejectedError,
  PayloadTooLargeError,
  TemporalUnreachableError,
} from './errors';
export { DEFAULT_TASK_QUEUE, loadConfig } from '../config/config';
export type { JipperConfig } from '../config/config';
export { connectClient } from '../config/connect';
export { reportQuery, decideUpdate, pauseUpdate, resumeUpdate, reviseUpdate, tokensQuery } from '../workflows/messages';
export type { DecideRequest, DecideResponse, PauseRequest, ReviseRequest, TokensView } from '../workflows/messages';
export type { Decision, ErrorInfo, JobReport, JobStatus, ProcessReport, ProcessStatus } from '../shared/report';
export { TemporalAccessError, TemporalTlsError } from '../config/errors';
export { encryptingDataConverter } from '../codec/data-converter';
export { EncryptionCodec, UnknownKeyError, PayloadDecryptError } from '../codec/encryption-codec';
export { KeyRingError, loadKeyRing, parseInlineKeyRing } from '../codec/keyring';
export type { KeyRing } from '../codec/keyring';
export { startCodecServer } from '../codec/codec-server';
export type { CodecServer, CodecServerOptions } from '../codec/codec-server';
