/**
 * Connecting to a Temporal server: a client or a native (worker) connection once the server has answered, and a
 * probe that tells a Temporal frontend from nothing listening or something else — all within a timeout, with a
 * one-line {@link TemporalUnreachableError} instead of the SDK's long retries.
 */
import { connect as tcpConnect } from 'node:net';
import type { ConnectionOptions } from '@temporalio/client';
import { Client, Connection } from '@temporalio/client';
import { normalizeTlsConfig } from '@temporalio/common/lib/internal-non-workflow';
import { NativeConnection } from '@temporalio/worker';
import { oneLine } from '../shared/text';
import { splitAddress } from './address';
import type { JipperConfig } from './config';
import {
  ConfigError,
  TemporalAccessError,
  TemporalTlsError,
  TemporalUnreachableError,
  credentialsRefused,
} from './errors';
import { checkTls, speaksTls } from './tls';

export { DEFAULT_TEMPORAL_PORT, isLoopbackHost, splitAddress } from './address';

/** How long a connect helper waits for a server to answer before {@link TemporalUnreachableError}. Default 5 s. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;

export interface ConnectOptions {
  /** How long to wait for the server. Default {@link DEFAULT_CONNECT_TIMEOUT_MS}. */
  connectTimeoutMs?: number;
}

/**
 * A client for the configured server and namespace, once the server has answered, encoding payloads with the
 * configured data converter (the encrypting one when a key ring is configured).
 *
 * @throws TemporalUnreachableError when nothing answers within the timeout.
 * @throws TemporalTlsError when the TLS handshake fails (a certificate refused, expired, or not trusted).
 * @throws TemporalAccessError when the server refuses the credentials (an API key) for the namespace.
 * @throws ConfigError when no address is configured (start the embedded server with {@link ensureServer} first), or
 *   the namespace does not exist.
 */
export async function connectClient(config: JipperConfig, options: ConnectOptions = {}): Promise<Client> {
  requireKeyRing(config, 'this client');
  const address = requireAddress(config);
  const timeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  let connection: Connection;
  try {
    connection = await connectChecked({ ...config.connectionOptions, address }, timeoutMs, config.addressSource);
  } catch (err) {
    if (err instanceof TemporalTlsError || err instanceof TemporalAccessError || err instanceof ConfigError) throw err;
    throw new TemporalUnreachableError(address, config.addressSource, oneLine(err), { cause: err });
  }
  try {
    await checkNamespaceAccess(connection, { ...config, address }, timeoutMs);
  } catch (err) {
    await connection.close();
    throw err;
  }
  return new Client({
    connection,
    namespace: config.namespace,
    ...(config.dataConverter ? { dataConverter: config.dataConverter } : {}),
  });
}

/**
 * Asks the server about the configured namespace: the first call that needs credentials (`GetSystemInfo`, which the
 * probe makes, needs none). A refusal is one line now, rather than a failure at the first real call — or, for a worker,
 * polls that keep failing.
 *
 * @throws TemporalAccessError when the server refuses the credentials (permission denied, unauthenticated).
 * @throws ConfigError when the namespace does not exist.
 */
export async function checkNamespaceAccess(
  connection: Pick<Connection, 'workflowService' | 'withDeadline'> | NativeConnection,
  config: Pick<JipperConfig, 'namespace' | 'addressSource'> & { address: string },
  timeoutMs = DEFAULT_CONNECT_TIMEOUT_MS
): Promise<void> {
  try {
    await connection.withDeadline(Date.now() + timeoutMs, () =>
      connection.workflowService.describeNamespace({ namespace: config.namespace })
    );
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    const refused = credentialsRefused(err);
    if (refused) {
      throw new TemporalAccessError(config.address, config.addressSource, config.namespace, refused.reason, {
        cause: err,
      });
    }
    if (code === GRPC_NOT_FOUND) {
      throw new ConfigError(
        `namespace "${config.namespace}" does not exist on the server at ${config.address}: create it, or set TEMPORAL_NAMESPACE`,
        { cause: err }
      );
    }
    throw new TemporalUnreachableError(config.address, config.addressSource, oneLine(err), { cause: err });
  }
}

const GRPC_NOT_FOUND = 5;

/**
 * A native connection (for workers, and for clients that share it) to the configured server, once it has answered.
 * The server is probed first with the timeout, since a native connect to something that is not Temporal waits 30 s.
 *
 * @throws TemporalUnreachableError when nothing answers within the timeout.
 * @throws TemporalTlsError when the TLS handshake fails.
 * @throws TemporalAccessError when the server refuses the credentials for the namespace.
 * @throws ConfigError when no address is configured, or the namespace does not exist.
 */
export async function connectNative(config: JipperConfig, options: ConnectOptions = {}): Promise<NativeConnection> {
  requireKeyRing(config, 'this worker');
  const address = requireAddress(config);
  await checkReachable(config, address, options.connectTimeoutMs);
  let connection: NativeConnection;
  try {
    connection = await NativeConnection.connect({ ...config.connectionOptions, address });
  } catch (err) {
    throw new TemporalUnreachableError(address, config.addressSource, oneLine(err), { cause: err });
  }
  try {
    await checkNamespaceAccess(connection, { ...config, address }, options.connectTimeoutMs);
  } catch (err) {
    await connection.close();
    throw err;
  }
  return connection;
}

