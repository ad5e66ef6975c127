/**
 * Decrypting a whole event history (every payload of every event, failure messages included), for `jipper history
 * --decode`: what the Web UI shows through the codec server, as a file.
 */
import type { Payload, PayloadCodec } from '@temporalio/common';
import { visit, walkGetWorkflowExecutionHistoryResponse } from '@temporalio/common/lib/internal-non-workflow';
import type { History } from '@temporalio/common/lib/proto-utils';

/** Decodes every payload of `history` in place with `codecs` (applied last to first, as Temporal does). */
export async function decodeHistory(history: History, codecs: readonly PayloadCodec[]): Promise<History> {
  const decode = async (payloads: Payload[]): Promise<Payload[]> => {
    let out = payloads;
    for (const codec of [...codecs].reverse()) out = await codec.decode(out);
    return out;
  };
  await visit({ history }, walkGetWorkflowExecutionHistoryResponse, {
    transformPayload: async (payload) => (await decode([payload]))[0] as Payload,
    transformPayloads: (payloads) => decode(payloads),
    skipSearchAttributes: true,
  });
  return history;
}
