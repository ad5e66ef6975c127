/**
 * One line for a payload under a key the reader lacks (NoKeyRingCodec, missingKeyProblem), and one line in the
 * worker's log for a failure raised on purpose (expectedFailureLine); other errors keep their stacks.
 */
import { ApplicationFailure, ActivityFailure, RetryState } from '@temporalio/common';
import { EncryptionCodec, NoKeyRingCodec, NoKeyRingError, missingKeyProblem } from '../../src/codec/encryption-codec';
import { generateKey, parseInlineKeyRing } from '../../src/codec/keyring';
import { expectedFailureLine } from '../../src/worker/logger';

const ring = (spec: string) => parseInlineKeyRing(spec, 'the ring');
const plain = { metadata: { encoding: new TextEncoder().encode('json/plain') }, data: new TextEncoder().encode('1') };

test('a reader with no key ring names the key of an encrypted payload; plain payloads pass', async () => {
  const sealed = new EncryptionCodec(ring(`k1:${generateKey()}`)).encodeOne(plain);
  await expect(new NoKeyRingCodec().decode([plain])).resolves.toEqual([plain]);
  await expect(new NoKeyRingCodec().decode([plain, sealed])).rejects.toThrow(NoKeyRingError);
  await expect(new NoKeyRingCodec().decode([sealed])).rejects.toThrow(
    'a payload is encrypted with key "k1" and this worker has no key ring: set JIPPER_ENCRYPTION_KEYS or JIPPER_ENCRYPTION_KEYS_FILE to a key ring with that key'
  );
  expect(missingKeyProblem([plain, sealed], undefined, 'this replay')).toMatch(
    /key "k1" and this replay has no key ring/
  );
  expect(missingKeyProblem([sealed], ring(`k2:${generateKey()}`))).toBe(
    'a payload is encrypted with key "k1", which is not in the key ring of the ring (it has "k2"); add that key to decrypt it'
  );
  expect(missingKeyProblem([plain, sealed], ring(`k1:${generateKey()}`))).toBeUndefined();
});

test('the worker log writes a failure raised on purpose as one line, and nothing else', () => {
  const declined = ApplicationFailure.create({
    type: 'CardDeclinedError',
    message: 'card\ndeclined',
    nonRetryable: true,
  });
  expect(expectedFailureLine(declined)).toBe('CardDeclinedError: card declined (not retried)');
  const wrapped = new ActivityFailure(
    'Activity task failed',
    'charge.run',
    '1',
    RetryState.NON_RETRYABLE_FAILURE,
    'w',
    declined
  );
  expect(expectedFailureLine(wrapped)).toBe('CardDeclinedError: card declined (not retried)');
  // Copied out of the workflow sandbox: a plain Error whose stack still says what it was.
  const copied = Object.assign(new Error('process x reverted'), {
    stack: 'ApplicationFailure: process x reverted\n    at …',
  });
  expect(expectedFailureLine(copied)).toBe('ApplicationFailure: process x reverted');
  expect(expectedFailureLine(new NoKeyRingError('k1'))).toMatch(
    /^NoKeyRingError: a payload is encrypted with key "k1"/
  );
  expect(expectedFailureLine(new TypeError('x is undefined'))).toBeUndefined();
});
