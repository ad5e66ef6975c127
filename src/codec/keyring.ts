/**
 * The key ring payload encryption uses: named 256-bit keys, one of them current. New payloads are encrypted with the
 * current key; a payload names the key it was encrypted with, so after a rotation the older keys still decrypt what
 * they encrypted. Read from the environment once, where it enters, and checked with zod (one line per problem).
 *
 * - `JIPPER_ENCRYPTION_KEYS`: the ring inline, `id:base64key[,id:base64key...]`; the first key is the current one.
 * - `JIPPER_ENCRYPTION_KEYS_FILE`: a JSON file `{ "current": "<id>", "keys": { "<id>": "<base64key>", ... } }`
 *   (`jipper keys add <file>` writes one, and adds a new current key to it).
 *
 * Neither set: no encryption. Both set: an error (one source of keys, never a merge that hides a mistake).
 *
 * ```ts
 * const ring = loadKeyRing(process.env); // undefined when no key ring is configured
 * ```
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { z } from 'zod';

/** The length of every key: AES-256. */
export const KEY_BYTES = 32;

/** What a key id may be: it is stored in plaintext next to every payload, so it names a key and says nothing else. */
export const KEY_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export interface KeyRing {
  /** The id of the key new payloads are encrypted with. */
  readonly current: string;
  /** Every key by id, the current one included. */
  readonly keys: ReadonlyMap<string, Buffer>;
  /** Where the ring came from, for messages: `JIPPER_ENCRYPTION_KEYS`, `JIPPER_ENCRYPTION_KEYS_FILE (/path)`. */
  readonly source: string;
}

/** The key ring settings are invalid; the message is one line that names the setting and what is wrong. */
export class KeyRingError extends Error {
  override readonly name = 'KeyRingError';
}

const keyId = z.string().regex(KEY_ID_PATTERN, 'a key id is 1-64 letters, digits, ".", "_" or "-"');
const keyMaterial = z
  .string()
  .trim()
  .refine((text) => /^[A-Za-z0-9+/]+={0,2}$/.test(text), 'must be base64')
  .transform((text) => Buffer.from(text, 'base64'))
  .refine((key) => key.length === KEY_BYTES, { message: `must be ${KEY_BYTES} bytes (AES-256) in base64` });

const fileSchema = z
  .strictObject({ current: keyId, keys: z.record(keyId, keyMaterial) })
  .refine((ring) => Object.hasOwn(ring.keys, ring.current), {
    message: 'names a key that is not in "keys"',
    path: ['current'],
  });

