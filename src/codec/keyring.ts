/**
 * The key ring payload encryption uses: named 256-bit keys, one of them current. New payloads are encrypted with the
 * current key; a payload names the key it was encrypted with, so after a rotation the older keys still decrypt what
 * they encrypted. Named by the environment, and checked with zod where it enters (one line per problem).
 *
 * - `JIPPER_ENCRYPTION_KEYS`: the ring inline, `id:base64key[,id:base64key...]`; the first key is the current one.
 * - `JIPPER_ENCRYPTION_KEYS_FILE`: a JSON file `{ "current": "<id>", "keys": { "<id>": "<base64key>", ... } }`
 *   (`jipper keys add <file>` writes one, and adds a new current key to it), or with its keys wrapped by a
 *   key-encryption key, `{ "current", "kek": { "provider", ... }, "keys": { "<id>": { "wrapped": "<base64>" } } }`
 *   (`jipper keys wrap`; see `envelope.ts`).
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
 * const ring = await openKeyRing(process.env); // undefined when no key ring is configured
 * ```
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { z } from 'zod';
import type { KekSpec, KeyEncryptionKeyProvider } from './envelope';
import { createKekFile, kekProviderFor } from './envelope';
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

const base64 = z
  .string()
  .trim()
  .refine((text) => /^[A-Za-z0-9+/]+={0,2}$/.test(text), 'must be base64')
  .transform((text) => Buffer.from(text, 'base64'));
/** A data key wrapped by the ring's key-encryption key (envelope encryption, see `envelope.ts`). */
const wrappedKey = z.strictObject({ wrapped: base64 });
const kekSchema = z.looseObject({ provider: z.string().trim().min(1, 'must name a provider') });
/** A key as a ring file stores it: base64 in the clear, or `{ "wrapped": base64 }`; each form with its own message. */
const storedKey = z.unknown().transform((value, ctx): Buffer | { wrapped: Buffer } => {
  const parsed = typeof value === 'string' ? keyMaterial.safeParse(value) : wrappedKey.safeParse(value);
  if (parsed.success) return parsed.data;
  for (const issue of parsed.error.issues) ctx.addIssue({ code: 'custom', message: issue.message, path: issue.path });
  return z.NEVER;
});

const fileSchema = z
  .strictObject({
    current: keyId,
    kek: kekSchema.optional(),
    keys: z.record(keyId, storedKey),
  })
  .refine((ring) => Object.hasOwn(ring.keys, ring.current), {
    message: 'names a key that is not in "keys"',
    path: ['current'],
  })
  .superRefine((ring, ctx) => {
    for (const [id, key] of Object.entries(ring.keys)) {
      const wrapped = !Buffer.isBuffer(key);
      if (wrapped === (ring.kek !== undefined)) continue;
      ctx.addIssue({
        code: 'custom',
        path: ['keys', id],
        message: wrapped
          ? 'is wrapped but the ring names no "kek"'
          : 'must be { "wrapped": ... }: the ring has a "kek"',
      });
    }
  });

/** A ring file as written: its keys in the clear, or wrapped by the KEK its `kek` names. */
interface RingFileContents {
  current: string;
  kek: KekSpec | undefined;
  /** Every key as stored: the key itself, or (with a `kek`) the wrapped key. */
  stored: Map<string, Buffer>;
}

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

/** Parses the JSON file form, `{ "current": id, "keys": { id: base64key } }` (keys in the clear). */
export function parseKeyRingFile(text: string, source: string): KeyRing {
  const contents = parseRingFileContents(text, source);
  if (contents.kek !== undefined) throw wrappedKeysError(source, contents.kek);
  return { current: contents.current, keys: contents.stored, source };
}

function parseRingFileContents(text: string, source: string): RingFileContents {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new KeyRingError(`invalid key ring in ${source}: not JSON (${(err as Error).message})`);
  }
  const parsed = fileSchema.safeParse(json);
  if (!parsed.success) throw new KeyRingError(`invalid key ring in ${source}: ${problems(parsed.error)}`);
  const stored = new Map(
    Object.entries(parsed.data.keys).map(([id, key]) => [id, Buffer.isBuffer(key) ? key : key.wrapped])
  );
  return { current: parsed.data.current, kek: parsed.data.kek, stored };
}