export async function checkReachable(config: JipperConfig, address: string, timeoutMs?: number): Promise<void> {
  const probe = await probeTemporal(
    { ...config.connectionOptions, address },
    timeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    config.addressSource
  );
  if (probe.kind === 'tls') throw probe.error;
  if (probe.kind !== 'temporal') throw new TemporalUnreachableError(address, config.addressSource, probe.reason);
}

/** A namespace configured as encrypted is never written to (or read) without a key ring. */
function requireKeyRing(config: JipperConfig, who: string): void {
  if (!config.encryptionRequired || config.keyRing) return;
  throw new ConfigError(
    `encryption is required for namespace ${config.namespace} (${config.sources?.encryptionRequired ?? 'encryption.required'}) but ${who} has no key ring: set JIPPER_ENCRYPTION_KEYS_FILE`
  );
}

function requireAddress(config: JipperConfig): string {
  if (config.address !== undefined) return config.address;
  throw new ConfigError(
    'no Temporal server configured: set TEMPORAL_ADDRESS, or call ensureServer() and pass its address'
  );
}

/** What answers at an address: a Temporal frontend, nothing at all, a TLS handshake that failed, or something else. */
export type ProbeResult =
  | { kind: 'temporal' }
  | { kind: 'closed'; reason: string }
  | { kind: 'tls'; reason: string; error: TemporalTlsError | TemporalAccessError }
  | { kind: 'other'; reason: string };

/** The connection settings {@link probeTemporal} and {@link connectChecked} use; `address` is required. */
export type ProbeConnectionOptions = Pick<ConnectionOptions, 'tls' | 'apiKey' | 'metadata'> & { address: string };

/**
 * Tells whether a Temporal frontend answers at `options.address`: `closed` when no TCP connection can be made, `tls`
 * when the TLS handshake fails (or the server wants TLS and this client does not speak it), `other` when a connection
 * can be made but `GetSystemInfo` does not succeed within `timeoutMs` (default 3 s).
 */
export async function probeTemporal(
  options: ProbeConnectionOptions,
  timeoutMs = 3_000,
  addressSource?: string
): Promise<ProbeResult> {
  try {
    await (await connectChecked(options, timeoutMs, addressSource)).close();
    return { kind: 'temporal' };
  } catch (err) {
    if (err instanceof TemporalTlsError || err instanceof TemporalAccessError) {
      return { kind: 'tls', reason: err.message, error: err };
    }
    if (err instanceof ConfigError) throw err;
    return { kind: err instanceof NothingListeningError ? 'closed' : 'other', reason: oneLine(err) };
  }
}

/** No TCP connection could be made at all (refused, unresolvable, or no answer in time). */
class NothingListeningError extends Error {}

/**
 * Opens a client connection and checks the server answers `GetSystemInfo` (old servers' UNIMPLEMENTED included: the
 * SDK accepts that, and so would anything else that speaks gRPC), all within `timeoutMs`. A refused TCP connection
 * fails at once. With TLS configured, the handshake is made first on its own, so a refused, expired or untrusted
 * certificate is a one-line {@link TemporalTlsError} rather than a transport error after retries; without TLS, a
 * server that turns out to want it is one too. On failure the connection is closed, so nothing keeps retrying in the
 * background.
 */
export async function connectChecked(
  options: ProbeConnectionOptions,
  timeoutMs: number,
  addressSource?: string
): Promise<Connection> {
  const deadline = Date.now() + timeoutMs;
  const { host, port } = splitAddress(options.address);
  const tcp = await tcpOpen(host, port, timeoutMs);
  if (tcp !== true) throw new NothingListeningError(tcp === false ? 'connection refused' : tcp);
  const tls = normalizeTlsConfig(options.tls, options.apiKey);
  if (tls) await checkTls(tls, host, port, Math.max(deadline - Date.now(), 1), addressSource);
  const connection = Connection.lazy({ ...options, connectTimeout: Math.max(deadline - Date.now(), 1) });
  try {
    await connection.ensureConnected();
    await connection.withDeadline(deadline, () => connection.workflowService.getSystemInfo({}));
    return connection;
  } catch (err) {
    await connection.close();
    const refused = credentialsRefused(err);
    if (refused) {
      throw new TemporalAccessError(options.address, addressSource, undefined, refused.reason, { cause: err });
    }
    if (!tls && (await speaksTls(host, port, 2_000))) {
      throw new TemporalTlsError(
        options.address,
        addressSource,
        'the server speaks TLS and this client was not told to: set TEMPORAL_TLS=true, and for a private CA TEMPORAL_TLS_SERVER_CA_CERT_PATH (for mTLS also TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH)',
        { cause: err }
      );
    }
    throw err;
  }
}

/** `true` when a TCP connection opens, `false` when refused, else why not. */
export function tcpOpen(host: string, port: number, timeoutMs: number): Promise<true | false | string> {
  return new Promise((resolveOpen) => {
    const socket = tcpConnect({ host, port });
    const done = (result: true | false | string): void => {
      socket.destroy();
      resolveOpen(result);
    };
    socket.setTimeout(timeoutMs, () => done(`no answer within ${timeoutMs / 1000}s`));
    socket.once('connect', () => done(true));
    socket.once('error', (err: NodeJS.ErrnoException) => done(err.code === 'ECONNREFUSED' ? false : oneLine(err)));
  });
}
