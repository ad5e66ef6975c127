/**
 * `jipper/worker`: run Jipper's workflows and the activities of your job libraries on a Temporal worker.
 *
 * @example
 * ```ts
 * import { NativeConnection } from '@temporalio/worker';
 * import { createJipperWorker } from 'jipper/worker';
 * import { library } from './jobs';
 *
 * const connection = await NativeConnection.connect({ address: '127.0.0.1:7233' });
 * const { worker } = await createJipperWorker({ connection, taskQueue: 'jipper', libraries: [library] });
 * await worker.run();
 * ```
 *
 * `startWorker()` does the same from the configuration (environment and config file), starting the embedded dev
 * server when no server is configured: it is what `jipper worker` runs.
 */
export { bundleJipperWorkflows, createJipperWorker, jipperWorkflowInterceptorModules } from './worker';
export type { JipperWorkerOptions } from './worker';
export { startWorker } from './main';
export type { RunningWorker } from './main';
export { LibraryLoadError, loadLibraries, loadRegistry, withStandardJobs } from './libraries';
export {
  IDEMPOTENCY_HEADER,
  SIGNATURE_HEADER,
  TIMESTAMP_HEADER,
  httpRequest,
  messageIdFor,
  sendEmail,
  signBody,
  standardLibrary,
} from '../jobs/standard';
export type { HookSet } from '../shared/hooks';
export { historyFromJson, historyToJson } from './history-json';
export { replayHistoryFiles } from './replay';
export type { ReplayFileResult, ReplayOptions } from './replay';
export { SearchAttributeConflictError, ensureSearchAttributes } from '../config/search-attributes';
export { connectNative } from '../config/connect';
export { ensureServer } from '../dev/ensure-server';
export type { ServerInUse } from '../dev/ensure-server';
export { chainSecrets, envSecrets, fileSecrets, secretEnvName, withSecretRoutes } from '../runtime/secrets';
export type { SecretProvider, SecretRoutes } from '../runtime/secrets';
export { loadSecretProvider } from './secrets';
export { encryptingDataConverter } from '../codec/data-converter';
export { FileKeyRing, loadKeyRing, openKeyRing } from '../codec/keyring';
export { FileKekProvider, registerKekProvider } from '../codec/envelope';
export type { KeyEncryptionKeyProvider, KekProviderFactory, KekSpec } from '../codec/envelope';
