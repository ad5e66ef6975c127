/**
 * Keys that hold when someone gets it wrong, without a server: a ciphertext is bound to its namespace (one copied
 * into another does not decrypt; payloads written before the binding still do); a ring file others may read is
 * refused with the `chmod` that fixes it; a ring file follows its file (a change, SIGHUP) without a restart and keeps
 * the ring it had when the file breaks; every key's encryptions are counted across processes and a key near AES-GCM's
 * limit is warned about; a worker's guard marks the plaintext that arrives for a workflow; required encryption is
 * one setting; decoded histories are written 0600.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Payload } from '@temporalio/common';
import { defaultPayloadConverter } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { writePrivate } from '../../src/cli/commands/history';
import { startCodecServer } from '../../src/codec/codec-server';
import { EncryptionCodec, PayloadDecryptError } from '../../src/codec/encryption-codec';
import { KEY_USAGE_WARN_AT } from '../../src/codec/key-usage';
import { kekProviderFor, registerKekProvider } from '../../src/codec/envelope';
import {
  FileKeyRing,
  addKey,
  addKeyToFile,
  generateKey,
  loadKeyRing,
  openKeyRing,
  parseInlineKeyRing,
  useKeyInFile,
  wrapKeyRingFile,
} from '../../src/codec/keyring';
import { PLAINTEXT_METADATA, PlaintextGuardCodec } from '../../src/codec/plaintext-guard';
import { loadConfig } from '../../src/config/config';
import { connectClient } from '../../src/config/connect';
import { PLAINTEXT_MARK } from '../../src/shared/plaintext';

const k1 = generateKey();
const json = (value: unknown): Payload => defaultPayloadConverter.toPayload(value);
const text = (bytes: Uint8Array | null | undefined): string => Buffer.from(bytes ?? []).toString('utf8');
const ringJson = (file: string) => JSON.parse(readFileSync(file, 'utf8')) as { keys: Record<string, unknown> };
const secret = { customer: 'acme-payroll-7', sizeMb: 64 };

let scratch: string;
beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'jipper-key-security-'));
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A payload in format 1 (key id as associated data, no namespace), as the codec wrote before namespaces were bound. */
function formatOnePayload(keyId: string, key: string, payload: Payload): Payload {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', Buffer.from(key, 'base64'), iv);
  cipher.setAAD(Buffer.from(`jipper-payload/1/${keyId}`));
  const raw = temporal.api.common.v1.Payload.encode(payload).finish();
  const sealed = Buffer.concat([cipher.update(Buffer.of(0)), cipher.update(raw), cipher.final()]);
  return {
    metadata: {
      encoding: Buffer.from('binary/encrypted'),
      'encryption-key-id': Buffer.from(keyId),
      'encryption-cipher': Buffer.from('AES-256-GCM/jipper-1'),
    },
    data: Buffer.concat([Buffer.of(1), iv, sealed, cipher.getAuthTag()]),
  };
}

describe('a ciphertext bound to its namespace', () => {
  const ring = parseInlineKeyRing(`k1:${k1}`, 'test');
  const context = (namespace: string) => ({ type: 'workflow' as const, namespace, workflowId: 'wf-1' });

  it('does not decrypt when copied into another namespace, with one line that says so', async () => {
    const codec = new EncryptionCodec(ring);
    const [sealed] = await codec.encode([json(secret)], context('team-a'));
    const [back] = await codec.decode([sealed as Payload], context('team-a'));
    expect(defaultPayloadConverter.fromPayload(back as Payload)).toEqual(secret);
    const copied = codec.decode([sealed as Payload], context('team-b'));
    await expect(copied).rejects.toThrow(PayloadDecryptError);
    await expect(copied).rejects.toThrow(
      /^a payload encrypted with key "k1" does not decrypt with that key in namespace team-b: it was encrypted for another namespace/
    );
  });

  it("takes the namespace from Temporal's context, else from its options", async () => {
    const [sealed] = await new EncryptionCodec(ring).encode([json(secret)], context('team-a'));
    const [back] = await new EncryptionCodec(ring, { namespace: 'team-a' }).decode([sealed as Payload]);
    expect(defaultPayloadConverter.fromPayload(back as Payload)).toEqual(secret);
    await expect(new EncryptionCodec(ring).decode([sealed as Payload])).rejects.toThrow('in namespace default');
  });

  it("pinned to a namespace, ignores the context's (a replay, which Temporal says is always of `default`)", async () => {
    const [sealed] = await new EncryptionCodec(ring).encode([json(secret)], context('team-a'));
    const pinned = new EncryptionCodec(ring, { namespace: 'team-a' }).pinnedTo();
    const [back] = await pinned.decode([sealed as Payload], context('default'));
    expect(defaultPayloadConverter.fromPayload(back as Payload)).toEqual(secret);
  });

  it('still decrypts payloads written before the binding (format 1), in any namespace', async () => {
    const old = formatOnePayload('k1', k1, json(secret));
    const [back] = await new EncryptionCodec(ring).decode([old], context('team-b'));
    expect(defaultPayloadConverter.fromPayload(back as Payload)).toEqual(secret);
  });
});

