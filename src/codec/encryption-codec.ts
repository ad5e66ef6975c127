/**
 * Payload encryption: a Temporal `PayloadCodec` that encrypts every payload (job inputs and results, details, the
 * report, memo, summaries, failure messages) with AES-256-GCM from Node's crypto before it leaves the process, and
 * decrypts it on the way in. Client, worker, every `jipper` command, `jipper/testing` and the codec server for the
 * Web UI use the same codec, built from the same key ring.
 *
 * An encrypted payload keeps in plaintext only what decrypting it needs: `encoding: binary/encrypted`, the key id and
 * the cipher. Its data is `version (1 byte) · IV (12) · ciphertext · GCM tag (16)`; the ciphertext is the original
 * payload (its metadata and data, as protobuf), deflated first when that makes it at least a tenth smaller. The key
 * id and the namespace are authenticated with the data (AES-GCM associated data), so a payload cannot be passed off
 * as another key's, nor copied into another namespace. The namespace is the one Temporal's serialization context
 * names (client, worker and activities pass it), else the codec's own (`{ namespace }`, from the configuration).
 * Payloads are not bound to their workflow id: the Web UI's codec requests name no workflow, and a scheduled run's
 * id differs from the id its arguments were encoded for.
 *
 * Format versions: 1 (written before namespaces were bound: key id only) still decrypts; 2 is written now.
 *
 * Decoding leaves payloads that are not encrypted as they are; a worker that requires encryption puts the plaintext
 * guard after this codec (`plaintext-guard.ts`), which refuses them for new runs and replays old ones as they ran.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type { Payload, PayloadCodec, SerializationContext } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import type { KeyRing } from './keyring';

/** The `encoding` metadata of an encrypted payload (the value Temporal's samples and codec servers use). */
export const ENCRYPTED_ENCODING = 'binary/encrypted';
/** Metadata key naming the key a payload is encrypted with. */
export const KEY_ID_METADATA = 'encryption-key-id';
/** Metadata key naming the cipher (and Jipper's format version). */
export const CIPHER_METADATA = 'encryption-cipher';
export const CIPHER = 'AES-256-GCM/jipper-2';

/** The format written now: the namespace is associated data. Version 1 (key id only) still decrypts. */
const FORMAT_VERSION = 2;
const FORMAT_V1 = 1;
/** The namespace of a codec that is told none (neither by Temporal's context nor by its options). */
export const DEFAULT_NAMESPACE = 'default';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const RAW = 0;
const DEFLATED = 1;

/** Payloads smaller than this are never compressed: deflate rarely wins on them. */
export const COMPRESS_MIN_BYTES = 128;

const PayloadProto = temporal.api.common.v1.Payload;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A payload is encrypted with a key this key ring does not hold. The message names the key id. */
export class UnknownKeyError extends Error {
  override readonly name = 'UnknownKeyError';
  constructor(
    readonly keyId: string,
    ring: KeyRing
  ) {
    super(
      `a payload is encrypted with key "${keyId}", which is not in the key ring of ${ring.source} (it has ${[...ring.keys.keys()].map((id) => `"${id}"`).join(', ')}); add that key to decrypt it`
    );
  }
}

/** A payload is encrypted and the process reading it has no key ring at all. The message names the key id. */
export class NoKeyRingError extends Error {
  override readonly name = 'NoKeyRingError';
  constructor(
    readonly keyId: string,
    reader = 'this process'
  ) {
    super(
      `a payload is encrypted with key "${keyId}" and ${reader} has no key ring: set JIPPER_ENCRYPTION_KEYS or JIPPER_ENCRYPTION_KEYS_FILE to a key ring with that key`
    );
  }
}

/**
 * The codec of a worker without a key ring: payloads pass as they are, except an encrypted one, which fails to decode
 * with a {@link NoKeyRingError} naming its key (instead of the payload converter's `Unknown encoding:
 * binary/encrypted`). A workflow task that meets one fails and is retried, as with a key missing from a ring.
 */