function problems(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.join('.') || '(ring)'}: ${issue.message}`).join('; ');
}

/** Parses the inline form, `id:base64key[,id:base64key...]` (the first is current). */
export function parseInlineKeyRing(text: string, source = 'JIPPER_ENCRYPTION_KEYS'): KeyRing {
  const entries = text
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  if (!entries.length) throw new KeyRingError(`invalid key ring in ${source}: no keys (expected id:base64key,...)`);
  const keys = new Map<string, Buffer>();
  const found: string[] = [];
  let current: string | undefined;
  entries.forEach((entry, i) => {
    const at = entry.indexOf(':');
    if (at < 0) {
      found.push(`key ${i + 1}: expected id:base64key`);
      return;
    }
    const id = keyId.safeParse(entry.slice(0, at));
    const key = keyMaterial.safeParse(entry.slice(at + 1));
    const where = id.success ? `key "${id.data}"` : `key ${i + 1}`;
    if (!id.success) found.push(`${where}: ${id.error.issues[0]?.message ?? 'invalid id'}`);
    if (!key.success) found.push(`${where}: ${key.error.issues[0]?.message ?? 'invalid key'}`);
    if (id.success && keys.has(id.data)) found.push(`${where}: listed twice`);
    if (id.success && key.success) keys.set(id.data, key.data);
    if (i === 0 && id.success) current = id.data;
  });
  if (found.length || current === undefined) {
    throw new KeyRingError(`invalid key ring in ${source}: ${found.join('; ')}`);
  }
  return { current, keys, source };
}

/** Parses the JSON file form, `{ "current": id, "keys": { id: base64key } }`. */
export function parseKeyRingFile(text: string, source: string): KeyRing {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new KeyRingError(`invalid key ring in ${source}: not JSON (${(err as Error).message})`);
  }
  const parsed = fileSchema.safeParse(json);
  if (!parsed.success) throw new KeyRingError(`invalid key ring in ${source}: ${problems(parsed.error)}`);
  return { current: parsed.data.current, keys: new Map(Object.entries(parsed.data.keys)), source };
}

const envSchema = z.object({
  JIPPER_ENCRYPTION_KEYS: z.string().trim().min(1, 'must not be empty').optional(),
  JIPPER_ENCRYPTION_KEYS_FILE: z.string().trim().min(1, 'must not be empty').optional(),
});

/**
 * The configured key ring, or `undefined` when encryption is not configured.
 *
 * @throws KeyRingError with one line naming the setting and every problem.
 */
export function loadKeyRing(env: NodeJS.ProcessEnv = process.env): KeyRing | undefined {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) throw new KeyRingError(`invalid key ring settings: ${problems(parsed.error)}`);
  const { JIPPER_ENCRYPTION_KEYS: inline, JIPPER_ENCRYPTION_KEYS_FILE: file } = parsed.data;
  if (inline !== undefined && file !== undefined) {
    throw new KeyRingError(
      'invalid key ring settings: set JIPPER_ENCRYPTION_KEYS or JIPPER_ENCRYPTION_KEYS_FILE, not both'
    );
  }
  if (inline !== undefined) return parseInlineKeyRing(inline);
  if (file === undefined) return undefined;
  const source = `JIPPER_ENCRYPTION_KEYS_FILE (${file})`;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new KeyRingError(
      `invalid key ring in ${source}: ${code === 'ENOENT' ? 'no such file (create one with `jipper keys add <file>`)' : (err as Error).message}`
    );
  }
  return parseKeyRingFile(text, source);
}

/** A fresh random key, in the base64 form the ring files hold. */
export function generateKey(): string {
  return randomBytes(KEY_BYTES).toString('base64');
}

/** An id for a new key: the date and a few random characters, e.g. `k20250614-3f9a`. */
export function newKeyId(now = new Date()): string {
  const day = now.toISOString().slice(0, 10).replace(/-/g, '');
  return `k${day}-${randomBytes(2).toString('hex')}`;
}

/**
 * Adds a new random key to the ring file at `path` and makes it current, unless `keepCurrent` (creating the file,
 * readable by its owner only, when there is none). The previous keys stay, so what they encrypted still decrypts.
 * Returns the new key's id; the key itself is only ever written to the file.
 *
 * @throws KeyRingError when the file exists but is not a key ring, or `id` is taken or malformed.
 */
export function addKeyToFile(path: string, id: string = newKeyId(), options: { keepCurrent?: boolean } = {}): string {
  if (!KEY_ID_PATTERN.test(id)) {
    throw new KeyRingError(`key id "${id}": ${keyId.safeParse(id).error?.issues[0]?.message}`);
  }
  const existing = existsSync(path) ? parseKeyRingFile(readFileSync(path, 'utf8'), path) : undefined;
  if (existing?.keys.has(id)) throw new KeyRingError(`${path} already has a key "${id}"`);
  const keys: Record<string, string> = { [id]: generateKey() };
  for (const [known, key] of existing?.keys ?? []) keys[known] = key.toString('base64');
  writeRing(path, options.keepCurrent && existing ? existing.current : id, keys);
  return id;
}

/**
 * Makes the key `id` of the ring file at `path` the current one (the second half of a rotation: see docs/design.md).
 *
 * @throws KeyRingError when the file is not a key ring or has no such key.
 */
export function useKeyInFile(path: string, id: string): void {
  const ring = parseKeyRingFile(readFileSync(path, 'utf8'), path);
  if (!ring.keys.has(id)) {
    const known = [...ring.keys.keys()].map((k) => `"${k}"`).join(', ');
    throw new KeyRingError(`${path} has no key "${id}" (it has ${known})`);
  }
  writeRing(path, id, Object.fromEntries([...ring.keys].map(([known, key]) => [known, key.toString('base64')])));
}

/** Writes a ring file readable by its owner only, in one step (readers never see half a file). */
function writeRing(path: string, current: string, keys: Record<string, string>): void {
  const temp = `${path}.${process.pid}.tmp`;
  writeFileSync(temp, `${JSON.stringify({ current, keys }, null, 2)}\n`, { mode: 0o600 });
  renameSync(temp, path);
}