describe('a key ring file', () => {
  it('is refused when group or others may read it, with the chmod that fixes it', () => {
    const file = join(scratch, 'open.json');
    addKeyToFile(file, 'k1');
    for (const mode of [0o644, 0o640, 0o604]) {
      chmodSync(file, mode);
      expect(() => loadKeyRing({ JIPPER_ENCRYPTION_KEYS_FILE: file })).toThrow(
        `key ring file ${file} is accessible by group or others (mode 0${mode.toString(8)}): run \`chmod 600 ${file}\``
      );
    }
    chmodSync(file, 0o600);
    expect(loadKeyRing({ JIPPER_ENCRYPTION_KEYS_FILE: file })?.current).toBe('k1');
  });

  it('reloads when the file changes, without a restart: new payloads under the new key, old ones still read', async () => {
    const file = join(scratch, 'rotating.json');
    addKeyToFile(file, 'k1');
    const ring = loadKeyRing({ JIPPER_ENCRYPTION_KEYS_FILE: file }) as FileKeyRing;
    expect(ring).toBeInstanceOf(FileKeyRing);
    const codec = new EncryptionCodec(ring);
    const [before] = await codec.encode([json(secret)]);
    addKeyToFile(file, 'k2');
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const [after] = await codec.encode([json(secret)]);
    expect(text(before?.metadata?.['encryption-key-id'])).toBe('k1');
    expect(text(after?.metadata?.['encryption-key-id'])).toBe('k2');
    const decoded = await codec.decode([before as Payload, after as Payload]);
    expect(decoded.map((p) => defaultPayloadConverter.fromPayload(p))).toEqual([secret, secret]);
  });

  it('reloads on request at once, and keeps the ring it had when the file no longer reads', async () => {
    const file = join(scratch, 'hup.json');
    addKeyToFile(file, 'k1');
    const warnings: string[] = [];
    const ring = new FileKeyRing(file, (line) => warnings.push(line));
    addKeyToFile(file, 'k2');
    expect(await ring.reload()).toBe(true);
    expect(ring.current).toBe('k2');
    writeFileSync(file, '{ "current": "k3", ', { mode: 0o600 });
    expect(await ring.reload()).toBe(false);
    expect(ring.current).toBe('k2');
    expect([...ring.keys.keys()].sort()).toEqual(['k1', 'k2']);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(
      /^invalid key ring in .*: not JSON .*; keeping the key ring as it was \(current key "k2"\)$/
    );
  });
});

describe("the codec server's ring", () => {
  it('follows the ring file: a key added after it started decrypts, without a restart', async () => {
    const file = join(scratch, 'codec-server.json');
    addKeyToFile(file, 'k1');
    const server = await startCodecServer({ keyRing: new FileKeyRing(file), token: 'test-token-of-16-chars' });
    try {
      addKeyToFile(file, 'k2');
      const [sealed] = await new EncryptionCodec(await FileKeyRing.open(file)).encode([json(secret)]);
      const body = {
        payloads: [
          {
            metadata: Object.fromEntries(
              Object.entries(sealed?.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')])
            ),
            data: Buffer.from(sealed?.data ?? []).toString('base64'),
          },
        ],
      };
      await new Promise((resolve) => setTimeout(resolve, 1_100));
      const response = await fetch(`${server.url}/decode`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer test-token-of-16-chars' },
        body: JSON.stringify(body),
      });
      expect(response.status).toBe(200);
      const { payloads } = (await response.json()) as { payloads: { data: string }[] };
      expect(JSON.parse(Buffer.from(payloads[0]?.data ?? '', 'base64').toString('utf8'))).toEqual(secret);
    } finally {
      await server.close();
    }
  });
});

