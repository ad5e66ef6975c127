/**
 * The worker factory: one Temporal worker that runs Jipper's workflows and the activities of the registered job
 * libraries.
 */
import { existsSync } from 'node:fs';
import { basename, join, relative, sep } from 'node:path';
import type { DataConverter } from '@temporalio/common';
import type { NativeConnection, WorkerOptions } from '@temporalio/worker';
import { DefaultLogger, Worker, bundleWorkflowCode } from '@temporalio/worker';

import { JobRegistry } from '../runtime/registry';
import { rateLimitedTaskQueue, runActivityName } from '../shared/calls';
import type { JobLibrary } from '../jobs/library';
import type { HookSet } from '../shared/hooks';
import type { SecretProvider } from '../runtime/secrets';
import { envSecrets } from '../runtime/secrets';
import { ENCRYPTING_FAILURE_CONVERTER_PATH, encryptsFailures } from '../codec/data-converter';
import { EncryptionCodec, NoKeyRingCodec } from '../codec/encryption-codec';
import { KeyRingError } from '../codec/keyring';
import { PlaintextGuardCodec } from '../codec/plaintext-guard';

export interface JipperWorkerOptions {
  connection: NativeConnection;
  /** Default `default`. */
  namespace?: string;
  taskQueue: string;
  /** Job libraries to register; duplicate job names are a startup error. */
  libraries: readonly JobLibrary[];
  /**
   * How payloads are encoded: `loadConfig().dataConverter` (or `encryptingDataConverter(keyRing)`) encrypts them.
   * Default: Temporal's, no encryption. Clients of the same processes need the same key ring.
   */
  dataConverter?: DataConverter;
  /**
   * Where the `{ $secret: name }` references of job args are resolved, just before a job runs (see
   * `src/runtime/secrets.ts`). Default {@link envSecrets}: `JIPPER_SECRET_<NAME>` of this process's environment.
   */
  secrets?: SecretProvider;
  /**
   * Path of a prebuilt workflow bundle (`npm run build` writes `dist/workflow-bundle.js`, and
   * `dist/workflow-bundle.encrypted.js` for encrypting workers). When unset, the bundle next to the compiled code is
   * used if present, else the workflows are bundled at start (a few seconds). A bundle of your own for an encrypting
   * worker must be built with `bundleJipperWorkflows({ encrypted: true })`, or failure messages are not encrypted.
   */
  workflowBundlePath?: string;
  /**
   * Refuse processes whose input, memo, signal or update arguments arrive unencrypted (see docs/security.md). Default:
   * on when `dataConverter` encrypts; `true` without an encrypting data converter is an error.
   */
  refusePlaintext?: boolean;
  /** Any other Temporal worker option (concurrency, cache size, identity...). */
  workerOptions?: Partial<WorkerOptions>;
  /** The Web UI's base URL, for the link in the reports hooks send (`webUi` in the configuration). */
  webUi?: string;
  /**
   * Default outcome hooks of every process this worker runs (the config file's `hooks`); each hook's job must be in
   * `libraries` (Jipper's standard jobs: `standardLibrary()`). A definition adds its own, or opts out with
   * `on: { defaults: false }`.
   */
  hooks?: HookSet;
}

/** The package's root (this file is `<root>/dist/worker/worker.js`, or `<root>/src/worker/worker.ts`). */
const PACKAGE_ROOT = join(__dirname, '..', '..');
/** Where the build puts the prebuilt bundle. */
export const DEFAULT_BUNDLE_PATH = join(__dirname, '..', 'workflow-bundle.js');
/** Where the build puts the prebuilt bundle of encrypting workers (its failure converter encodes messages). */
export const ENCRYPTED_BUNDLE_PATH = join(__dirname, '..', 'workflow-bundle.encrypted.js');

export function workflowsPath(): string {
  return require.resolve('../workflows');
}

/**
 * Jipper's workflow interceptor modules: with them in a bundle, a run renders the Web UI's current details when the
 * Web UI asks for them instead of at every step (`src/workflows/details.ts`). Jipper's own bundles have them; a
 * project bundling code-first workflows itself passes them as `workflowInterceptorModules` to `bundleWorkflowCode`
 * (or `interceptors.workflowModules` to `Worker.create`). Without them everything works and renders at every step.
 */
export function jipperWorkflowInterceptorModules(): string[] {
  return [require.resolve('../workflows/details'), require.resolve('../workflows/plaintext-guard')];
}

/**
 * Bundles Jipper's workflow code (what `npm run build` does once, ahead of time). `encrypted`: with the failure
 * converter that hands failure messages to the payload codec, for workers that encrypt.
 */
