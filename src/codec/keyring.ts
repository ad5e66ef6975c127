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
 * A ring file must be readable by its owner only (as ssh requires of a private key): one that group or others may
 * read is refused, with the `chmod 600` that fixes it. It is loaded as a {@link FileKeyRing}, which reloads when the
 * file changes (checked at most once a second, when a payload is encrypted or decrypted) or on `reload()` (workers
 * and `jipper dev` call it on SIGHUP), so `jipper keys add`/`use` take effect without a restart; and which counts
 * the payloads each key encrypts (`src/codec/key-usage.ts`).
 *
 * ```ts
 * const ring = loadKeyRing(process.env); // undefined when no key ring is configured
 * ```
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { z } from 'zod';
import { GCM_RANDOM_NONCE_LIMIT, KeyUsage } from './key-usage';

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
  /** Told of every payload encrypted with `keyId` (a {@link FileKeyRing} counts them). */
  recordEncryption?(keyId: string): void;
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
  return new FileKeyRing(file);
}

/**
 * Reads and checks the ring file at `path`.
 *
 * @throws KeyRingError when it is missing, readable by group or others, or not a key ring.
 */
export function readKeyRingFile(path: string, source = `JIPPER_ENCRYPTION_KEYS_FILE (${path})`): KeyRing {
  let text: string;
  try {
    checkPrivate(path);
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if (err instanceof KeyRingError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new KeyRingError(
      `invalid key ring in ${source}: ${code === 'ENOENT' ? 'no such file (create one with `jipper keys add <file>`)' : (err as Error).message}`
    );
  }
  return parseKeyRingFile(text, source);
}

/** Refuses a ring file that group or others may read or write, as ssh refuses such a private key. */
function checkPrivate(path: string): void {
  if (process.platform === 'win32') return;
  const mode = statSync(path).mode & 0o777;
  if (mode & 0o077) {
    throw new KeyRingError(
      `key ring file ${path} is accessible by group or others (mode ${mode.toString(8).padStart(4, '0')}): run \`chmod 600 ${path}\``
    );
  }
}

/** How often a {@link FileKeyRing} looks at its file when in use. */
export const RING_CHECK_INTERVAL_MS = 1_000;

/**
 * A key ring read from a file that follows the file: when the file has changed (looked at, at most once a
 * {@link RING_CHECK_INTERVAL_MS}, when the ring is used) or on {@link reload}, the ring is read again. A file that no
 * longer reads (a hand edit gone wrong, a mode opened up) keeps the ring as it was, and `warn` says why, once per
 * change. Counts the payloads each key encrypts next to the file (`<file>.counts`), and warns when a key nears
 * AES-GCM's limit.
 */
export class FileKeyRing implements KeyRing {
  private ring: KeyRing;
  private stamp: string;
  private checkedAt = Date.now();
  private readonly usage: KeyUsage;
  private usageUnrecorded = false;

  constructor(
    readonly path: string,
    private readonly warn: (line: string) => void = (line) => console.warn(`jipper: ${line}`)
  ) {
    this.ring = readKeyRingFile(path);
    this.stamp = stampOf(path);
    this.usage = new KeyUsage(`${path}.counts`, (keyId, total) =>
      this.warn(
        `key "${keyId}" of ${this.source} has encrypted about ${total} payloads; AES-GCM with random nonces allows ${GCM_RANDOM_NONCE_LIMIT} per key (NIST SP 800-38D): add a new key and make it current (jipper keys add, jipper keys use)`
      )
    );
  }

  get current(): string {
    this.check();
    return this.ring.current;
  }

  get keys(): ReadonlyMap<string, Buffer> {
    this.check();
    return this.ring.keys;
  }

  get source(): string {
    return this.ring.source;
  }

  recordEncryption(keyId: string): void {
    this.usage.record(keyId);
  }

  /** The estimated number of payloads `keyId` has encrypted (every process using this file counts). */
  encryptions(keyId: string): number {
    return this.usage.total(keyId);
  }

  /**
   * Reads the file again now. Returns true when the ring was replaced; false when the file does not read (the ring
   * stays as it was, and `warn` says why).
   */
  reload(): boolean {
    this.stamp = stampOf(this.path);
    try {
      this.ring = readKeyRingFile(this.path);
      return true;
    } catch (err) {
      this.warn(`${(err as Error).message}; keeping the key ring as it was (current key "${this.ring.current}")`);
      return false;
    }
  }

  /** Reloads on `signal` (default SIGHUP) until the returned function is called. */
  reloadOn(signal: NodeJS.Signals = 'SIGHUP', log: (line: string) => void = this.warn): () => void {
    const onSignal = () => {
      if (this.reload()) log(`${signal}: key ring reloaded from ${this.path} (current key "${this.ring.current}")`);
    };
    process.on(signal, onSignal);
    return () => void process.off(signal, onSignal);
  }

  private check(): void {
    const now = Date.now();
    if (now - this.checkedAt < RING_CHECK_INTERVAL_MS) return;
    this.checkedAt = now;
    try {
      this.usage.flush();
    } catch (err) {
      if (!this.usageUnrecorded) this.warn(`cannot record key usage in ${this.path}.counts: ${(err as Error).message}`);
      this.usageUnrecorded = true;
    }
    if (stampOf(this.path) !== this.stamp) this.reload();
  }
}

/** What changes when a file is written or replaced: inode, size, modification time and mode. */
function stampOf(path: string): string {
  try {
    const stat = statSync(path);
    return `${stat.ino}:${stat.size}:${stat.mtimeMs}:${stat.mode}`;
  } catch {
    return 'missing';
  }
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
  const existing = existsSync(path) ? readKeyRingFile(path, path) : undefined;
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
  const ring = readKeyRingFile(path, path);
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