describe('envelope encryption: data keys wrapped by a key-encryption key', () => {
  it('wraps a ring file so it alone holds no key, and still decrypts what the ring encrypted', async () => {
    const file = join(scratch, 'envelope.json');
    const kekFile = join(scratch, 'kek.key');
    addKeyToFile(file, 'k1');
    const clear = loadKeyRing({ JIPPER_ENCRYPTION_KEYS_FILE: file }) as FileKeyRing;
    const k1Clear = clear.keys.get('k1')?.toString('base64') as string;
    const [sealed] = await new EncryptionCodec(clear).encode([json(secret)]);
    expect(await wrapKeyRingFile(file, kekFile)).toEqual(['k1']);
    const stored = readFileSync(file, 'utf8');
    expect(stored).not.toContain(k1Clear);
    expect(JSON.parse(stored)).toMatchObject({ current: 'k1', kek: { provider: 'file', path: 'kek.key' } });
    expect(statSync(kekFile).mode & 0o777).toBe(0o600);
    expect(() => loadKeyRing({ JIPPER_ENCRYPTION_KEYS_FILE: file })).toThrow(
      `JIPPER_ENCRYPTION_KEYS_FILE (${file}): its keys are wrapped by a key-encryption key (kek.provider "file"): load it with openKeyRing() or loadConfig()`
    );
    const opened = (await openKeyRing({ JIPPER_ENCRYPTION_KEYS_FILE: file })) as FileKeyRing;
    expect(opened.keys.get('k1')?.toString('base64')).toBe(k1Clear);
    const [back] = await new EncryptionCodec(opened).decode([sealed as Payload]);
    expect(defaultPayloadConverter.fromPayload(back as Payload)).toEqual(secret);
    const config = await loadConfig({ env: { JIPPER_ENCRYPTION_KEYS_FILE: file }, configFile: false });
    expect(config.keyRing?.keys.get('k1')?.toString('base64')).toBe(k1Clear);
  });

  it('adds and switches wrapped keys, the running ring following the file', async () => {
    const file = join(scratch, 'envelope-rotate.json');
    addKeyToFile(file, 'k1');
    await wrapKeyRingFile(file, join(scratch, 'kek-rotate.key'));
    const ring = await FileKeyRing.open(file);
    await addKey(file, 'k2', { keepCurrent: true });
    const wrappedK2 = (ringJson(file).keys.k2 as { wrapped: string }).wrapped;
    expect(wrappedK2).toMatch(/^[A-Za-z0-9+/]{40,}={0,2}$/);
    useKeyInFile(file, 'k2');
    expect(ringJson(file).keys.k2).toEqual({ wrapped: wrappedK2 });
    expect(await ring.reload()).toBe(true);
    expect(ring.current).toBe('k2');
    const codec = new EncryptionCodec(ring);
    const [sealed] = await codec.encode([json(secret)]);
    expect(text(sealed?.metadata?.['encryption-key-id'])).toBe('k2');
    expect(defaultPayloadConverter.fromPayload((await codec.decode([sealed as Payload]))[0] as Payload)).toEqual(
      secret
    );
  });

  it('says what is wrong with a key in either form', () => {
    const file = join(scratch, 'mixed.json');
    const kek = { provider: 'file', path: 'kek.key' };
    writeFileSync(file, JSON.stringify({ current: 'a', kek, keys: { a: { wrapped: '!' } } }), { mode: 0o600 });
    expect(() => loadKeyRing({ JIPPER_ENCRYPTION_KEYS_FILE: file })).toThrow(
      `invalid key ring in JIPPER_ENCRYPTION_KEYS_FILE (${file}): keys.a.wrapped: must be base64`
    );
    writeFileSync(file, JSON.stringify({ current: 'a', kek, keys: { a: { wrapped: 'AAAA' }, b: k1 } }), {
      mode: 0o600,
    });
    expect(() => loadKeyRing({ JIPPER_ENCRYPTION_KEYS_FILE: file })).toThrow(
      `invalid key ring in JIPPER_ENCRYPTION_KEYS_FILE (${file}): keys.b: must be { "wrapped": ... }: the ring has a "kek"`
    );
    writeFileSync(file, JSON.stringify({ current: 'a', keys: { a: 'c2hvcnQ=' } }), { mode: 0o600 });
    expect(() => loadKeyRing({ JIPPER_ENCRYPTION_KEYS_FILE: file })).toThrow(
      `invalid key ring in JIPPER_ENCRYPTION_KEYS_FILE (${file}): keys.a: must be 32 bytes (AES-256) in base64`
    );
  });

  it('refuses, in one line, keys wrapped by another KEK', async () => {
    const file = join(scratch, 'envelope-other.json');
    addKeyToFile(file, 'k1');
    await wrapKeyRingFile(file, join(scratch, 'kek-a.key'));
    const other = join(scratch, 'kek-b.key');
    writeFileSync(other, `${generateKey()}\n`, { mode: 0o600 });
    writeFileSync(file, JSON.stringify({ ...ringJson(file), kek: { provider: 'file', path: 'kek-b.key' } }), {
      mode: 0o600,
    });
    await expect(openKeyRing({ JIPPER_ENCRYPTION_KEYS_FILE: file })).rejects.toThrow(
      `invalid key ring in JIPPER_ENCRYPTION_KEYS_FILE (${file}): key "k1" does not unwrap with the KEK of file ${other}: another KEK wrapped it`
    );
  });

  it('takes any provider of the same two calls, as a KMS would be', async () => {
    // An in-process key service: the KEK never leaves it, the ring file names it by provider and key name.
    const service = new Map([['team-kek', randomBytes(32)]]);
    registerKekProvider('test-kms', (spec) => {
      const kek = service.get(String(spec.keyName)) as Buffer;
      return {
        description: `test-kms ${String(spec.keyName)}`,
        async wrapKey(dataKey, keyId) {
          const iv = randomBytes(12);
          const cipher = createCipheriv('aes-256-gcm', kek, iv).setAAD(Buffer.from(keyId));
          return Buffer.concat([iv, cipher.update(dataKey), cipher.final(), cipher.getAuthTag()]);
        },
        async unwrapKey(wrapped, keyId) {
          const decipher = createDecipheriv('aes-256-gcm', kek, wrapped.subarray(0, 12)).setAAD(Buffer.from(keyId));
          decipher.setAuthTag(wrapped.subarray(wrapped.length - 16));
          return Buffer.concat([decipher.update(wrapped.subarray(12, wrapped.length - 16)), decipher.final()]);
        },
      };
    });
    const file = join(scratch, 'kms.json');
    const kek = { provider: 'test-kms', keyName: 'team-kek' };
    const first = randomBytes(32);
    const wrapped = await kekProviderFor(kek, scratch).wrapKey(first, 'k0');
    const ring0 = { current: 'k0', kek, keys: { k0: { wrapped: wrapped.toString('base64') } } };
    writeFileSync(file, JSON.stringify(ring0), { mode: 0o600 });
    await addKey(file, 'k1');
    const ring = await FileKeyRing.open(file);
    expect(ring.keys.get('k0')?.equals(first)).toBe(true);
    expect(ring.current).toBe('k1');
    expect(ring.keys.get('k1')).toHaveLength(32);
  });
});

