/**
 * Payload encryption, without a server: the AES-256-GCM codec round-trips every payload, hides its content, rotates
 * keys (new payloads under the current key, old ones still decrypt), names an unknown key, refuses altered data,
 * compresses when it pays; the key ring is read from the environment or a file with one-line errors.
 */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Payload } from '@temporalio/common';
import { defaultPayloadConverter } from '@temporalio/common';
import {
  CIPHER_METADATA,
  ENCRYPTED_ENCODING,
  EncryptionCodec,
  KEY_ID_METADATA,
  PayloadDecryptError,
  UnknownKeyError,
} from '../../src/codec/encryption-codec';
import type { KeyRing } from '../../src/codec/keyring';
import {
  KeyRingError,
  addKeyToFile,
  generateKey,
  loadKeyRing,
  parseInlineKeyRing,
  useKeyInFile,
} from '../../src/codec/keyring';
import { loadConfig } from '../../src/config/config';
import { ConfigError } from '../../src/config/errors';

const k1 = generateKey();
const k2 = generateKey();
const ring = (spec: string): KeyRing => parseInlineKeyRing(spec, 'test');
const text = (bytes: Uint8Array | null | undefined): string => Buffer.from(bytes ?? []).toString('utf8');
const json = (value: unknown): Payload => defaultPayloadConverter.toPayload(value);

describe('the encryption codec', () => {
  const report = { volume: 'customer-acme-vol-7', detail: 'allocated 64 MB for ACME Corp', sizeMb: 64 };

  it('encrypts a payload so nothing of it shows, and decrypts it back exactly', async () => {
    const codec = new EncryptionCodec(ring(`k1:${k1}`));
    const plain = json(report);
    const [encrypted] = await codec.encode([plain]);
    expect(text(encrypted?.metadata?.encoding)).toBe(ENCRYPTED_ENCODING);
    expect(text(encrypted?.metadata?.[KEY_ID_METADATA])).toBe('k1');
    expect(text(encrypted?.metadata?.[CIPHER_METADATA])).toBe('AES-256-GCM/jipper-2');
    expect(Object.keys(encrypted?.metadata ?? {}).sort()).toEqual(
      [CIPHER_METADATA, KEY_ID_METADATA, 'encoding'].sort()
    );
    const stored = Buffer.from(encrypted?.data ?? []).toString('latin1');
    for (const secret of ['customer-acme-vol-7', 'ACME', 'json/plain', 'volume']) expect(stored).not.toContain(secret);
    const [decoded] = await codec.decode([encrypted as Payload]);
    expect(text(decoded?.metadata?.encoding)).toBe('json/plain');
    expect(defaultPayloadConverter.fromPayload(decoded as Payload)).toEqual(report);
  });

  it('uses a fresh IV every time: the same payload never encrypts to the same bytes', async () => {
    const codec = new EncryptionCodec(ring(`k1:${k1}`));
    const [a, b] = await codec.encode([json(report), json(report)]);
    expect(Buffer.from(a?.data ?? []).equals(Buffer.from(b?.data ?? []))).toBe(false);
  });

  it('rotates: new payloads use the current key, payloads of the old key still decrypt', async () => {
    const before = new EncryptionCodec(ring(`k1:${k1}`));
    const [old] = await before.encode([json('made under k1')]);
    const after = new EncryptionCodec(ring(`k2:${k2},k1:${k1}`));
    const [fresh] = await after.encode([json('made under k2')]);
    expect(text(fresh?.metadata?.[KEY_ID_METADATA])).toBe('k2');
    const [oldBack, freshBack] = await after.decode([old as Payload, fresh as Payload]);
    expect(defaultPayloadConverter.fromPayload(oldBack as Payload)).toBe('made under k1');
    expect(defaultPayloadConverter.fromPayload(freshBack as Payload)).toBe('made under k2');
  });

  it('names the key id when a payload is under a key the ring does not hold', async () => {
    const [under2] = await new EncryptionCodec(ring(`k2:${k2}`)).encode([json(report)]);
    const attempt = new EncryptionCodec(ring(`k1:${k1}`)).decode([under2 as Payload]);
    await expect(attempt).rejects.toBeInstanceOf(UnknownKeyError);
    await expect(attempt).rejects.toThrow(
      'a payload is encrypted with key "k2", which is not in the key ring of test (it has "k1"); add that key to decrypt it'
    );
  });

  it('refuses altered data, and a different key under the same id', async () => {
    const codec = new EncryptionCodec(ring(`k1:${k1}`));
    const [encrypted] = await codec.encode([json(report)]);
    const data = Buffer.from(encrypted?.data ?? []);
    data[20] = (data[20] as number) ^ 1;
    await expect(codec.decode([{ ...encrypted, data }])).rejects.toBeInstanceOf(PayloadDecryptError);
    const impostor = new EncryptionCodec(ring(`k1:${k2}`));
    await expect(impostor.decode([encrypted as Payload])).rejects.toThrow(/does not decrypt with that key/);
    // The key id is authenticated: relabelling a payload as another key's fails too.
    const relabelled = { ...encrypted, metadata: { ...encrypted?.metadata, [KEY_ID_METADATA]: Buffer.from('k2') } };
    const both = new EncryptionCodec(ring(`k1:${k1},k2:${k1}`));
    await expect(both.decode([relabelled])).rejects.toBeInstanceOf(PayloadDecryptError);
  });

  it('leaves payloads that are not encrypted as they are (runs from before encryption was turned on)', async () => {
    const plain = json(report);
    const [decoded] = await new EncryptionCodec(ring(`k1:${k1}`)).decode([plain]);
    expect(decoded).toBe(plain);
  });

  it('compresses before encrypting when that pays, and only then', async () => {
    const codec = new EncryptionCodec(ring(`k1:${k1}`));
    const rows = Array.from({ length: 200 }, (_, i) => ({ step: `step-${i}`, status: 'succeeded', attempts: 1 }));
    const big = json({ jobs: rows });
    const [bigEncrypted] = await codec.encode([big]);
    expect(codec.stats.compressed).toBe(1);
    expect(bigEncrypted?.data?.length).toBeLessThan((big.data?.length ?? 0) / 4);
    const [back] = await codec.decode([bigEncrypted as Payload]);
    expect(defaultPayloadConverter.fromPayload(back as Payload)).toEqual({ jobs: rows });

    const small = json('vol-1');
    const [smallEncrypted] = await codec.encode([small]);
    expect(codec.stats.compressed).toBe(1);
    // Version, IV and tag, one format byte, and the payload's protobuf framing: a small fixed overhead.
    expect((smallEncrypted?.data?.length ?? 0) - (small.data?.length ?? 0)).toBeLessThan(60);
  });
});

