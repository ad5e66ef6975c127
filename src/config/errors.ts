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