describe('encryptions counted per key', () => {
  it('sums every process that uses the ring file, and warns once when a key nears the 2^32 limit', async () => {
    const file = join(scratch, 'counted.json');
    addKeyToFile(file, 'k1');
    writeFileSync(`${file}.counts`, `k1 ${KEY_USAGE_WARN_AT - 3}\n`, { mode: 0o600 });
    const warnings: string[] = [];
    const one = new FileKeyRing(file, (line) => warnings.push(line));
    const two = new FileKeyRing(file, (line) => warnings.push(line));
    await new EncryptionCodec(one).encode([json(1), json(2)]);
    await new EncryptionCodec(two).encode([json(3)]);
    expect(warnings).toHaveLength(0);
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    void one.current; // flushes one's counts
    void two.current; // flushes two's, and reads one's back
    expect(two.encryptions('k1')).toBe(KEY_USAGE_WARN_AT);
    expect(warnings).toEqual([
      `key "k1" of JIPPER_ENCRYPTION_KEYS_FILE (${file}) has encrypted about ${KEY_USAGE_WARN_AT} payloads; AES-GCM with random nonces allows 4294967296 per key (NIST SP 800-38D): add a new key and make it current (jipper keys add, jipper keys use)`,
    ]);
    await new EncryptionCodec(two).encode([json(4)]);
    expect(warnings).toHaveLength(1);
    expect(statSync(`${file}.counts`).mode & 0o077).toBe(0);
  });
});