describe('the key ring', () => {
  let scratch: string;
  beforeAll(() => (scratch = mkdtempSync(join(tmpdir(), 'jipper-keys-'))));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it('reads JIPPER_ENCRYPTION_KEYS: the first key is current', () => {
    const keyRing = loadKeyRing({ JIPPER_ENCRYPTION_KEYS: `new:${k2}, old:${k1}` });
    expect(keyRing?.current).toBe('new');
    expect([...(keyRing?.keys.keys() ?? [])]).toEqual(['new', 'old']);
    expect(keyRing?.keys.get('old')?.toString('base64')).toBe(k1);
  });

  it('is absent when nothing is configured, and refuses two sources', () => {
    expect(loadKeyRing({})).toBeUndefined();
    expect(() =>
      loadKeyRing({ JIPPER_ENCRYPTION_KEYS: `a:${k1}`, JIPPER_ENCRYPTION_KEYS_FILE: join(scratch, 'x.json') })
    ).toThrow('invalid key ring settings: set JIPPER_ENCRYPTION_KEYS or JIPPER_ENCRYPTION_KEYS_FILE, not both');
  });

  it('lists every bad key on one line, never the key material', () => {
    const short = Buffer.alloc(16, 7).toString('base64');
    let error: unknown;
    try {
      loadKeyRing({ JIPPER_ENCRYPTION_KEYS: `good:${k1},short:${short},bad id:${k2},nocolon` });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(KeyRingError);
    const message = (error as Error).message;
    expect(message.split('\n')).toHaveLength(1);
    expect(message).toContain('key "short": must be 32 bytes (AES-256) in base64');
    expect(message).toContain('key 3: a key id is 1-64 letters, digits');
    expect(message).toContain('key 4: expected id:base64key');
    expect(message).not.toContain(short);
    expect(message).not.toContain(k2);
  });

  it('makes and rotates a key ring file (owner-only), and reads it back', () => {
    const file = join(scratch, 'keys.json');
    const first = addKeyToFile(file, 'first');
    expect(statSync(file).mode & 0o077).toBe(0);
    const second = addKeyToFile(file);
    expect(second).toMatch(/^k\d{8}-[0-9a-f]{4}$/);
    const keyRing = loadKeyRing({ JIPPER_ENCRYPTION_KEYS_FILE: file });
    expect(keyRing?.current).toBe(second);
    expect([...(keyRing?.keys.keys() ?? [])].sort()).toEqual([first, second].sort());
    expect(keyRing?.source).toBe(`JIPPER_ENCRYPTION_KEYS_FILE (${file})`);
    expect(() => addKeyToFile(file, 'first')).toThrow(`${file} already has a key "first"`);
    // A rotation without a gap: add the next key everywhere first, keep encrypting with the current one, then switch.
    addKeyToFile(file, 'third', { keepCurrent: true });
    expect(loadKeyRing({ JIPPER_ENCRYPTION_KEYS_FILE: file })?.current).toBe(second);
    useKeyInFile(file, 'third');
    expect(loadKeyRing({ JIPPER_ENCRYPTION_KEYS_FILE: file })?.current).toBe('third');
    expect(() => useKeyInFile(file, 'fourth')).toThrow(`${file} has no key "fourth"`);
  });

  it('names the file and what is wrong with it', () => {
    const file = join(scratch, 'bad.json');
    writeFileSync(file, JSON.stringify({ current: 'gone', keys: { a: k1 } }), { mode: 0o600 });
    expect(() => loadKeyRing({ JIPPER_ENCRYPTION_KEYS_FILE: file })).toThrow(
      `invalid key ring in JIPPER_ENCRYPTION_KEYS_FILE (${file}): current: names a key that is not in "keys"`
    );
    expect(() => loadKeyRing({ JIPPER_ENCRYPTION_KEYS_FILE: join(scratch, 'missing.json') })).toThrow(
      /no such file \(create one with `jipper keys add <file>`\)$/
    );
    expect(readFileSync(file, 'utf8')).toContain('gone');
  });

  it('turns the configuration into an encrypting data converter, and bad keys into a ConfigError', async () => {
    const load = (env: NodeJS.ProcessEnv) => loadConfig({ env, configFile: false });
    const config = await load({ JIPPER_ENCRYPTION_KEYS: `k1:${k1}` });
    expect(config.keyRing?.current).toBe('k1');
    expect(config.dataConverter?.payloadCodecs?.[0]).toBeInstanceOf(EncryptionCodec);
    expect(config.dataConverter?.failureConverterPath).toMatch(/codec[/\\]failure-converter\.(ts|js)$/);
    expect((await load({})).dataConverter).toBeUndefined();
    await expect(load({ JIPPER_ENCRYPTION_KEYS: 'k1:nope' })).rejects.toThrow(ConfigError);
  });
});
