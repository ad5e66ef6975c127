/**
 * A real Temporal server for tests, on `@temporalio/testing`: the configured one when `TEMPORAL_ADDRESS` is set
 * (`TestWorkflowEnvironment.createFromExistingServer`), else a dev server of the test run's own
 * (`TestWorkflowEnvironment.createLocal`) started from the project's pinned Temporal CLI (found or installed into
 * `.jipper/bin`), on free loopback ports, in memory, with Jipper's search attributes registered.
 */
import { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Client } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import type { NativeConnection } from '@temporalio/worker';
import { loadConfig } from '../config/config';
import { ensureSearchAttributes } from '../config/search-attributes';
import { JIPPER_DYNAMIC_CONFIG } from '../dev/dynamic-config';
import { freePort } from '../dev/ports';
import { findOrInstallTemporalCli } from '../dev/temporal-cli';
import { JIPPER_SEARCH_ATTRIBUTES } from '../shared/search-attributes';
import type { LogLine } from '../shared/text';
import { installTestRuntime } from './runtime';

export interface TestServerOptions {
  /**
   * Use the server at this address instead of starting one. Default: `TEMPORAL_ADDRESS` when set (with the TLS and
   * API-key settings of the environment), else a new dev server. `false`: always a new dev server of its own.
   */
  address?: string | false;
  /** Namespace. Default: `TEMPORAL_NAMESPACE`, else `default`. */
  namespace?: string;
  /** Start the Web UI with a new dev server (on a free port). Default `false`. */
  ui?: boolean;
  /**
   * Dynamic configuration for a new dev server (`--dynamic-config-value`), laid over Jipper's own (priority and
   * fairness on, one partition per task queue, as `jipper dev` runs; see `JIPPER_DYNAMIC_CONFIG`).
   */
  dynamicConfig?: Record<string, string | number | boolean>;
  /** The `temporal` binary for a new dev server. Default: the project's pinned CLI, installed when missing. */
  cliPath?: string;
  /**
   * How the environment's client encodes payloads. Default: the configuration's (`loadConfig().dataConverter`: the
   * encrypting one when `JIPPER_ENCRYPTION_KEYS` or `JIPPER_ENCRYPTION_KEYS_FILE` is set).
   */
  dataConverter?: DataConverter;
  /** A codec server for the Web UI of a new dev server to decode payloads with (`--ui-codec-endpoint`). */
  uiCodecEndpoint?: string;
  /** Progress lines. Default: silent. */
  log?: LogLine;
}

export interface TestServer {
  /** `host:port` of the frontend. */
  address: string;
  namespace: string;
  /** The Web UI of a dev server started with `ui: true`. */
  uiUrl: string | undefined;
  /** The `temporal` binary a new dev server runs, when one was started. */
  cliPath: string | undefined;
  /** The environment itself, for everything else `@temporalio/testing` offers. */
  env: TestWorkflowEnvironment;
  client: Client;
  /** For workers. */
  nativeConnection: NativeConnection;
  /** Closes the connections and stops a server this call started. */
  teardown(): Promise<void>;
}

/** Starts (or connects to) a Temporal server for tests; see {@link TestServerOptions}. */
export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  installTestRuntime();
  const config = await loadConfig({ configFile: false });
  const namespace = options.namespace ?? config.namespace;
  const log = options.log ?? (() => undefined);
  const address = options.address === false ? undefined : (options.address ?? config.address);
  const dataConverter = options.dataConverter ?? config.dataConverter;
  const client = dataConverter ? { client: { dataConverter } } : {};
  if (address !== undefined) {
    const env = await TestWorkflowEnvironment.createFromExistingServer({
      ...config.connectionOptions,
      address,
      namespace,
      ...client,
    });
    await ensureSearchAttributes(env.connection, namespace, log);
    return wrap(env, address, namespace, undefined, undefined);
  }
  const cliPath = options.cliPath ?? (await findOrInstallTemporalCli({ projectRoot: config.projectRoot, log })).path;
  // A port picked free can be taken before the server binds it (another process on the machine): pick again.
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const uiPort = options.ui ? await freePort() : undefined;
    try {
      const env = await TestWorkflowEnvironment.createLocal({
        server: {
          executable: { type: 'existing-path', path: cliPath },
          ip: '127.0.0.1',
          port,
          namespace,
          ...(uiPort !== undefined ? { ui: true, uiPort } : { ui: false }),
          searchAttributes: [...JIPPER_SEARCH_ATTRIBUTES],
          log: { format: 'pretty', level: 'warn' },
          extraArgs: [
            ...(uiPort !== undefined ? ['--ui-disable-news-fetch'] : []),
            ...(uiPort !== undefined && options.uiCodecEndpoint
              ? ['--ui-codec-endpoint', options.uiCodecEndpoint]
              : []),
            ...Object.entries({ ...JIPPER_DYNAMIC_CONFIG, ...options.dynamicConfig }).flatMap(([key, value]) => [
              '--dynamic-config-value',
              `${key}=${JSON.stringify(value)}`,
            ]),
          ],
        },
        ...client,
      });
      const uiUrl = uiPort !== undefined ? `http://127.0.0.1:${uiPort}` : undefined;
      return wrap(env, `127.0.0.1:${port}`, namespace, uiUrl, cliPath);
    } catch (err) {
      if (attempt === 3 || !/address already in use|bind/i.test(String(err))) throw err;
      log(`a port was taken before the server could bind it; trying other ports (${String(err).slice(0, 200)})`);
    }
  }
}

function wrap(
  env: TestWorkflowEnvironment,
  address: string,
  namespace: string,
  uiUrl: string | undefined,
  cliPath: string | undefined
): TestServer {
  return {
    address,
    namespace,
    uiUrl,
    cliPath,
    env,
    client: env.client,
    nativeConnection: env.nativeConnection,
    teardown: () => env.teardown(),
  };
}
