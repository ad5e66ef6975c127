/**
 * The data converter of everything that talks to Temporal when a key ring is configured: the encryption codec, and
 * the failure converter that hands failure messages to it. Pass it to every client (`new Client({ dataConverter })`),
 * worker (`createJipperWorker({ dataConverter })`) and replayer; `connectClient`, `startWorker`, `jipper/testing` and
 * every `jipper` command do so from the configuration.
 */
import type { DataConverter } from '@temporalio/common';
import type { EncryptionCodecOptions } from './encryption-codec';
import { EncryptionCodec } from './encryption-codec';
import type { KeyRing } from './keyring';

/** The module a worker (and its workflow bundle) loads the encrypting failure converter from. */
export const ENCRYPTING_FAILURE_CONVERTER_PATH = require.resolve('./failure-converter');

/**
 * The data converter that encrypts with `keyRing`, binding payloads to the namespace Temporal's context names (else
 * `options.namespace`, default `default`).
 */
export function encryptingDataConverter(keyRing: KeyRing, options: EncryptionCodecOptions = {}): DataConverter {
  return {
    payloadCodecs: [new EncryptionCodec(keyRing, options)],
    failureConverterPath: ENCRYPTING_FAILURE_CONVERTER_PATH,
  };
}

/** True when a data converter encrypts failure messages (and so needs the workflow bundle built with that converter). */
export function encryptsFailures(dataConverter: DataConverter | undefined): boolean {
  return dataConverter?.failureConverterPath === ENCRYPTING_FAILURE_CONVERTER_PATH;
}
