/**
 * Jipper's configuration, read from the environment once, where it enters, and checked with zod.
 *
 * The connection settings are Temporal's standard ones, loaded by `@temporalio/envconfig` exactly as the `temporal`
 * CLI and the other SDKs read them: `TEMPORAL_ADDRESS`, `TEMPORAL_NAMESPACE`, `TEMPORAL_API_KEY`, `TEMPORAL_TLS`,
 * `TEMPORAL_TLS_CLIENT_CERT_PATH` / `_KEY_PATH` / `TEMPORAL_TLS_SERVER_CA_CERT_PATH` (and their `_DATA` forms),
 * `TEMPORAL_TLS_SERVER_NAME`, `TEMPORAL_GRPC_META_*`, and a profile (`TEMPORAL_PROFILE`) of the TOML config file
 * (`TEMPORAL_CONFIG_FILE`, default `~/.config/temporalio/temporal.toml`). Environment variables win over the file.
 * Jipper adds `JIPPER_TASK_QUEUE` (default `jipper`).
 *
 * With no address configured anywhere, Jipper runs against its embedded dev server ({@link ensureServer}).
 *
 * ```ts
 * const config = loadConfig();
 * const address = await ensureServer(config, console.log);
 * const client = await connectClient({ ...config, address });
 * ```
 */
import { existsSync } from 'node:fs';
import type { ConnectionOptions } from '@temporalio/client';
import { Client } from '@temporalio/client';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import { NativeConnection } from '@temporalio/worker';
import { z } from 'zod';
import {
  connectChecked,
  DEFAULT_DEV_SERVER_PORT,
  defaultDbFilename,
  probeTemporal,
  splitAddress,
  startDevServer,
} from './dev-server';
import type { LogLine } from './temporal-cli';
import { findOrInstallTemporalCli, oneLine } from './temporal-cli';

/** The task queue Jipper's workers poll unless `JIPPER_TASK_QUEUE` says otherwise. */
export const DEFAULT_TASK_QUEUE = 'jipper';

/** How long a connect helper waits for a server to answer before {@link TemporalUnreachableError}. Default 5 s. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;

/** The settings both kinds of connection share: TLS, API key and gRPC metadata (and the address, when configured). */
export type ConnectionSettings = Pick<ConnectionOptions, 'address' | 'tls' | 'metadata'> & { apiKey?: string };

export interface JipperConfig {
  /** The Temporal frontend, `host:port`. `undefined`: nothing configured, use the embedded dev server. */
  address: string | undefined;
  /** Where the address came from, for messages: `TEMPORAL_ADDRESS`, `config profile "<name>"`, `embedded dev server`. */
  addressSource: string | undefined;
  /** Temporal namespace. Default `default`. */
  namespace: string;
  /** Task queue of Jipper's workers. Default {@link DEFAULT_TASK_QUEUE}. */
  taskQueue: string;
  /** TLS, API key and metadata for every connection; pass through the connect helpers, which set the address. */
  connectionOptions: ConnectionSettings;
}

/** The environment (or the Temporal config file) holds invalid settings; the message lists each of them. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** No Temporal server answered at the configured address in time. The message is one line with what to do. */
export class TemporalUnreachableError extends Error {
  override readonly name = 'TemporalUnreachableError';
  constructor(
    readonly address: string,
    readonly addressSource: string | undefined,
    readonly reason: string,
    options?: { cause?: unknown }
  ) {
    const from = addressSource === undefined ? '' : ` (${addressSource})`;
    const hint =
      addressSource === 'TEMPORAL_ADDRESS'
        ? 'start one with `jipper dev` or unset TEMPORAL_ADDRESS'
        : 'start one with `jipper dev` or change the configured address';
    super(`no Temporal server answers at ${address}${from}: ${reason}; ${hint}`, options);
  }
}

const nonEmpty = z.string().trim().min(1, 'must not be empty');
const filePath = nonEmpty.refine((path) => existsSync(path), 'no such file');
const addressSchema = nonEmpty.refine((address) => {
  try {
    const { port } = splitAddress(address);
    return Number.isInteger(port) && port > 0 && port < 65536;
  } catch {
    return false;
  }
}, 'must be host:port, e.g. 127.0.0.1:7233');

const envSchema = z
  .object({
    JIPPER_TASK_QUEUE: nonEmpty.regex(/^[^\s]+$/, 'must not contain spaces').default(DEFAULT_TASK_QUEUE),
    TEMPORAL_ADDRESS: addressSchema.optional(),
    TEMPORAL_NAMESPACE: nonEmpty.optional(),
    TEMPORAL_API_KEY: nonEmpty.optional(),
    TEMPORAL_PROFILE: nonEmpty.optional(),
    TEMPORAL_CONFIG_FILE: filePath.optional(),
    TEMPORAL_TLS: z.enum(['true', 'false', '1', '0'], { error: 'must be true, false, 1 or 0' }).optional(),
    TEMPORAL_TLS_CLIENT_CERT_PATH: filePath.optional(),
    TEMPORAL_TLS_CLIENT_KEY_PATH: filePath.optional(),
    TEMPORAL_TLS_SERVER_CA_CERT_PATH: filePath.optional(),
  })
  .superRefine((env, ctx) => {
    const cert = env.TEMPORAL_TLS_CLIENT_CERT_PATH !== undefined;
    const key = env.TEMPORAL_TLS_CLIENT_KEY_PATH !== undefined;
    if (cert !== key) {
      const missing = cert ? 'TEMPORAL_TLS_CLIENT_KEY_PATH' : 'TEMPORAL_TLS_CLIENT_CERT_PATH';
      ctx.addIssue({ code: 'custom', path: [missing], message: 'must be set together with the client cert/key' });
    }
  });

