/**
 * `npm start`: the demo. Obtains a Temporal server (the configured one, or the embedded dev server, installing the
 * Temporal CLI if needed), starts a worker with the example volume library, and runs examples/provision-volume.yaml
 * twice: once succeeding, once failing at its export (the name is taken by the first run) and unwinding. Prints both
 * reports with their Web UI links, then keeps server and worker up until Ctrl-C. `npm start -- --once` exits after
 * the demo, with a non-zero code if either run did not end as expected.
 *
 * `npm start -- --encrypt` runs it encrypted: every payload the worker and client send is AES-256-GCM ciphertext (a key
 * ring is made in `.jipper/demo-keys.json` unless `JIPPER_ENCRYPTION_KEYS(_FILE)` names one; a configured key ring
 * alone turns encryption on too), and the embedded server's Web UI decodes them through a codec server the demo runs.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { volumeLibrary } from '../examples/volume/volume-jobs';
import type { ProcessReport } from '../shared/report';
import { createJipperWorker } from '../worker/worker';
import { JobRegistry } from '../runtime/registry';
import { sandboxRoot } from '../worker/libraries';
import { loadConfig } from '../config/config';
import { loadDefinitionFile } from '../client/definition-file';
import type { DevServer } from '../dev/dev-server';
import { DEFAULT_DEV_SERVER_PORT, defaultDbFilename, startDevServer } from '../dev/dev-server';
import { runLink } from './links';
import { webUiOf } from '../dev/ensure-server';
import { runProcess } from '../client';
import { reportForStdout } from './report-table';
import { findOrInstallTemporalCli } from '../dev/temporal-cli';
import { findProjectRoot } from '../config/project';
import { ensureSearchAttributes } from '../config/search-attributes';
import type { CodecServer } from '../codec/codec-server';
import { codecEndpointFor, startCodecServer } from '../codec/codec-server';
import { addKeyToFile } from '../codec/keyring';
import { uiOrigins } from './commands/codec';
import { silenceIpServerNameWarning } from '../config/tls';

const log = (line: string) => console.log(`· ${line}`);

/** The demo's configuration: the environment's, with a key ring of its own under `--encrypt` when none is set. */
async function demoConfig(encrypt: boolean): ReturnType<typeof loadConfig> {
  const env = { ...process.env };
  if (encrypt && !env.JIPPER_ENCRYPTION_KEYS && !env.JIPPER_ENCRYPTION_KEYS_FILE) {
    const file = join(findProjectRoot(), '.jipper', 'demo-keys.json');
    if (!existsSync(file)) log(`made the key ring ${file} (key ${addKeyToFile(file)})`);
    env.JIPPER_ENCRYPTION_KEYS_FILE = file;
  }
  return loadConfig({ env });
}

/**
 * The server the demo runs on: the configured one, or the embedded dev server (with a codec server for its Web UI
 * when payloads are encrypted); its address and its Web UI.
 */
async function demoServer(config: Awaited<ReturnType<typeof loadConfig>>): Promise<{
  server: DevServer | undefined;
  codec: CodecServer | undefined;
  address: string;
  uiBase: string | undefined;
}> {
  const { keyRing } = config;
  let server: DevServer | undefined;
  let codec: CodecServer | undefined;
  let address = config.address;
  let uiBase = config.webUi;
  if (address === undefined) {
    const cli = await findOrInstallTemporalCli({ projectRoot: config.projectRoot, log });
    const uiPort = DEFAULT_DEV_SERVER_PORT + 1000;
    if (keyRing) {
      const endpoint = new URL(codecEndpointFor(uiPort));
      codec = await startCodecServer({
        keyRing,
        port: Number(endpoint.port),
        origins: uiOrigins(uiBase ?? `http://127.0.0.1:${uiPort}`),
        log,
      });
    }
    server = await startDevServer({
      cliPath: cli.path,
      port: DEFAULT_DEV_SERVER_PORT,
      uiPort,
      dbFilename: defaultDbFilename(DEFAULT_DEV_SERVER_PORT, config.projectRoot),
      projectRoot: config.projectRoot,
      namespace: config.namespace,
      ...(codec ? { uiCodecEndpoint: codec.url } : {}),
      log,
    });
    address = server.address;
    uiBase = uiBase ?? server.uiUrl;
    if (codec && server.reused) {
      log(
        `the dev server was already running: its Web UI decodes payloads only if it was started with --ui-codec-endpoint ${codec.url}`
      );
    }
  } else {
    log(`using the Temporal server at ${address} (${config.addressSource ?? 'configured'})`);
    uiBase = await webUiOf(config, address);
  }
  return { server, codec, address, uiBase };
}

