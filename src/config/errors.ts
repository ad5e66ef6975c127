/** The errors of configuration and connection: each message is one line that says what is wrong and what to do. */

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
