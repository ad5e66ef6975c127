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
