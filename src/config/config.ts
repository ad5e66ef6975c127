/**
 * Jipper's configuration: what the worker, the client and the `jipper` command all read, from one place, checked with
 * zod where each source enters. Every setting comes from the first of these that has it:
 *
 * 1. flags (`--address`, `--namespace`, `--task-queue`, `--libraries`, `--tls`..., as the `temporal` CLI has them);
 * 2. environment variables: Temporal's standard ones, read as `@temporalio/envconfig` and the `temporal` CLI read them
 *    (`TEMPORAL_ADDRESS`, `TEMPORAL_NAMESPACE`, `TEMPORAL_API_KEY`, `TEMPORAL_TLS`, `TEMPORAL_TLS_CLIENT_CERT_PATH` /
 *    `_KEY_PATH` / `TEMPORAL_TLS_SERVER_CA_CERT_PATH` and their `_DATA` forms, `TEMPORAL_TLS_SERVER_NAME`,
 *    `TEMPORAL_GRPC_META_*`), and Jipper's (`JIPPER_TASK_QUEUE`, `JIPPER_LIBRARIES`, `JIPPER_WEB_UI_URL`,
 *    `JIPPER_CONFIG`);
 * 3. the project's config file, `jipper.config.ts` or `.json` (see `file.ts`), found from the working directory up;
 * 4. a profile of Temporal's TOML config file (`TEMPORAL_PROFILE`, `TEMPORAL_CONFIG_FILE`, default
 *    `~/.config/temporalio/temporal.toml`);
 * 5. defaults: namespace `default`, task queue `jipper`, no address (the embedded dev server on 127.0.0.1:7233), the
 *    example volume library.
 *
 * With a key ring (`JIPPER_ENCRYPTION_KEYS` or `JIPPER_ENCRYPTION_KEYS_FILE`, see `src/codec/keyring.ts`), every client
 * and worker made from this configuration encrypts what it sends to Temporal.
 *
 * {@link JipperConfig.sources} says where each setting came from (`jipper config` prints it).
 *
 * ```ts
 * const config = await loadConfig();
 * const { address } = await ensureServer(config, console.log);
 * const client = await connectClient({ ...config, address });
 * ```
 */
import { existsSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import type { ConnectionOptions } from '@temporalio/client';
import type { ClientConfigProfile, ClientConfigTLS } from '@temporalio/envconfig';
import { loadClientConfigProfile, toClientOptions } from '@temporalio/envconfig';
import type { DataConverter } from '@temporalio/common';
import { z } from 'zod';
import { encryptingDataConverter } from '../codec/data-converter';
import type { KeyRing } from '../codec/keyring';
import { KeyRingError, openKeyRing } from '../codec/keyring';
import type { HookSet } from '../shared/hooks';
import { oneLine } from '../shared/text';
import { ConfigError } from './errors';
import type { JipperConfigFile } from './file';
import { findConfigFile, readConfigFile } from './file';
import { projectRootFor } from './project';
import { DEFAULT_TASK_QUEUE, addressSchema, taskQueueSchema } from './schemas';

export { DEFAULT_TASK_QUEUE };

/** The settings both kinds of connection share: TLS, API key and gRPC metadata (and the address, when configured). */
export type ConnectionSettings = Pick<ConnectionOptions, 'address' | 'tls' | 'metadata'> & { apiKey?: string };

/** A job library module to load, and the directory a relative path in it is relative to. */
export interface LibrarySpec {
  /** As written: `./src/jobs.ts`, `src/jobs`, `@team/jobs`. */
  specifier: string;
  /** Relative paths resolve from here: the config file's directory, or the working directory for env and flags. */
  baseDir: string;
}

/** The settings {@link JipperConfig.sources} accounts for. */
export const SETTING_NAMES = [
  'configFile',
  'projectRoot',
  'address',
  'namespace',
  'taskQueue',
  'libraries',
  'tls',
  'apiKey',
  'webUi',
  'identity',
  'encryptionRequired',
] as const;
export type SettingName = (typeof SETTING_NAMES)[number];

export interface JipperConfig {
  /** The Temporal frontend, `host:port`. `undefined`: nothing configured, use the embedded dev server. */
  address: string | undefined;
  /** Where the address came from, for messages: `--address`, `TEMPORAL_ADDRESS`, `jipper.config.ts`, ... */
  addressSource: string | undefined;
  /** Temporal namespace. Default `default`. */
  namespace: string;
  /** Task queue of Jipper's workers. Default {@link DEFAULT_TASK_QUEUE}. */
  taskQueue: string;
  /** TLS, API key and metadata for every connection; pass through the connect helpers, which set the address. */
  connectionOptions: ConnectionSettings;
  /** The job library modules the worker runs and clients plan with; `undefined`: the example volume library. */
  libraries: LibrarySpec[] | undefined;
  /** Web UI base URL for links, when configured (else links come from the server in use). */
  webUi: string | undefined;
  /** Who decides approvals made from here (`jipper approve`), when `--as` is not given; `undefined`: the OS user. */
  identity: string | undefined;
  /** The process libraries (the config file's `processes`), absolute directories; `process: <name>` resolves there. */
  processLibraries?: string[];
  /** The config file's default outcome hooks (`hooks`), which workers give every process. */
  hooks?: HookSet;
  /**
   * Where the project keeps its local state (`.jipper/`) and resolves packages from: the config file's directory,
   * else the nearest directory with a `package.json`, else the working directory.
   */
  projectRoot: string;
  /** The config file that was read, if any. */
  configFile: string | undefined;
  /** Where each setting came from: a flag (`--address`), a variable, the config file's name, or `default`. */
  sources: Record<SettingName, string>;
  /** The key ring payloads are encrypted with; `undefined`: no encryption configured. */
  keyRing: KeyRing | undefined;
  /**
   * Whether the namespace's payloads must be encrypted (`encryption.required` in the config file,
   * `JIPPER_ENCRYPTION_REQUIRED`): a worker refuses processes that arrive unencrypted, and a client without a key ring
   * refuses to start. Default: on when there is a key ring.
   */
  encryptionRequired: boolean;
  /**
   * What every client, worker and replayer made from this configuration encodes payloads with: the encrypting data
   * converter when there is a key ring, else `undefined` (Temporal's default).
   */
  dataConverter: DataConverter | undefined;
}

/** Settings given as command-line flags (all optional; see the `jipper` command's global options). */
export interface ConfigFlags {
  config?: string;
  address?: string;
  namespace?: string;
  taskQueue?: string;
  /** Comma-separated module paths or package names. */
  libraries?: string;
  apiKey?: string;
  tls?: boolean;
  tlsCertPath?: string;
  tlsKeyPath?: string;
  tlsCaPath?: string;
  tlsServerName?: string;
  profile?: string;
  webUi?: string;
}

export interface LoadConfigOptions {
  /** Default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** Where to look for the config file from, and what relative paths in env and flags are relative to. */
  cwd?: string;
  flags?: ConfigFlags;
  /** `false`: read no config file (only env and flags). Default: look for one. */
  configFile?: false;
}

const nonEmpty = z.string().trim().min(1, 'must not be empty');
const filePath = (baseDir: string) => nonEmpty.refine((path) => existsSync(resolve(baseDir, path)), 'no such file');
const urlSchema = z.url({ message: 'must be a URL such as http://127.0.0.1:8233' });
const listSchema = z
  .string()
  .transform((list) =>
    list
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item !== '')
  )
  .refine((list) => list.length > 0, 'name at least one module');

