/** The example library's domain errors: each fails its job at once (no retry), named in the report by its class. */

/** The pool cannot hold the requested volume. */
export class CapacityExceededError extends Error {
  override readonly name = 'CapacityExceededError';
}
/** Another process already owns a volume of that name. */
export class VolumeExistsError extends Error {
  override readonly name = 'VolumeExistsError';
}
/** The volume is not allocated. */
export class VolumeNotFoundError extends Error {
  override readonly name = 'VolumeNotFoundError';
}
/** A quota larger than the volume itself. */
export class QuotaAboveLimitError extends Error {
  override readonly name = 'QuotaAboveLimitError';
}
/** Another volume is already exported under that name. */
export class NameAlreadyExportedError extends Error {
  override readonly name = 'NameAlreadyExportedError';
}
/**
 * A late attempt: the step was reverted after this attempt was scheduled (Temporal had given up on it, its retry ran,
 * and the process unwound), so it applies nothing. Only an attempt nobody waits for any more meets this.
 */
export class SupersededAttemptError extends Error {
  override readonly name = 'SupersededAttemptError';
}

/** The error types the example jobs never retry. */
export const DOMAIN_ERRORS = [
  'CapacityExceededError',
  'VolumeExistsError',
  'VolumeNotFoundError',
  'QuotaAboveLimitError',
  'NameAlreadyExportedError',
  'SupersededAttemptError',
];