export async function bundleJipperWorkflows(options: { encrypted?: boolean } = {}): Promise<string> {
  const { code } = await bundleWorkflowCode({
    workflowsPath: workflowsPath(),
    workflowInterceptorModules: jipperWorkflowInterceptorModules(),
    logger: new DefaultLogger('WARN'),
    ...(options.encrypted ? { failureConverterPath: ENCRYPTING_FAILURE_CONVERTER_PATH } : {}),
    // Stack traces name Jipper's sources by their path in the package (`jipper/src/workflows/engine.ts`), not by where
    // the bundle was built: workflow failures are stored in histories and shown in the Web UI.
    webpackConfigHook: (config) => ({
      ...config,
      output: { ...config.output, devtoolModuleFilenameTemplate: packageRelativeSource },
    }),
  });
  return code;
}

/** A bundled module's source path as stack traces show it: relative to the package root, under `jipper/`. */
function packageRelativeSource(info: { absoluteResourcePath: string }): string {
  const path = relative(PACKAGE_ROOT, info.absoluteResourcePath).split(sep).join('/');
  return path.startsWith('..') ? `external/${basename(info.absoluteResourcePath)}` : `jipper/${path}`;
}

/**
 * Where a worker (or a replayer) gets its workflow code: the bundle at `bundlePath` when given; else the prebuilt
 * bundle next to the compiled code when present (the encrypted one for a worker that encrypts); else the workflow
 * sources, bundled at start (with the data converter's failure converter).
 */
export function workflowCode(
  bundlePath?: string,
  encrypted = false
): Pick<WorkerOptions, 'workflowBundle' | 'workflowsPath' | 'interceptors'> {
  const built = encrypted ? ENCRYPTED_BUNDLE_PATH : DEFAULT_BUNDLE_PATH;
  const prebuilt = existsSync(built) && __filename.endsWith('.js') ? built : undefined;
  const path = bundlePath ?? prebuilt;
  return path
    ? { workflowBundle: { codePath: path } }
    : { workflowsPath: workflowsPath(), interceptors: { workflowModules: jipperWorkflowInterceptorModules() } };
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
  checkDefaultHooks(options.hooks, registry);
  const activities = registry.activities({
    secrets: options.secrets ?? envSecrets(),
    hooks: {
      ...(options.webUi !== undefined ? { webUi: options.webUi } : {}),
      ...(options.hooks ? { defaults: options.hooks } : {}),
    },
  });
  // Without a key ring, an encrypted payload fails to decode naming its key, not as an `Unknown encoding`.
  const dataConverter = {
    dataConverter: options.dataConverter
      ? guardedDataConverter(options.dataConverter, options.refusePlaintext)
      : refusingWithoutKeys(options.refusePlaintext),
  };
  const worker = await Worker.create({
    connection: options.connection,
    namespace,
    taskQueue: options.taskQueue,
    activities,
    ...dataConverter,
    ...workflowCode(options.workflowBundlePath, encryptsFailures(options.dataConverter)),
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
        ...dataConverter,
        ...pick(options.workerOptions, 'shutdownGraceTime'),
      })
    )
  );
  if (limited.length) runTogether(worker, limited);
  return { worker, registry };
}

/** A default hook whose job the worker does not have would fail at every outcome: refuse to start, on one line. */
function checkDefaultHooks(hooks: HookSet | undefined, registry: JobRegistry): void {
  const missing = Object.entries(hooks ?? {}).flatMap(([outcome, steps]) =>
    (steps ?? []).flatMap((step, i) => (registry.get(step.job) ? [] : [`hooks.${outcome}[${i}]: "${step.job}"`]))
  );
  if (missing.length) {
    throw new TypeError(
      `default hooks name jobs this worker does not have: ${missing.join(', ')}; its jobs: ${registry.names().join(', ')}`
    );
  }
}

/** The worker's data converter: `dataConverter`, and the plaintext guard after its codecs when it encrypts. */
function guardedDataConverter(dataConverter: DataConverter, refusePlaintext: boolean | undefined): DataConverter {
  const encrypts = dataConverter.payloadCodecs?.some((codec) => codec instanceof EncryptionCodec) ?? false;
  if (!encrypts) return refusePlaintext ? refusingWithoutKeys(true) : dataConverter;
  if (refusePlaintext === false) return dataConverter;
  return { ...dataConverter, payloadCodecs: [...(dataConverter.payloadCodecs ?? []), new PlaintextGuardCodec()] };
}

function refusingWithoutKeys(refusePlaintext: boolean | undefined): DataConverter {
  if (refusePlaintext) {
    throw new KeyRingError(
      'encryption is required (encryption.required, JIPPER_ENCRYPTION_REQUIRED) but this worker has no key ring: set JIPPER_ENCRYPTION_KEYS_FILE'
    );
  }
  return { payloadCodecs: [new NoKeyRingCodec()] };
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
