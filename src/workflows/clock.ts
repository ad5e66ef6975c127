/**
 * The workflow clock. Inside Temporal's workflow sandbox `Date` is replaced by a deterministic one that returns the
 * time of the current workflow task, identical on replay; this is the one place workflow code reads it.
 */
export function nowIso(): string {
  return new Date().toISOString();
}

/** Milliseconds since the epoch, on the workflow clock. */
export function nowMs(): number {
  return new Date().getTime();
}
