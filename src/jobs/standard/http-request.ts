/**
 * `http-request`: calls a webhook. The body is JSON; with a `signingKey` (give it as `{ $secret: name }`) the request
 * carries an HMAC-SHA256 signature over `<timestamp>.<body>` so the receiver can check it came from Jipper and was not
 * replayed late; every attempt carries the same `Idempotency-Key` (the process id and the hook or step id), so a
 * receiver that keeps the keys it has seen handles a retried delivery once.
 *
 * A 2xx answer succeeds. 408, 425, 429 and 5xx answers, timeouts and network errors fail the attempt (Temporal retries
 * it by the step's or hook's retry policy); any other answer fails for good (`HttpRequestRejected`).
 */
import { createHmac } from 'node:crypto';
import { z } from 'zod';
import { defineJob } from '../job';

/** The header names Jipper signs with, lower-case. */
export const SIGNATURE_HEADER = 'x-jipper-signature';
export const TIMESTAMP_HEADER = 'x-jipper-timestamp';
export const IDEMPOTENCY_HEADER = 'idempotency-key';

/** `sha256=<hex>`: the signature of a body sent at `timestamp` (seconds since the epoch). */
export function signBody(signingKey: string, timestamp: number, body: string): string {
  return `sha256=${createHmac('sha256', signingKey).update(`${timestamp}.${body}`).digest('hex')}`;
}

const RETRYABLE_STATUSES = new Set([408, 425, 429]);

export const httpRequestInput = z.strictObject({
  url: z.url({ protocol: /^https?$/, message: 'expected an http:// or https:// URL' }),
  method: z.enum(['POST', 'PUT', 'PATCH', 'GET', 'DELETE']).default('POST'),
  headers: z.record(z.string(), z.string()).optional(),
  /** Sent as JSON (`content-type: application/json`). */
  body: z.unknown().optional(),
  /** Key of the HMAC-SHA256 signature (`x-jipper-signature`); pass it as `{ $secret: name }`. */
  signingKey: z.string().min(1).optional(),
  /** How long one request may take, in ms. Default 10,000. */
  timeoutMs: z.number().int().positive().max(300_000).default(10_000),
});

class HttpRequestFailed extends Error {
  override readonly name = 'HttpRequestFailed';
}
class HttpRequestRejected extends Error {
  override readonly name = 'HttpRequestRejected';
}

export const httpRequest = defineJob({
  name: 'http-request',
  description: 'Calls a webhook with a JSON body, signed (HMAC-SHA256) and with an idempotency key',
  input: httpRequestInput,
  options: { timeout: '60s', retry: { maximumAttempts: 5, nonRetryableErrorTypes: ['HttpRequestRejected'] } },
  async run(input, ctx) {
    const body = input.body === undefined ? undefined : JSON.stringify(input.body);
    const timestamp = Math.floor(Date.now() / 1000);
    const headers: Record<string, string> = {
      ...input.headers,
      [IDEMPOTENCY_HEADER]: ctx.idempotencyKey,
      [TIMESTAMP_HEADER]: String(timestamp),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    };
    if (input.signingKey) headers[SIGNATURE_HEADER] = signBody(input.signingKey, timestamp, body ?? '');
    let response: Response;
    try {
      response = await fetch(input.url, {
        method: input.method,
        headers,
        ...(body !== undefined ? { body } : {}),
        signal: AbortSignal.any([ctx.signal, AbortSignal.timeout(input.timeoutMs)]),
      });
    } catch (err) {
      const cause = err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : '';
      throw new HttpRequestFailed(`${input.method} ${input.url}: ${(err as Error).message}${cause}`);
    }
    const text = (await response.text()).slice(0, 200);
    const said = `${input.method} ${input.url} answered ${response.status}${text ? `: ${text}` : ''}`;
    if (response.ok) {
      ctx.setDetail(said);
      return { status: response.status };
    }
    if (response.status >= 500 || RETRYABLE_STATUSES.has(response.status)) throw new HttpRequestFailed(said);
    throw new HttpRequestRejected(said);
  },
});
