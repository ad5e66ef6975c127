/**
 * Jipper's configuration, read from the environment once, where it enters, and checked with zod.
 *
 * The connection settings are Temporal's standard ones, loaded by `@temporalio/envconfig` exactly as the `temporal`
 * CLI and the other SDKs read them: `TEMPORAL_ADDRESS`, `TEMPORAL_NAMESPACE`, `TEMPORAL_API_KEY`, `TEMPORAL_TLS`,
 * `TEMPORAL_TLS_CLIENT_CERT_PATH` / `_KEY_PATH` / `TEMPORAL_TLS_SERVER_CA_CERT_PATH` (and their `_DATA` forms),
 * `TEMPORAL_TLS_SERVER_NAME`, `TEMPORAL_GRPC_META_*`, and a profile (`TEMPORAL_PROFILE`) of the TOML config file
 * (`TEMPORAL_CONFIG_FILE`, default `~/.config/temporalio/temporal.toml`). Environment variables win over the file.
 * Jipper adds `JIPPER_TASK_QUEUE` (default `jipper`), and the key ring payloads are encrypted with
 * (`JIPPER_ENCRYPTION_KEYS` or `JIPPER_ENCRYPTION_KEYS_FILE`, see `src/codec/keyring.ts`): with one, every client and
 * worker made from this configuration encrypts what it sends to Temporal.
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
import type { DataConverter } from '@temporalio/common';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import { z } from 'zod';
import { encryptingDataConverter } from '../codec/data-converter';
import type { KeyRing } from '../codec/keyring';
import { KeyRingError, loadKeyRing } from '../codec/keyring';
import { oneLine } from '../shared/text';
import { splitAddress } from './connect';
import { ConfigError } from './errors';

/** The task queue Jipper's workers poll unless `JIPPER_TASK_QUEUE` says otherwise. */
export const DEFAULT_TASK_QUEUE = 'jipper';

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
  /** The key ring payloads are encrypted with; `undefined`: no encryption configured. */
  keyRing: KeyRing | undefined;
  /**
   * What every client, worker and replayer made from this configuration encodes payloads with: the encrypting data
   * converter when there is a key ring, else `undefined` (Temporal's default).
   */
  dataConverter: DataConverter | undefined;
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
  let keyRing: KeyRing | undefined;
  try {
    keyRing = loadKeyRing(env);
  } catch (err) {
    if (err instanceof KeyRingError) throw new ConfigError(err.message, { cause: err });
    throw err;
  }
  return {
    address,
    addressSource,
    namespace: loaded.namespace ?? 'default',
    taskQueue: parsed.data.JIPPER_TASK_QUEUE,
    connectionOptions: { address, tls, apiKey, metadata },
    keyRing,
    dataConverter: keyRing ? encryptingDataConverter(keyRing) : undefined,
  };
}
