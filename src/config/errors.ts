/** The errors of configuration and connection: each message is one line that says what is wrong and what to do. */
import { isLoopbackHost, splitAddress } from './address';

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
    let local = false;
    try {
      local = isLoopbackHost(splitAddress(address).host);
    } catch {
      local = false;
    }
    // `jipper dev` reads the same address (flags, environment, config file), so it starts the server asked for here.
    const hint = local
      ? 'start one with `jipper dev` (or `jipper worker`, which starts it), or use another --address'
      : `check the address${addressSource === undefined ? '' : ` in ${addressSource}`} and that the server is up`;
    super(`no Temporal server answers at ${address}${from}: ${reason}; ${hint}`, options);
  }
}

/**
 * The TLS handshake with the server failed: the server refused this client's certificate (missing, expired, or from
 * a CA it does not trust), this client does not trust the server's, or one side speaks TLS and the other does not.
 * The message is one line that says which, and which setting to look at.
 */
export class TemporalTlsError extends Error {
  override readonly name = 'TemporalTlsError';
  constructor(
    readonly address: string,
    readonly addressSource: string | undefined,
    readonly reason: string,
    options?: { cause?: unknown }
  ) {
    super(`TLS with ${address}${addressSource === undefined ? '' : ` (${addressSource})`} failed: ${reason}`, options);
  }
}

/**
 * The server answered, and refused this client's credentials — for the namespace, or outright: an API key that is
 * forged, expired or lacks the permission, or a client certificate the server maps to no role. One line, with what to
 * check.
 */
export class TemporalAccessError extends Error {
  override readonly name = 'TemporalAccessError';
  constructor(
    readonly address: string,
    readonly addressSource: string | undefined,
    readonly namespace: string | undefined,
    readonly reason: string,
    options?: { cause?: unknown }
  ) {
    const what = namespace === undefined ? "this client's credentials" : `access to namespace "${namespace}"`;
    super(
      `the server at ${address}${addressSource === undefined ? '' : ` (${addressSource})`} refused ${what}: ${reason}; check TEMPORAL_API_KEY (or what the client certificate is allowed)`,
      options
    );
  }
}

/** The gRPC status of a refusal of credentials (PERMISSION_DENIED, UNAUTHENTICATED) in an error or its causes. */
export function credentialsRefused(err: unknown): { code: number; reason: string } | undefined {
  for (let at: unknown = err, depth = 0; at !== undefined && at !== null && depth < 5; depth++) {
    const { code, details, message, cause } = at as {
      code?: unknown;
      details?: unknown;
      message?: unknown;
      cause?: unknown;
    };
    if (code === 7 || code === 16) {
      const text = typeof details === 'string' && details !== '' ? details : typeof message === 'string' ? message : '';
      return {
        code,
        reason: text
          .replace(/^\d+ [A-Z_]+: /, '')
          .replace(/\.$/, '')
          .trim(),
      };
    }
    at = cause;
  }
  return undefined;
}