export class NoKeyRingCodec implements PayloadCodec {
  constructor(private readonly reader = 'this worker') {}

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads;
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    for (const payload of payloads) {
      if (isEncrypted(payload)) throw new NoKeyRingError(keyIdOf(payload) ?? '(none named)', this.reader);
    }
    return payloads;
  }
}

/** The key id an encrypted payload names, if any. */
export function keyIdOf(payload: Payload): string | undefined {
  const idBytes = payload.metadata?.[KEY_ID_METADATA];
  return idBytes ? decoder.decode(idBytes) : undefined;
}

/**
 * Why payloads cannot be decrypted with `keyRing` (undefined: none configured), in one line naming the key id and the
 * ring; undefined when every encrypted payload's key is in the ring.
 */
export function missingKeyProblem(
  payloads: Iterable<Payload>,
  keyRing: KeyRing | undefined,
  reader?: string
): string | undefined {
  for (const payload of payloads) {
    if (!isEncrypted(payload)) continue;
    const keyId = keyIdOf(payload) ?? '(none named)';
    if (!keyRing) return new NoKeyRingError(keyId, reader).message;
    if (!keyRing.keys.has(keyId)) return new UnknownKeyError(keyId, keyRing).message;
  }
  return undefined;
}

/** A payload is marked encrypted but does not decrypt: corrupted, or not made by this codec. */
export class PayloadDecryptError extends Error {
  override readonly name = 'PayloadDecryptError';
}

/** Counts of what the codec did, for benchmarks and logs. */
export interface CodecStats {
  encoded: number;
  compressed: number;
  decoded: number;
  plainBytes: number;
  encodedBytes: number;
}

export interface EncryptionCodecOptions {
  /**
   * The namespace payloads are bound to when Temporal's serialization context names none (the codec server, history
   * files, benchmarks). Default {@link DEFAULT_NAMESPACE}.
   */
  namespace?: string;
  /**
   * Bind to `namespace` whatever Temporal's context says. For replays: Temporal's replayer tells codecs that every
   * history is of namespace `default`. Default false.
   */
  pinned?: boolean;
}

export class EncryptionCodec implements PayloadCodec {
  readonly stats: CodecStats = { encoded: 0, compressed: 0, decoded: 0, plainBytes: 0, encodedBytes: 0 };
  /** The namespace payloads are bound to when the context names none. */
  readonly namespace: string;

  private readonly pinned: boolean;

  constructor(
    readonly keyRing: KeyRing,
    options: EncryptionCodecOptions = {}
  ) {
    this.namespace = options.namespace ?? DEFAULT_NAMESPACE;
    this.pinned = options.pinned ?? false;
  }

  /** This codec's key ring, bound to `namespace` whatever the context says (see {@link EncryptionCodecOptions.pinned}). */
  pinnedTo(namespace: string = this.namespace): EncryptionCodec {
    return new EncryptionCodec(this.keyRing, { namespace, pinned: true });
  }

  async encode(payloads: Payload[], context?: SerializationContext): Promise<Payload[]> {
    const namespace = this.namespaceOf(context);
    return payloads.map((payload) => this.encodeOne(payload, namespace));
  }

  async decode(payloads: Payload[], context?: SerializationContext): Promise<Payload[]> {
    const namespace = this.namespaceOf(context);
    return payloads.map((payload) => this.decodeOne(payload, namespace));
  }

  private namespaceOf(context: SerializationContext | undefined): string {
    return this.pinned ? this.namespace : (context?.namespace ?? this.namespace);
  }

