/**
 * Jipper's standard job library: jobs any definition may use, in its steps or as outcome hooks (`on:`), registered by
 * every worker that loads its libraries from the configuration (a library of the project's own with a job of the same
 * name takes its place).
 *
 * - `http-request`: a webhook call, JSON body, HMAC-SHA256 signature, idempotency key (see `http-request.ts`);
 * - `send-email`: an e-mail through SMTP, TLS and auth, text and HTML bodies (see `send-email.ts`).
 */
import { defineLibrary } from '../library';
import { httpRequest } from './http-request';
import { sendEmail } from './send-email';

export { IDEMPOTENCY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, httpRequest, signBody } from './http-request';
export { messageIdFor, sendEmail } from './send-email';

/** The standard library's name (in messages about duplicate jobs). */
export const STANDARD_LIBRARY_NAME = 'jipper-standard';

/** Jipper's standard jobs, as a library a worker registers. */
export function standardLibrary() {
  return defineLibrary(STANDARD_LIBRARY_NAME, [httpRequest, sendEmail] as const);
}
