/**
 * How a worker that requires encryption hands a payload that arrived unencrypted to its workflow code: the codec
 * (`src/codec/plaintext-guard.ts`, Node side) replaces it with a JSON value `{ [PLAINTEXT_MARK]: { encoding, value } }`,
 * and the workflow interceptor (`src/workflows/plaintext-guard.ts`, sandboxed) refuses the run, signal or update that
 * carries one — or, replaying a run that a worker accepted before encryption was required, unwraps the value. The codec
 * only sees payloads and the workflow only sees values: this mark is how the one tells the other.
 */

/** The key of a value that stands for a payload that arrived unencrypted. */
export const PLAINTEXT_MARK = '$jipperPlaintext';

/** What stands in for a payload that arrived unencrypted: its encoding, and its value when it was JSON. */
export interface PlaintextMark {
  readonly [PLAINTEXT_MARK]: { readonly encoding: string; readonly value?: unknown };
}

/** True when `value` stands for a payload that arrived unencrypted. */
export function isPlaintextMark(value: unknown): value is PlaintextMark {
  return typeof value === 'object' && value !== null && Object.hasOwn(value, PLAINTEXT_MARK);
}