async function main(): Promise<void> {
  const once = process.argv.includes('--once');
  const config = await demoConfig(process.argv.includes('--encrypt'));
  const { dataConverter, keyRing } = config;
  Runtime.install({ logger: new DefaultLogger('ERROR') });

  const { server, codec, address, uiBase } = await demoServer(config);
  if (keyRing) {
    log(
      `payloads encrypted (AES-256-GCM, key "${keyRing.current}" of ${keyRing.source})` +
        (codec ? `; the Web UI decodes them through the codec server ${codec.url}` : '')
    );
  }

  const nativeConnection = await NativeConnection.connect({ ...config.connectionOptions, address });
  await ensureSearchAttributes(nativeConnection, config.namespace, log);
  const root = sandboxRoot(process.env, config.projectRoot);
  const libraries = [volumeLibrary({ root })];
  const { worker } = await createJipperWorker({
    connection: nativeConnection,
    namespace: config.namespace,
    taskQueue: config.taskQueue,
    libraries,
    ...(dataConverter ? { dataConverter } : {}),
  });
  // The client checks and plans each definition with the same libraries, so the worker does not plan it again.
  const registry = new JobRegistry(libraries);
  const workerDone = worker.run();
  log(`worker on task queue "${config.taskQueue}", example jobs writing under ${root}`);

  const connection = await Connection.connect({ ...config.connectionOptions, address });
  const client = new Client({ connection, namespace: config.namespace, ...(dataConverter ? { dataConverter } : {}) });
  const definitionPath = join(findProjectRoot(), 'examples', 'provision-volume.yaml');
  const definition = await loadDefinitionFile(definitionPath);
  const stamp = Date.now().toString(36);
  const exportName = `demo-${stamp}`;

  const show = (title: string, report: ProcessReport) => {
    console.log(`\n=== ${title} ===`);
    console.log(reportForStdout(report));
    console.log(`Web UI: ${runLink(uiBase, config.namespace, report.processId, report.runId) ?? '(unknown)'}`);
  };

  const first = await runProcess(client, definition, {
    taskQueue: config.taskQueue,
    id: `demo-${stamp}-succeeds`,
    params: { volume: `demo-${stamp}-a`, exportName },
    registry,
    source: definitionPath,
  });
  show('1. provision-volume: succeeds', first);

  const second = await runProcess(client, definition, {
    taskQueue: config.taskQueue,
    id: `demo-${stamp}-unwinds`,
    params: { volume: `demo-${stamp}-b`, exportName },
    registry,
    source: definitionPath,
  });
  show(`2. provision-volume again, asking for the export name "${exportName}" the first run took: unwinds`, second);

  const asExpected = first.status === 'succeeded' && second.status === 'reverted';
  if (!asExpected) console.error(`\nunexpected outcome: ${first.status} and ${second.status}`);

  if (once) {
    worker.shutdown();
    await workerDone;
    await connection.close();
    await nativeConnection.close();
    await server?.stop();
    await codec?.close();
    process.exitCode = asExpected ? 0 : 1;
    return;
  }
  // Other commands need the same key ring to read encrypted runs (and to start encrypted ones).
  const keys =
    keyRing && !process.env.JIPPER_ENCRYPTION_KEYS && !process.env.JIPPER_ENCRYPTION_KEYS_FILE
      ? `JIPPER_ENCRYPTION_KEYS_FILE=${join(findProjectRoot(), '.jipper', 'demo-keys.json')} `
      : '';
  console.log(
    `\nServer and worker stay up; press Ctrl-C to stop.\n` +
      `  Web UI:      ${uiBase ?? '(unknown)'}\n` +
      `  Try:         ${keys}npx jipper start examples/provision-volume.yaml --set volume=vol-${stamp} --set exportName=share-${stamp} --wait\n` +
      `               ${keys}npx jipper list`
  );
  await workerDone;
  await connection.close();
  await nativeConnection.close();
  await server?.stop();
  await codec?.close();
}

silenceIpServerNameWarning();
main().catch((err: unknown) => {
  console.error(err instanceof Error ? `jipper demo: ${err.message}` : err);
  process.exit(1);
});