  /** Encrypts one payload with the current key, bound to `namespace`. */
  encodeOne(payload: Payload, namespace: string = this.namespace): Payload {
    const keyId = this.keyRing.current;
    const key = this.keyRing.keys.get(keyId) as Buffer;
    const raw = PayloadProto.encode(payload).finish();
    let body: Uint8Array = raw;
    let format = RAW;
    if (raw.length >= COMPRESS_MIN_BYTES) {
      const deflated = deflateRawSync(raw);
      if (deflated.length * 10 <= raw.length * 9) {
        body = deflated;
        format = DEFLATED;
      }
    }
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(additionalData(FORMAT_VERSION, keyId, namespace));
    const sealed = Buffer.concat([cipher.update(Buffer.of(format)), cipher.update(body), cipher.final()]);
    const data = Buffer.concat([Buffer.of(FORMAT_VERSION), iv, sealed, cipher.getAuthTag()]);
    this.stats.encoded += 1;
    this.keyRing.recordEncryption?.(keyId);
    if (format === DEFLATED) this.stats.compressed += 1;
    this.stats.plainBytes += raw.length;
    this.stats.encodedBytes += data.length;
    return {
      metadata: {
        encoding: encoder.encode(ENCRYPTED_ENCODING),
        [KEY_ID_METADATA]: encoder.encode(keyId),
        [CIPHER_METADATA]: encoder.encode(CIPHER),
      },
      data,
    };
  }

  /** Decrypts one payload bound to `namespace`; one that is not encrypted is returned as it is. */
  decodeOne(payload: Payload, namespace: string = this.namespace): Payload {
    const encoding = payload.metadata?.encoding;
    if (!encoding || decoder.decode(encoding) !== ENCRYPTED_ENCODING) return payload;
    const idBytes = payload.metadata?.[KEY_ID_METADATA];
    if (!idBytes) throw new PayloadDecryptError(`an encrypted payload names no key (no ${KEY_ID_METADATA} metadata)`);
    const keyId = decoder.decode(idBytes);
    const key = this.keyRing.keys.get(keyId);
    if (!key) throw new UnknownKeyError(keyId, this.keyRing);
    const data = Buffer.from(payload.data ?? new Uint8Array());
    const version = data[0];
    if (data.length < 1 + IV_BYTES + TAG_BYTES + 1 || (version !== FORMAT_VERSION && version !== FORMAT_V1)) {
      throw new PayloadDecryptError(`a payload encrypted with key "${keyId}" is not in a format this codec knows`);
    }
    const iv = data.subarray(1, 1 + IV_BYTES);
    const tag = data.subarray(data.length - TAG_BYTES);
    const decipher = createDecipheriv('aes-256-gcm', key, iv);
    decipher.setAAD(additionalData(version, keyId, namespace));
    decipher.setAuthTag(tag);
    let plain: Buffer;
    try {
      plain = Buffer.concat([decipher.update(data.subarray(1 + IV_BYTES, data.length - TAG_BYTES)), decipher.final()]);
    } catch {
      throw new PayloadDecryptError(
        `a payload encrypted with key "${keyId}" does not decrypt with that key in namespace ${namespace}: it was encrypted for another namespace, altered, or the key with that id is not the one it was encrypted with`
      );
    }
    const body = plain.subarray(1);
    const raw = plain[0] === DEFLATED ? inflateRawSync(body) : body;
    this.stats.decoded += 1;
    const decoded = PayloadProto.decode(raw);
    return { metadata: decoded.metadata, data: decoded.data };
  }
}

/** What each ciphertext is bound to: the format, the key id and (from version 2) the namespace. */
function additionalData(version: number, keyId: string, namespace: string): Buffer {
  return Buffer.from(
    version === FORMAT_V1 ? `jipper-payload/1/${keyId}` : `jipper-payload/${version}/${keyId}/${namespace}`
  );
}

/** True when a payload is one this codec encrypted (whatever the key). */
export function isEncrypted(payload: Payload): boolean {
  const encoding = payload.metadata?.encoding;
  return encoding !== undefined && encoding !== null && decoder.decode(encoding) === ENCRYPTED_ENCODING;
}
