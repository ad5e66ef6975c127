/**
 * Required encryption, the codec's half: a `PayloadCodec` a worker puts after its encryption codec, so that it decodes
 * first and sees payloads as they arrived. A payload of a workflow (its input, memo, a signal's or an update's
 * arguments) that is not encrypted is replaced by a mark (`src/shared/plaintext.ts`) that carries its encoding and,
 * when it was JSON, its value; the workflow interceptor (`src/workflows/plaintext-guard.ts`) refuses what carries one.
 * Activity payloads pass as they are: only Jipper's workflows schedule activities, and they encrypt.
 *
 * Temporal offers no hook that both sees a payload's metadata and can fail a run before workflow code runs (workflow
 * interceptors see values, codecs cannot fail a run, only its workflow task, forever): hence the two halves.
 */
import type { Payload, PayloadCodec, SerializationContext } from '@temporalio/common';
import { PLAINTEXT_MARK } from '../shared/plaintext';
import { isEncrypted } from './encryption-codec';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Metadata of a marked payload, naming the encoding the payload arrived in. */
export const PLAINTEXT_METADATA = 'jipper-plaintext';

export class PlaintextGuardCodec implements PayloadCodec {
  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads;
  }

  async decode(payloads: Payload[], context?: SerializationContext): Promise<Payload[]> {
    if (context?.type !== 'workflow') return payloads;
    return payloads.map((payload) => (isEncrypted(payload) ? payload : markPlaintext(payload)));
  }
}

/** The JSON payload that stands for `payload`, which arrived unencrypted. */
export function markPlaintext(payload: Payload): Payload {
  const encoding = payload.metadata?.encoding ? decoder.decode(payload.metadata.encoding) : '(none)';
  let value: unknown;
  if (encoding === 'json/plain' && payload.data) {
    try {
      value = JSON.parse(decoder.decode(payload.data));
    } catch {
      value = undefined;
    }
  }
  const mark = { [PLAINTEXT_MARK]: value === undefined ? { encoding } : { encoding, value } };
  return {
    metadata: { encoding: encoder.encode('json/plain'), [PLAINTEXT_METADATA]: encoder.encode(encoding) },
    data: encoder.encode(JSON.stringify(mark)),
  };
}
