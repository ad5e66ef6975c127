/**
 * The worker entrypoint (`node dist/worker/main.js`, `jipper worker`, the docker-compose worker): connects to the
 * configured Temporal server — starting the embedded dev server when the address is on loopback and nothing listens —
 * makes sure Jipper's search attributes exist, and runs a worker with the configured job libraries until
 * SIGINT/SIGTERM.
 */
import { installJipperRuntime } from './logger';
import type { NativeConnection, Worker } from '@temporalio/worker';
import type { JobRegistry } from '../runtime/registry';
import type { JipperConfig } from '../config/config';
import { loadConfig } from '../config/config';
import { FileKeyRing } from '../codec/keyring';

import { deploymentFromEnv } from './deployment';
import { loadLibraries, withStandardJobs } from './libraries';
import { loadSecretProvider } from './secrets';
import { createJipperWorker } from './worker';
import { connectNative } from '../config/connect';
import { ensureServer } from '../dev/ensure-server';
import { ensureSearchAttributes } from '../config/search-attributes';
import type { LogLine } from '../shared/text';
import { silenceIpServerNameWarning } from '../config/tls';

export interface RunningWorker {
  worker: Worker;
  registry: JobRegistry;
  connection: NativeConnection;
  address: string;
  /** The server's Web UI, when known. */
  uiUrl: string | undefined;
  /** Resolves when the worker has shut down (after `worker.shutdown()` or a signal). */
  done: Promise<void>;
}

/** Starts a worker as configured; it polls until shut down. */
export async function startWorker(
  config?: JipperConfig,
  log: LogLine = (line) => console.error(line)
): Promise<RunningWorker> {
  installJipperRuntime();
  config ??= await loadConfig();
  const libraries = withStandardJobs(await loadLibraries(config));
  const secrets = loadSecretProvider();
  const deployment = deploymentFromEnv();
  const { address, uiUrl } = await ensureServer(config, log);
  const connection = await connectNative({ ...config, address });
  await ensureSearchAttributes(connection, config.namespace, log);
  const { worker, registry } = await createJipperWorker({
    connection,
    namespace: config.namespace,
    taskQueue: config.taskQueue,
    libraries,
    secrets,
    ...(uiUrl !== undefined ? { webUi: uiUrl } : {}),
    ...(config.hooks ? { hooks: config.hooks } : {}),
    ...(config.dataConverter ? { dataConverter: config.dataConverter } : {}),
    refusePlaintext: config.encryptionRequired,
    ...(deployment ? { workerOptions: { workerDeploymentOptions: deployment } } : {}),
  });
  const stopReloading = config.keyRing instanceof FileKeyRing ? config.keyRing.reloadOn('SIGHUP', log) : undefined;
  const done = worker
    .run()
    .finally(() => connection.close())
    .finally(() => stopReloading?.());
  const encryption = config.keyRing
    ? `payloads encrypted with key "${config.keyRing.current}" of ${config.keyRing.source}${config.encryptionRequired ? ', plaintext refused' : ', plaintext accepted (encryption not required)'}`
    : 'payloads not encrypted';
  log(
    `worker on task queue "${config.taskQueue}" at ${address} (namespace ${config.namespace}${uiUrl ? `, Web UI ${uiUrl}` : ''})${deployment ? `, deployment version ${deployment.version.deploymentName}.${deployment.version.buildId} (pinned)` : ''}, ${encryption}, secrets from ${secrets.description}, jobs: ${registry.names().join(', ')}`
  );
  return { worker, registry, connection, address, uiUrl, done };
}

async function main(): Promise<void> {
  const { done } = await startWorker();
  await done;
}

if (require.main === module) {
  silenceIpServerNameWarning();
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? `jipper worker: ${err.message}` : err);
    process.exit(1);
  });
}
