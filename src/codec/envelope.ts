/**
 * Envelope encryption: the data keys of a key ring file stored wrapped by a key-encryption key (KEK), so the file alone
 * decrypts nothing. A KEK comes from a {@link KeyEncryptionKeyProvider}: Jipper has a file-backed one
 * ({@link FileKekProvider}); a KMS (AWS KMS, Google Cloud KMS, Vault transit) is the same two calls, registered with
 * {@link registerKekProvider} and named in the ring file.
 *
 * A ring file with a KEK:
 *
 * ```json
 * {
 *   "current": "k2",
 *   "kek": { "provider": "file", "path": "kek.key" },
 *   "keys": { "k1": { "wrapped": "<base64>" }, "k2": { "wrapped": "<base64>" } }
 * }
 * ```
 *
 * A KMS provider, for the shape:
 *
 * ```ts
 * registerKekProvider('aws-kms', (spec) => ({
 *   description: `aws-kms ${spec.keyArn}`,
 *   async wrapKey(dataKey, keyId) {
 *     const out = await kms.encrypt({ KeyId: spec.keyArn, Plaintext: dataKey, EncryptionContext: { jipperKey: keyId } });
 *     return Buffer.from(out.CiphertextBlob!);
 *   },
 *   async unwrapKey(wrapped, keyId) {
 *     const out = await kms.decrypt({ CiphertextBlob: wrapped, EncryptionContext: { jipperKey: keyId } });
 *     return Buffer.from(out.Plaintext!);
 *   },
 * }));
 * // ring file: "kek": { "provider": "aws-kms", "keyArn": "arn:aws:kms:…" }
 * ```
 *
 * The key id is bound to its wrapped key (associated data, or a KMS's encryption context), so wrapped keys cannot be
 * swapped between ids. Keys are unwrapped when the ring is loaded and reloaded, never per payload.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';

/** Wraps and unwraps data keys with a key-encryption key that never leaves it. */
export interface KeyEncryptionKeyProvider {
  /** Which KEK, for messages (`file /etc/jipper/kek.key`, `aws-kms arn:…`); never the key itself. */
  readonly description: string;
  /** The data key `keyId` of a ring, wrapped. */
  wrapKey(dataKey: Buffer, keyId: string): Promise<Buffer>;
  /** The data key `keyId`, unwrapped; throws when `wrapped` was not wrapped by this KEK for that id. */
  unwrapKey(wrapped: Buffer, keyId: string): Promise<Buffer>;
}

/** The `kek` object of a ring file: `provider` names the provider, the rest is the provider's. */
export type KekSpec = { provider: string } & Record<string, unknown>;

/** Makes a provider from a ring file's `kek` object; `baseDir` is the ring file's directory. */
export type KekProviderFactory = (spec: KekSpec, baseDir: string) => KeyEncryptionKeyProvider;

const KEK_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * A KEK in a file of its own: 32 random bytes in base64, readable by its owner only (refused otherwise, as a ring
 * file is). Data keys are wrapped with AES-256-GCM, the key id as associated data. Keep the file apart from the ring
 * (another disk, a secret mount): whoever has both has the keys.
 */
export class FileKekProvider implements KeyEncryptionKeyProvider {
  readonly description: string;

  constructor(readonly path: string) {
    this.description = `file ${path}`;
  }

  async wrapKey(dataKey: Buffer, keyId: string): Promise<Buffer> {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.kek(), iv);
    cipher.setAAD(Buffer.from(`jipper-kek/1/${keyId}`));
    return Buffer.concat([iv, cipher.update(dataKey), cipher.final(), cipher.getAuthTag()]);
  }

  async unwrapKey(wrapped: Buffer, keyId: string): Promise<Buffer> {
    const decipher = createDecipheriv('aes-256-gcm', this.kek(), wrapped.subarray(0, IV_BYTES));
    decipher.setAAD(Buffer.from(`jipper-kek/1/${keyId}`));
    decipher.setAuthTag(wrapped.subarray(wrapped.length - TAG_BYTES));
    try {
      return Buffer.concat([decipher.update(wrapped.subarray(IV_BYTES, wrapped.length - TAG_BYTES)), decipher.final()]);
    } catch {
      throw new Error(`key "${keyId}" does not unwrap with the KEK of ${this.description}: another KEK wrapped it`);
    }
  }

  /** Reads the KEK (each time: a rotated KEK file is read at the next ring reload). */
  private kek(): Buffer {
    if (process.platform !== 'win32') {
      const mode = statSync(this.path).mode & 0o777;
      if (mode & 0o077) {
        throw new Error(
          `KEK file ${this.path} is accessible by group or others (mode ${mode.toString(8).padStart(4, '0')}): run \`chmod 600 ${this.path}\``
        );
      }
    }
    const key = Buffer.from(readFileSync(this.path, 'utf8').trim(), 'base64');
    if (key.length !== KEK_BYTES) throw new Error(`KEK file ${this.path}: must hold ${KEK_BYTES} bytes in base64`);
    return key;
  }
}

/** Writes a new random KEK file (0600) at `path`, unless one is there. Returns true when it wrote one. */
export function createKekFile(path: string): boolean {
  if (existsSync(path)) return false;
  writeFileSync(path, `${randomBytes(KEK_BYTES).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  return true;
}

const factories = new Map<string, KekProviderFactory>([
  [
    'file',
    (spec, baseDir) => {
      if (typeof spec.path !== 'string' || spec.path === '') throw new Error('kek.path: name the KEK file');
      return new FileKekProvider(isAbsolute(spec.path) ? spec.path : join(baseDir, spec.path));
    },
  ],
]);

/** Makes ring files whose `kek.provider` is `name` use `factory` (a KMS). `file` is built in. */
export function registerKekProvider(name: string, factory: KekProviderFactory): void {
  factories.set(name, factory);
}

/** The provider a ring file's `kek` object names. */
export function kekProviderFor(spec: KekSpec, baseDir: string): KeyEncryptionKeyProvider {
  const factory = factories.get(spec.provider);
  if (!factory) {
    throw new Error(
      `kek.provider: no provider "${spec.provider}" (known: ${[...factories.keys()].join(', ')}; register one with registerKekProvider)`
    );
  }
  return factory(spec, baseDir);
}