const envSchema = (cwd: string) =>
  z
    .object({
      JIPPER_CONFIG: filePath(cwd).optional(),
      JIPPER_TASK_QUEUE: taskQueueSchema.optional(),
      JIPPER_LIBRARIES: listSchema.optional(),
      JIPPER_WEB_UI_URL: urlSchema.optional(),
      JIPPER_IDENTITY: nonEmpty.optional(),
      JIPPER_ENCRYPTION_REQUIRED: z
        .enum(['true', 'false', '1', '0'], { error: 'must be true, false, 1 or 0' })
        .transform((value) => value === 'true' || value === '1')
        .optional(),
      TEMPORAL_ADDRESS: addressSchema.optional(),
      TEMPORAL_NAMESPACE: nonEmpty.optional(),
      TEMPORAL_API_KEY: nonEmpty.optional(),
      TEMPORAL_PROFILE: nonEmpty.optional(),
      TEMPORAL_CONFIG_FILE: filePath(cwd).optional(),
      TEMPORAL_TLS: z.enum(['true', 'false', '1', '0'], { error: 'must be true, false, 1 or 0' }).optional(),
      TEMPORAL_TLS_CLIENT_CERT_PATH: filePath(cwd).optional(),
      TEMPORAL_TLS_CLIENT_KEY_PATH: filePath(cwd).optional(),
      TEMPORAL_TLS_SERVER_CA_CERT_PATH: filePath(cwd).optional(),
    })
    .superRefine((env, ctx) => {
      const cert = env.TEMPORAL_TLS_CLIENT_CERT_PATH !== undefined;
      const key = env.TEMPORAL_TLS_CLIENT_KEY_PATH !== undefined;
      if (cert !== key) {
        const missing = cert ? 'TEMPORAL_TLS_CLIENT_KEY_PATH' : 'TEMPORAL_TLS_CLIENT_CERT_PATH';
        ctx.addIssue({ code: 'custom', path: [missing], message: 'must be set together with the client cert/key' });
      }
    });

const flagsSchema = (cwd: string) =>
  z.object({
    config: filePath(cwd).optional(),
    address: addressSchema.optional(),
    namespace: nonEmpty.optional(),
    taskQueue: taskQueueSchema.optional(),
    libraries: listSchema.optional(),
    apiKey: nonEmpty.optional(),
    tls: z.boolean().optional(),
    tlsCertPath: filePath(cwd).optional(),
    tlsKeyPath: filePath(cwd).optional(),
    tlsCaPath: filePath(cwd).optional(),
    tlsServerName: nonEmpty.optional(),
    profile: nonEmpty.optional(),
    webUi: urlSchema.optional(),
  });

