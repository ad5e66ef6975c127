/**
 * Keeps secret values out of everything a job's activity sends on: its result, its detail, its heartbeats, its log
 * lines and its errors (message, stack, cause). Each value the activity learned is secret — from a `$secret` in its
 * args, or from a field of its result the job marks secret — is replaced by `‹secret name›` wherever it appears, whole
 * or inside a longer string ("postgres://app:‹secret db-password›@db").
 *
 * The value's common encodings are replaced too, as a job builds them from a secret: URL-encoded (`%2Fp%40ss`, and
 * the form encoding with `+`), JSON-escaped (once and twice: a JSON body inside a JSON string), and base64 and base64url
 * at any alignment (`Basic ` + base64 of `user:password` holds the password's bits at an offset; the characters that
 * mix it with its neighbours are left, a few bits at most).
 *
 * What it cannot catch: a value transformed otherwise before it leaves (hashed, encrypted, split, other encodings), or
 * written by the job to its own output (console, files). Jobs must not do that with secrets.
 */
import { secretMarker } from '../shared/refs';
import { isRecord } from '../shared/text';

export class Redactor {
  /** Secret values with what replaces them, longest first (so a secret that contains another is replaced whole). */
  private entries: { value: string; marker: string }[] = [];

  /**
   * Adds a value to keep out, and its encodings ({@link encodingsOf}), each shown as `‹secret name›`. Empty values are
   * ignored (there is nothing to find).
   */
  add(value: string, name: string): void {
    if (value === '') return;
    const marker = secretMarker(name);
    for (const form of [value, ...encodingsOf(value)]) {
      if (form !== '' && !this.entries.some((e) => e.value === form)) this.entries.push({ value: form, marker });
    }
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

/**
 * The forms a secret takes when a job encodes it: URL-encoded (component and form), JSON-escaped once and twice, and
 * the base64 and base64url characters that depend on the secret alone, at each of the three byte alignments. Forms
 * shorter than 6 characters are left out (they would match ordinary text).
 */
export function encodingsOf(value: string): string[] {
  const forms = new Set<string>();
  const url = encodeURIComponent(value);
  forms.add(url);
  forms.add(url.replace(/%20/g, '+'));
  forms.add(encodeURI(value));
  const once = JSON.stringify(value).slice(1, -1);
  forms.add(once);
  forms.add(JSON.stringify(once).slice(1, -1));
  const bytes = Buffer.from(value, 'utf8');
  for (let offset = 0; offset < 3; offset++) {
    const core = base64Core(bytes, offset);
    forms.add(core);
    forms.add(core.replace(/\+/g, '-').replace(/\//g, '_'));
  }
  forms.delete(value);
  return [...forms].filter((form) => form.length >= 6);
}

/**
 * The base64 characters of `bytes` placed `offset` bytes into a 3-byte group that no neighbouring byte affects: the
 * characters whose 6 bits all fall inside the value.
 */
function base64Core(bytes: Buffer, offset: number): string {
  const encoded = Buffer.concat([Buffer.alloc(offset), bytes])
    .toString('base64')
    .replace(/=+$/, '');
  const first = Math.ceil((offset * 8) / 6);
  const last = Math.floor(((offset + bytes.length) * 8) / 6); // exclusive
  return encoded.slice(first, last);
}