/**
 * Reads and checks the configuration. Variables set to the empty string count as set (and are rejected where a value
 * is required), so a typo like `JIPPER_TASK_QUEUE=` is an error rather than a silent default.
 *
 * @throws ConfigError listing every invalid setting, on one line.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): JipperConfig {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`invalid configuration: ${problems.join('; ')}`);
  }
  const stringEnv = Object.fromEntries(
    Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined)
  );
  let loaded: ReturnType<typeof loadClientConnectConfig>;
  try {
    loaded = loadClientConnectConfig({ overrideEnvVars: stringEnv });
  } catch (err) {
    throw new ConfigError(`invalid Temporal client configuration: ${oneLine(err)}`, { cause: err });
  }
  const { address, tls, apiKey, metadata } = loaded.connectionOptions;
  const addressSource =
    address === undefined
      ? undefined
      : parsed.data.TEMPORAL_ADDRESS !== undefined
        ? 'TEMPORAL_ADDRESS'
        : `config profile "${parsed.data.TEMPORAL_PROFILE ?? 'default'}"`;
  if (address !== undefined && addressSource !== 'TEMPORAL_ADDRESS' && !addressSchema.safeParse(address).success) {
    throw new ConfigError(`invalid configuration: address in ${addressSource}: must be host:port`);
  }
  return {
    address,
    addressSource,
    namespace: loaded.namespace ?? 'default',
    taskQueue: parsed.data.JIPPER_TASK_QUEUE,
    connectionOptions: { address, tls, apiKey, metadata },
  };
}

export interface ConnectOptions {
  /** How long to wait for the server. Default {@link DEFAULT_CONNECT_TIMEOUT_MS}. */
  connectTimeoutMs?: number;
}

/**
 * A client for the configured server and namespace, once the server has answered.
 *
 * @throws TemporalUnreachableError when nothing answers within the timeout.
 * @throws ConfigError when no address is configured (start the embedded server with {@link ensureServer} first).
 */
export async function connectClient(config: JipperConfig, options: ConnectOptions = {}): Promise<Client> {
  const address = requireAddress(config);
  const timeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  try {
    const connection = await connectChecked({ ...config.connectionOptions, address }, timeoutMs);
    return new Client({ connection, namespace: config.namespace });
  } catch (err) {
    throw new TemporalUnreachableError(address, config.addressSource, oneLine(err), { cause: err });
  }
}

/**
 * A native connection (for workers, and for clients that share it) to the configured server, once it has answered.
 * The server is probed first with the timeout, since a native connect to something that is not Temporal waits 30 s.
 *
 * @throws TemporalUnreachableError when nothing answers within the timeout.
 * @throws ConfigError when no address is configured.
 */
export async function connectNative(config: JipperConfig, options: ConnectOptions = {}): Promise<NativeConnection> {
  const address = requireAddress(config);
  await checkReachable(config, address, options.connectTimeoutMs);
  try {
    return await NativeConnection.connect({ ...config.connectionOptions, address });
  } catch (err) {
    throw new TemporalUnreachableError(address, config.addressSource, oneLine(err), { cause: err });
  }
}

export interface EnsureServerOptions extends ConnectOptions {
  /** Keep an embedded server that this call starts running after the process exits. Default `true`. */
  detached?: boolean;
}

/**
 * The address of a Temporal server to use. With an address configured, that one, once it answers. Otherwise the
 * embedded dev server on 127.0.0.1:7233 (UI on :8233, state in `.jipper/dev-server.db`): the one already running, or
 * a new one, installing the Temporal CLI first if needed. A new server outlives this process unless `detached` is
 * `false`, so later commands reuse it; its pid is in `.jipper/dev-server-7233.pid`.
 *
 * @throws TemporalUnreachableError when the configured server does not answer.
 */
export async function ensureServer(
  config: JipperConfig,
  log: LogLine = () => undefined,
  options: EnsureServerOptions = {}
): Promise<string> {
  if (config.address !== undefined) {
    await checkReachable(config, config.address, options.connectTimeoutMs);
    return config.address;
  }
  const cli = await findOrInstallTemporalCli({ log });
  const server = await startDevServer({
    cliPath: cli.path,
    port: DEFAULT_DEV_SERVER_PORT,
    namespace: config.namespace,
    dbFilename: defaultDbFilename(),
    detached: options.detached ?? true,
    log,
  });
  return server.address;
}

async function checkReachable(config: JipperConfig, address: string, timeoutMs?: number): Promise<void> {
  const probe = await probeTemporal({ ...config.connectionOptions, address }, timeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS);
  if (probe.kind !== 'temporal') throw new TemporalUnreachableError(address, config.addressSource, probe.reason);
}

function requireAddress(config: JipperConfig): string {
  if (config.address !== undefined) return config.address;
  throw new ConfigError(
    'no Temporal server configured: set TEMPORAL_ADDRESS, or call ensureServer() and pass its address'
  );
}
