/**
 * Keeps secret values out of everything a job's activity sends on: its result, its detail, its heartbeats, its log
 * lines and its errors (message, stack, cause). Each value the activity learned is secret — from a `$secret` in its
 * args, or from a field of its result the job marks secret — is replaced by `‹secret name›` wherever it appears, whole
 * or inside a longer string ("postgres://app:‹secret db-password›@db").
 *
 * What it cannot catch: a value transformed before it leaves (encoded, hashed, split), or written by the job to its own
 * output (console, files). Jobs must not do that with secrets.
 */
import { secretMarker } from '../shared/refs';
import { isRecord } from '../shared/text';

export class Redactor {
  /** Secret values with what replaces them, longest first (so a secret that contains another is replaced whole). */
  private entries: { value: string; marker: string }[] = [];

  /** Adds a value to keep out, shown as `‹secret name›`. Empty values are ignored (there is nothing to find). */
  add(value: string, name: string): void {
    if (value === '' || this.entries.some((e) => e.value === value)) return;
    this.entries.push({ value, marker: secretMarker(name) });
    this.entries.sort((a, b) => b.value.length - a.value.length);
  }

  /** True when there is anything to redact. */
  get active(): boolean {
    return this.entries.length > 0;
  }

  text(text: string): string {
    let out = text;
    for (const { value, marker } of this.entries) if (out.includes(value)) out = out.split(value).join(marker);
    return out;
  }

  /** A copy of a JSON-like value with every secret replaced, in strings and in object keys. */
  value<T>(value: T): T {
    if (!this.active) return value;
    return this.walk(value) as T;
  }

  private walk(value: unknown): unknown {
    if (typeof value === 'string') return this.text(value);
    if (Array.isArray(value)) return value.map((item) => this.walk(item));
    if (isRecord(value)) {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [this.text(k), this.walk(v)]));
    }
    return value;
  }

  /** An error with its message, stack and causes redacted (the same error when there is nothing to redact). */
  error<E>(err: E): E {
    if (!this.active || !(err instanceof Error)) return err;
    const seen = new Set<Error>();
    const scrub = (e: Error): void => {
      if (seen.has(e)) return;
      seen.add(e);
      e.message = this.text(e.message);
      if (e.stack !== undefined) e.stack = this.text(e.stack);
      if (e.cause instanceof Error) scrub(e.cause);
      else if (e.cause !== undefined) e.cause = this.walk(e.cause);
    };
    scrub(err);
    return err;
  }
}