describe("a worker's plaintext guard", () => {
  const guard = new PlaintextGuardCodec();
  const workflow = { type: 'workflow' as const, namespace: 'default', workflowId: 'wf-1' };

  it("marks a workflow's plaintext payload, keeping its value for a replay", async () => {
    const [marked] = await guard.decode([json(secret)], workflow);
    expect(text(marked?.metadata?.[PLAINTEXT_METADATA])).toBe('json/plain');
    expect(defaultPayloadConverter.fromPayload(marked as Payload)).toEqual({
      [PLAINTEXT_MARK]: { encoding: 'json/plain', value: secret },
    });
  });

  it('lets encrypted payloads and activity payloads through as they are', async () => {
    const [sealed] = await new EncryptionCodec(parseInlineKeyRing(`k1:${k1}`, 'test')).encode([json(secret)]);
    expect(await guard.decode([sealed as Payload], workflow)).toEqual([sealed]);
    const activity = { type: 'activity' as const, namespace: 'default', isLocal: false };
    const plain = json(secret);
    expect(await guard.decode([plain], activity)).toEqual([plain]);
  });
});

describe('required encryption, one setting', () => {
  const load = (env: NodeJS.ProcessEnv, cwd?: string) =>
    loadConfig({ env, ...(cwd ? { cwd } : { configFile: false }) });

  it('is on wherever there is a key ring, and can be set in the environment or the config file', async () => {
    expect((await load({ JIPPER_ENCRYPTION_KEYS: `k1:${k1}` })).encryptionRequired).toBe(true);
    expect((await load({})).encryptionRequired).toBe(false);
    const off = await load({ JIPPER_ENCRYPTION_KEYS: `k1:${k1}`, JIPPER_ENCRYPTION_REQUIRED: 'false' });
    expect(off.encryptionRequired).toBe(false);
    const dir = mkdtempSync(join(scratch, 'project-'));
    writeFileSync(join(dir, 'jipper.config.json'), JSON.stringify({ encryption: { required: true } }));
    const fromFile = await load({}, dir);
    expect(fromFile.encryptionRequired).toBe(true);
    expect(fromFile.sources.encryptionRequired).toBe('jipper.config.json');
    await expect(load({ JIPPER_ENCRYPTION_REQUIRED: 'yes' })).rejects.toThrow(
      'invalid configuration: JIPPER_ENCRYPTION_REQUIRED: must be true, false, 1 or 0'
    );
  });

  it('keeps a client without a key ring from starting, in one line', async () => {
    const config = await load({ JIPPER_ENCRYPTION_REQUIRED: 'true', TEMPORAL_ADDRESS: '127.0.0.1:1' });
    await expect(connectClient(config)).rejects.toThrow(
      /^encryption is required for namespace default \(JIPPER_ENCRYPTION_REQUIRED\) but this client has no key ring: set JIPPER_ENCRYPTION_KEYS_FILE$/
    );
  });
});

describe('a decoded history file', () => {
  it('is written readable by its owner only, a file that was there before too', async () => {
    const fresh = join(scratch, 'fresh.json');
    await writePrivate(fresh, '{"plain":"text"}\n');
    expect(statSync(fresh).mode & 0o777).toBe(0o600);
    const existing = join(scratch, 'existing.json');
    writeFileSync(existing, 'old\n', { mode: 0o644 });
    chmodSync(existing, 0o644);
    await writePrivate(existing, '{"plain":"text"}\n');
    expect(statSync(existing).mode & 0o777).toBe(0o600);
    expect(readFileSync(existing, 'utf8')).toBe('{"plain":"text"}\n');
  });
});