/** The ring of `contents`, its keys unwrapped by the KEK it names (`baseDir`: the ring file's directory). */
async function unwrapRing(contents: RingFileContents, source: string, baseDir: string): Promise<KeyRing> {
  if (contents.kek === undefined) return { current: contents.current, keys: contents.stored, source };
  try {
    const provider = kekProviderFor(contents.kek, baseDir);
    const keys = new Map<string, Buffer>();
    for (const [id, wrapped] of contents.stored) {
      const key = await provider.unwrapKey(wrapped, id);
      if (key.length !== KEY_BYTES) throw new Error(`key "${id}" unwraps to ${key.length} bytes, not ${KEY_BYTES}`);
      keys.set(id, key);
    }
    return { current: contents.current, keys, source };
  } catch (err) {
    if (err instanceof KeyRingError) throw err;
    throw new KeyRingError(`invalid key ring in ${source}: ${(err as Error).message}`, { cause: err });
  }
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
 * {@link loadKeyRing}, for every kind of ring file: one whose keys are wrapped by a key-encryption key too (they are
 * unwrapped here, which may call a KMS). `loadConfig()` loads the ring with it.
 *
 * @throws KeyRingError with one line naming the setting and every problem.
 */
export async function openKeyRing(env: NodeJS.ProcessEnv = process.env): Promise<KeyRing | undefined> {
  const file = env.JIPPER_ENCRYPTION_KEYS_FILE?.trim();
  if (!file || env.JIPPER_ENCRYPTION_KEYS !== undefined) return loadKeyRing(env);
  return FileKeyRing.open(file);
}

/** Reads a ring file's contents, refusing a file others may read. */
function readRingContents(path: string, source: string): RingFileContents {
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
  return parseRingFileContents(text, source);
}

/**
 * Reads and checks the ring file at `path`.
 *
 * @throws KeyRingError when it is missing, readable by group or others, or not a key ring.
 */
export function readKeyRingFile(path: string, source = `JIPPER_ENCRYPTION_KEYS_FILE (${path})`): KeyRing {
  const contents = readRingContents(path, source);
  if (contents.kek !== undefined) throw wrappedKeysError(source, contents.kek);
  return { current: contents.current, keys: contents.stored, source };
}

function wrappedKeysError(source: string, kek: KekSpec): KeyRingError {
  return new KeyRingError(
    `${source}: its keys are wrapped by a key-encryption key (kek.provider "${kek.provider}"): load it with openKeyRing() or loadConfig()`
  );
}

/** {@link readKeyRingFile} for every kind of ring file, its keys unwrapped when a KEK wraps them. */
export async function openKeyRingFile(
  path: string,
  source = `JIPPER_ENCRYPTION_KEYS_FILE (${path})`
): Promise<KeyRing> {
  return unwrapRing(readRingContents(path, source), source, dirname(path));
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
 * change. A ring whose keys a KEK wraps (`envelope.ts`) is made with {@link FileKeyRing.open}, and reloads in the
 * background: the new keys serve once unwrapped. Counts the payloads each key encrypts next to the file
 * (`<file>.counts`), and warns when a key nears AES-GCM's limit.
 */
export class FileKeyRing implements KeyRing {
  private ring: KeyRing;
  private stamp: string;
  private checkedAt = Date.now();
  private readonly usage: KeyUsage;
  private usageUnrecorded = false;

  /** The ring in the file at `path`, whichever kind: with keys in the clear, or wrapped by a KEK (unwrapped here). */
  static async open(path: string, warn?: (line: string) => void): Promise<FileKeyRing> {
    const stamp = stampOf(path);
    return new FileKeyRing(path, warn, { ring: await openKeyRingFile(path), stamp });
  }

  /**
   * @param path a ring file with keys in the clear ({@link FileKeyRing.open} takes wrapped ones too).
   * @param warn where problems are told (a file that no longer reads, a key near its limit). Default `console.warn`.
   */
  constructor(
    readonly path: string,
    private readonly warn: (line: string) => void = (line) => console.warn(`jipper: ${line}`),
    opened?: { ring: KeyRing; stamp: string }
  ) {
    this.stamp = opened?.stamp ?? stampOf(path);
    this.ring = opened?.ring ?? readKeyRingFile(path);
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
   * Reads the file again now. Resolves to true when the ring was replaced; false when the file does not read (the ring
   * stays as it was, and `warn` says why). A ring with keys in the clear is replaced before this returns.
   */
  reload(): Promise<boolean> {
    this.stamp = stampOf(this.path);
    const kept = (err: unknown): false => {
      this.warn(`${(err as Error).message}; keeping the key ring as it was (current key "${this.ring.current}")`);
      return false;
    };
    let contents: RingFileContents;
    try {
      contents = readRingContents(this.path, this.ring.source);
    } catch (err) {
      return Promise.resolve(kept(err));
    }
    if (contents.kek === undefined) {
      this.ring = { current: contents.current, keys: contents.stored, source: this.ring.source };
      return Promise.resolve(true);
    }
    return unwrapRing(contents, this.ring.source, dirname(this.path)).then((ring) => {
      this.ring = ring;
      return true;
    }, kept);
  }

  /** Reloads on `signal` (default SIGHUP) until the returned function is called. */
  reloadOn(signal: NodeJS.Signals = 'SIGHUP', log: (line: string) => void = this.warn): () => void {
    const onSignal = () =>
      void this.reload().then((reloaded) => {
        if (reloaded) log(`${signal}: key ring reloaded from ${this.path} (current key "${this.ring.current}")`);
      });
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
    if (stampOf(this.path) !== this.stamp) void this.reload();
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
  const existing = contentsForAdding(path, id);
  if (existing?.kek !== undefined) {
    throw new KeyRingError(`${path}: its keys are wrapped by a key-encryption key: add one with addKey()`);
  }
  const keys: Record<string, StoredKey> = { [id]: generateKey() };
  for (const [known, key] of existing?.stored ?? []) keys[known] = key.toString('base64');
  writeRing(path, options.keepCurrent && existing ? existing.current : id, keys, undefined);
  return id;
}

/**
 * {@link addKeyToFile} for every kind of ring file: in one whose keys a KEK wraps, the new key is wrapped by it
 * (`jipper keys add` calls this).
 */
export async function addKey(
  path: string,
  id: string = newKeyId(),
  options: { keepCurrent?: boolean } = {}
): Promise<string> {
  const existing = contentsForAdding(path, id);
  if (existing?.kek === undefined) return addKeyToFile(path, id, options);
  const provider = providerOf(existing.kek, path);
  const keys: Record<string, StoredKey> = {
    [id]: { wrapped: (await provider.wrapKey(Buffer.from(generateKey(), 'base64'), id)).toString('base64') },
  };
  for (const [known, key] of existing.stored) keys[known] = { wrapped: key.toString('base64') };
  writeRing(path, options.keepCurrent ? existing.current : id, keys, existing.kek);
  return id;
}

/**
 * Wraps every key of the ring file at `path` with the KEK in the file `kekPath` (made, 0600, when there is none):
 * from then on the ring file alone decrypts nothing. Returns the ids wrapped.
 */
export async function wrapKeyRingFile(path: string, kekPath: string): Promise<string[]> {
  const contents = readRingContents(path, path);
  if (contents.kek !== undefined) throw new KeyRingError(`${path}: its keys are wrapped already`);
  createKekFile(kekPath);
  const kek: KekSpec = { provider: 'file', path: relativeTo(dirname(path), kekPath) };
  const provider = providerOf(kek, path);
  const keys: Record<string, StoredKey> = {};
  for (const [id, key] of contents.stored) keys[id] = { wrapped: (await provider.wrapKey(key, id)).toString('base64') };
  writeRing(path, contents.current, keys, kek);
  return Object.keys(keys);
}

/** The ring file's contents before adding `id` (undefined when there is no file yet). */
function contentsForAdding(path: string, id: string): RingFileContents | undefined {
  if (!KEY_ID_PATTERN.test(id)) {
    throw new KeyRingError(`key id "${id}": ${keyId.safeParse(id).error?.issues[0]?.message}`);
  }
  const existing = existsSync(path) ? readRingContents(path, path) : undefined;
  if (existing?.stored.has(id)) throw new KeyRingError(`${path} already has a key "${id}"`);
  return existing;
}

function providerOf(kek: KekSpec, path: string): KeyEncryptionKeyProvider {
  try {
    return kekProviderFor(kek, dirname(path));
  } catch (err) {
    throw new KeyRingError(`invalid key ring in ${path}: ${(err as Error).message}`, { cause: err });
  }
}

/** `target` as the ring file names it: relative to the ring's directory when below it. */
function relativeTo(dir: string, target: string): string {
  const rel = relative(dir, resolve(target));
  return rel.startsWith('..') ? resolve(target) : rel;
}

/**
 * Makes the key `id` of the ring file at `path` the current one (the second half of a rotation: see docs/design.md).
 * Wrapped keys stay wrapped: nothing is unwrapped to switch.
 *
 * @throws KeyRingError when the file is not a key ring or has no such key.
 */
export function useKeyInFile(path: string, id: string): void {
  const contents = readRingContents(path, path);
  if (!contents.stored.has(id)) {
    const known = [...contents.stored.keys()].map((k) => `"${k}"`).join(', ');
    throw new KeyRingError(`${path} has no key "${id}" (it has ${known})`);
  }
  const keys: Record<string, StoredKey> = {};
  for (const [known, key] of contents.stored) {
    keys[known] = contents.kek ? { wrapped: key.toString('base64') } : key.toString('base64');
  }
  writeRing(path, id, keys, contents.kek);
}

/** A key as a ring file holds it: base64, or wrapped. */
type StoredKey = string | { wrapped: string };

/** Writes a ring file readable by its owner only, in one step (readers never see half a file). */
function writeRing(path: string, current: string, keys: Record<string, StoredKey>, kek: KekSpec | undefined): void {
  const temp = `${path}.${process.pid}.tmp`;
  const ring = kek ? { current, kek, keys } : { current, keys };
  writeFileSync(temp, `${JSON.stringify(ring, null, 2)}\n`, { mode: 0o600 });
  renameSync(temp, path);
}