/** `taskQueue` → `--task-queue`. */
function flagName(key: PropertyKey): string {
  return `--${String(key).replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

function issues(error: z.ZodError, name: (key: PropertyKey) => string): string {
  return error.issues.map((issue) => `${issue.path.map(name).join('.')}: ${issue.message}`).join('; ');
}

/**
 * Reads and checks the configuration from flags, environment, config file and Temporal profile (in that order of
 * precedence). Variables set to the empty string count as set (and are rejected where a value is required), so a typo
 * like `JIPPER_TASK_QUEUE=` is an error rather than a silent default.
 *
 * @throws ConfigError on one line: every invalid setting of a source, with the source (flag, variable, file).
 */
export async function loadConfig(options: LoadConfigOptions = {}): Promise<JipperConfig> {
  const env = options.env ?? process.env;
  const cwd = resolve(options.cwd ?? process.cwd());
  const flagsParsed = flagsSchema(cwd).safeParse(options.flags ?? {});
  if (!flagsParsed.success) throw new ConfigError(`invalid option: ${issues(flagsParsed.error, flagName)}`);
  const envParsed = envSchema(cwd).safeParse(env);
  if (!envParsed.success) throw new ConfigError(`invalid configuration: ${issues(envParsed.error, String)}`);
  const flags = flagsParsed.data;
  const vars = envParsed.data;

  const {
    configFile,
    file,
    fileName,
    fileDir,
    source: configFileSource,
  } = await configFileOf(options, flags, vars, cwd);

  const { profile, fromEnv } = temporalProfiles(env, flags.profile);
  const profileName = `config profile "${flags.profile ?? vars.TEMPORAL_PROFILE ?? 'default'}"`;
  if (profile.address !== undefined && !addressSchema.safeParse(profile.address).success) {
    throw new ConfigError(`invalid configuration: address in ${profileName}: must be host:port`);
  }

  const { sources, pick } = sourcePicker();

  sources.configFile = configFileSource;
  const projectRoot = projectRootFor(cwd, configFile);
  sources.projectRoot = projectRootSource(cwd, configFile, projectRoot);

  const layers: ServerLayers = { flags, fromEnv, file, fileName, profile, profileName };
  const { address, namespace, apiKey } = pickServer(pick, layers);
  const taskQueue =
    pick<string>(
      'taskQueue',
      [flags.taskQueue, '--task-queue'],
      [vars.JIPPER_TASK_QUEUE, 'JIPPER_TASK_QUEUE'],
      [file.taskQueue, fileName]
    ) ?? DEFAULT_TASK_QUEUE;
  const libraries = pick<LibrarySpec[]>(
    'libraries',
    [flags.libraries?.map((specifier) => ({ specifier, baseDir: cwd })), '--libraries'],
    [vars.JIPPER_LIBRARIES?.map((specifier) => ({ specifier, baseDir: cwd })), 'JIPPER_LIBRARIES'],
    [file.libraries?.map((specifier) => ({ specifier, baseDir: fileDir })), fileName]
  );
  const webUi = pick<string>(
    'webUi',
    [flags.webUi, '--web-ui'],
    [vars.JIPPER_WEB_UI_URL, 'JIPPER_WEB_UI_URL'],
    [file.webUi, fileName]
  )?.replace(/\/+$/, '');
  const identity = pick<string>('identity', [vars.JIPPER_IDENTITY, 'JIPPER_IDENTITY'], [file.identity, fileName]);
  const flagTls = tlsFromFlags(flags, cwd);
  const fileTls = tlsFromFile(file.tls, fileDir);
  const tls = pick<ClientConfigTLS>(
    'tls',
    [flagTls, '--tls'],
    [fromEnv.tls, 'TEMPORAL_TLS*'],
    [fileTls, fileName],
    [profile.tls, profileName]
  );
  const merged = mergedProfile({ address, namespace, apiKey }, tls !== undefined, { ...layers, fileTls, flagTls });
  const connection = connectionOptionsOf(merged, sources.tls);
  if (apiKey !== undefined && tls === undefined) sources.tls = `on with the API key (${sources.apiKey})`;

  const keyRing = await keyRingOf(env);
  const encryptionRequired = pick<boolean>(
    'encryptionRequired',
    [vars.JIPPER_ENCRYPTION_REQUIRED, 'JIPPER_ENCRYPTION_REQUIRED'],
    [file.encryption?.required, fileName]
  );
  if (encryptionRequired === undefined)
    sources.encryptionRequired = keyRing ? 'default (a key ring is set)' : 'default';
  return {
    address,
    addressSource: address === undefined ? undefined : sources.address,
    namespace,
    taskQueue,
    connectionOptions: {
      address,
      tls: connection.tls,
      apiKey: connection.apiKey,
      metadata: connection.metadata,
    },
    libraries,
    webUi,
    identity,
    ...(file.processes ? { processLibraries: file.processes.map((dir) => resolve(fileDir, dir)) } : {}),
    ...(file.hooks ? { hooks: withoutOptOut(file.hooks) } : {}),
    projectRoot,
    configFile,
    sources,
    keyRing,
    encryptionRequired: encryptionRequired ?? keyRing !== undefined,
    dataConverter: keyRing ? encryptingDataConverter(keyRing, { namespace }) : undefined,
  };
}

/** A worker's default hooks: the hooks by outcome (`defaults: false` means nothing there). */
function withoutOptOut(hooks: NonNullable<JipperConfigFile['hooks']>): HookSet {
  const { defaults: _defaults, ...byOutcome } = hooks;
  return byOutcome;
}

/** A `pick` that returns the first defined value of a setting and records in `sources` where it came from. */
function sourcePicker(): {
  sources: Record<SettingName, string>;
  pick: <T>(name: SettingName, ...candidates: [T | undefined, string][]) => T | undefined;
} {
  const sources = {} as Record<SettingName, string>;
  const pick = <T>(name: SettingName, ...candidates: [T | undefined, string][]): T | undefined => {
    for (const [value, source] of candidates) {
      if (value !== undefined) {
        sources[name] = source;
        return value;
      }
    }
    sources[name] = 'default';
    return undefined;
  };
  return { sources, pick };
}

/** Where the project root comes from, in words. */
function projectRootSource(cwd: string, configFile: string | undefined, projectRoot: string): string {
  if (configFile !== undefined) return "the config file's directory";
  return projectRoot === cwd ? 'the working directory' : 'the nearest package.json';
}

/** Where the server settings come from, highest first: flags, environment, config file, Temporal profile. */
interface ServerLayers {
  flags: Pick<ConfigFlags, 'address' | 'namespace' | 'apiKey'>;
  fromEnv: ClientConfigProfile;
  file: JipperConfigFile;
  fileName: string;
  profile: ClientConfigProfile;
  profileName: string;
}

/** The address, namespace (default `default`) and API key, each from the highest layer that sets it. */
function pickServer(
  pick: ReturnType<typeof sourcePicker>['pick'],
  { flags, fromEnv, file, fileName, profile, profileName }: ServerLayers
): { address: string | undefined; namespace: string; apiKey: string | undefined } {
  const address = pick<string>(
    'address',
    [flags.address, '--address'],
    [fromEnv.address, 'TEMPORAL_ADDRESS'],
    [file.address, fileName],
    [profile.address, profileName]
  );
  const namespace =
    pick<string>(
      'namespace',
      [flags.namespace, '--namespace'],
      [fromEnv.namespace, 'TEMPORAL_NAMESPACE'],
      [file.namespace, fileName],
      [profile.namespace, profileName]
    ) ?? 'default';
  const apiKey = pick<string>(
    'apiKey',
    [flags.apiKey, '--api-key'],
    [fromEnv.apiKey, 'TEMPORAL_API_KEY'],
    [file.apiKey, fileName],
    [profile.apiKey, profileName]
  );

  return { address, namespace, apiKey };
}

/**
 * The client profile the connection is made from. With TLS on, its settings merge field by field, the higher source
 * winning (a flag's server name over a profile's certs); gRPC metadata merges the profile's and the environment's.
 */
function mergedProfile(
  server: { address: string | undefined; namespace: string; apiKey: string | undefined },
  tlsOn: boolean,
  layers: ServerLayers & { fileTls: ClientConfigTLS | undefined; flagTls: ClientConfigTLS | undefined }
): ClientConfigProfile {
  const { address, namespace, apiKey } = server;
  const { profile, fromEnv, fileTls, flagTls } = layers;
  const mergedTls = tlsOn ? { ...profile.tls, ...fileTls, ...fromEnv.tls, ...flagTls } : undefined;
  return {
    ...(address !== undefined ? { address } : {}),
    namespace,
    ...(apiKey !== undefined ? { apiKey } : {}),
    ...(mergedTls !== undefined ? { tls: mergedTls } : {}),
    ...(profile.grpcMeta || fromEnv.grpcMeta ? { grpcMeta: { ...profile.grpcMeta, ...fromEnv.grpcMeta } } : {}),
  };
}

/** Temporal's client configuration: the profile (its file, with `profile` chosen), and what the environment sets. */
function temporalProfiles(
  env: NodeJS.ProcessEnv,
  profileName: string | undefined
): { profile: ClientConfigProfile; fromEnv: ClientConfigProfile } {
  const stringEnv = Object.fromEntries(
    Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined)
  );
  try {
    const profile = loadClientConfigProfile({
      disableEnv: true,
      overrideEnvVars: stringEnv,
      ...(profileName !== undefined ? { profile: profileName } : {}),
    });
    const fromEnv = loadClientConfigProfile({ disableFile: true, overrideEnvVars: stringEnv });
    return { profile, fromEnv };
  } catch (err) {
    throw new ConfigError(`invalid Temporal client configuration: ${oneLine(err)}`, { cause: err });
  }
}

/** The config file in use (named by `--config` / `JIPPER_CONFIG`, else found from `cwd` up), read, and where it came from. */
async function configFileOf(
  options: LoadConfigOptions,
  flags: { config?: string | undefined },
  vars: { JIPPER_CONFIG?: string | undefined },
  cwd: string
): Promise<{
  configFile: string | undefined;
  file: JipperConfigFile;
  fileName: string;
  fileDir: string;
  source: string;
}> {
  const named = flags.config ?? vars.JIPPER_CONFIG;
  const configFile =
    options.configFile === false ? undefined : named !== undefined ? resolve(cwd, named) : findConfigFile(cwd);
  const file: JipperConfigFile = configFile === undefined ? {} : await readConfigFile(configFile);
  const source =
    configFile === undefined
      ? 'none found'
      : named !== undefined
        ? flags.config
          ? '--config'
          : 'JIPPER_CONFIG'
        : 'found from the working directory';
  return {
    configFile,
    file,
    fileName: configFile === undefined ? 'config file' : basename(configFile),
    fileDir: configFile === undefined ? cwd : dirname(configFile),
    source,
  };
}

/** The SDK's connection options for the merged profile; a TLS setting it refuses is a ConfigError naming its source. */
function connectionOptionsOf(
  merged: ClientConfigProfile,
  tlsSource: string
): ReturnType<typeof toClientOptions>['connectionOptions'] {
  try {
    return toClientOptions(merged).connectionOptions;
  } catch (err) {
    throw new ConfigError(`invalid TLS configuration (${tlsSource}): ${oneLine(err)}`, { cause: err });
  }
}

/** The key ring the environment names, if any (its keys unwrapped when a KEK wraps them); a bad one is a ConfigError. */
async function keyRingOf(env: NodeJS.ProcessEnv): Promise<KeyRing | undefined> {
  try {
    return await openKeyRing(env);
  } catch (err) {
    if (err instanceof KeyRingError) throw new ConfigError(err.message, { cause: err });
    throw err;
  }
}

function tlsFromFlags(
  flags: Pick<ConfigFlags, 'tls' | 'tlsCertPath' | 'tlsKeyPath' | 'tlsCaPath' | 'tlsServerName'>,
  cwd: string
): ClientConfigTLS | undefined {
  const tls: ClientConfigTLS = {
    ...(flags.tls !== undefined ? { disabled: !flags.tls } : {}),
    ...(flags.tlsCertPath !== undefined ? { clientCert: { path: resolve(cwd, flags.tlsCertPath) } } : {}),
    ...(flags.tlsKeyPath !== undefined ? { clientKey: { path: resolve(cwd, flags.tlsKeyPath) } } : {}),
    ...(flags.tlsCaPath !== undefined ? { serverCACert: { path: resolve(cwd, flags.tlsCaPath) } } : {}),
    ...(flags.tlsServerName !== undefined ? { serverName: flags.tlsServerName } : {}),
  };
  return Object.keys(tls).length ? tls : undefined;
}

function tlsFromFile(tls: JipperConfigFile['tls'], baseDir: string): ClientConfigTLS | undefined {
  if (tls === undefined) return undefined;
  if (typeof tls === 'boolean') return { disabled: !tls };
  const file = (path: string | undefined) => (path === undefined ? undefined : { path: resolve(baseDir, path) });
  const cert = file(tls.clientCertPath);
  const key = file(tls.clientKeyPath);
  const ca = file(tls.serverCaCertPath);
  return {
    disabled: false,
    ...(cert ? { clientCert: cert } : {}),
    ...(key ? { clientKey: key } : {}),
    ...(ca ? { serverCACert: ca } : {}),
    ...(tls.serverName !== undefined ? { serverName: tls.serverName } : {}),
  };
}
