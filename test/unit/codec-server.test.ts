/**
 * The codec server over real HTTP(S) on loopback (no Temporal server): the protocol's paths and namespace, empty
 * payload lists, the limits (refused by Content-Length before the body is read, streamed bodies cut off, too many
 * payloads refused before parsing), access (static token, JWTs from a JWKS issuer on loopback with per-namespace
 * permissions, no listening beyond loopback without either), `/encode` off unless asked, and HTTPS.
 * The `temporal` CLI and a real server: test/integration/codec-cli.test.ts.
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect } from 'node:net';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Payload } from '@temporalio/common';
import { defaultPayloadConverter } from '@temporalio/common';
import type { CodecServer, CodecServerOptions } from '../../src/codec/codec-server';
import { startCodecServer } from '../../src/codec/codec-server';
import { EncryptionCodec } from '../../src/codec/encryption-codec';
import { generateKey, parseInlineKeyRing } from '../../src/codec/keyring';
import { makeCertificates } from '../support/certificates';
import type { ApiKeyIssuer } from '../support/tls-server';
import { startApiKeyIssuer } from '../support/tls-server';

const keyRing = parseInlineKeyRing(`k1:${generateKey()}`, 'test');
const codec = new EncryptionCodec(keyRing);
const TOKEN = 'a-static-token-of-32-characters!';

function wire(p: Payload): { metadata: Record<string, string>; data: string } {
  const metadata: Record<string, string> = {};
  for (const [k, v] of Object.entries(p.metadata ?? {})) if (v) metadata[k] = Buffer.from(v).toString('base64');
  return { metadata, data: Buffer.from(p.data ?? []).toString('base64') };
}

const secretReport = { volume: 'customer-acme-vol-7', note: 'codec marker 5f1e' };
const encrypted = wire(codec.encodeOne(defaultPayloadConverter.toPayload(secretReport)));

interface Answer {
  status: number;
  body: string;
  headers: Record<string, string | string[] | undefined>;
}

function post(url: string, body: string | undefined, headers: Record<string, string> = {}, ca?: string) {
  return new Promise<Answer>((resolveAnswer, reject) => {
    const send = url.startsWith('https') ? httpsRequest : httpRequest;
    const req = send(url, { method: body === undefined ? 'GET' : 'POST', headers, ...(ca ? { ca } : {}) }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolveAnswer({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString(), headers: res.headers })
      );
    });
    req.on('error', reject);
    req.end(body);
  });
}

const message = (answer: Answer): string => (JSON.parse(answer.body) as { message: string }).message;

function decoded(answer: Answer): unknown[] {
  expect(answer.status).toBe(200);
  const { payloads } = JSON.parse(answer.body) as { payloads: { metadata: Record<string, string>; data: string }[] };
  return payloads.map((p) =>
    defaultPayloadConverter.fromPayload({
      metadata: Object.fromEntries(Object.entries(p.metadata).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
      data: Buffer.from(p.data, 'base64'),
    })
  );
}

const servers: CodecServer[] = [];
async function serve(options: Partial<CodecServerOptions> = {}): Promise<CodecServer> {
  const server = await startCodecServer({ keyRing, ...options });
  servers.push(server);
  return server;
}
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

describe('the codec server protocol', () => {
  it('decodes at /decode, /{namespace}/decode and any prefix: only the final segment is read', async () => {
    const server = await serve();
    const body = JSON.stringify({ payloads: [encrypted] });
    for (const path of ['/decode', '/default/decode', '/some/prefix/default/decode', '/default/decode?x=1']) {
      expect(decoded(await post(`${server.url}${path}`, body))).toEqual([secretReport]);
    }
    expect((await post(`${server.url}/default/decoder`, body)).status).toBe(404);
  });

  it("decodes a payload for the request's namespace (the path or X-Namespace), which its ciphertext is bound to", async () => {
    const server = await serve();
    const billing = JSON.stringify({
      payloads: [wire(codec.encodeOne(defaultPayloadConverter.toPayload(secretReport), 'billing'))],
    });
    expect(decoded(await post(`${server.url}/billing/decode`, billing))).toEqual([secretReport]);
    expect(decoded(await post(`${server.url}/decode`, billing, { 'X-Namespace': 'billing' }))).toEqual([secretReport]);
    expect((await post(`${server.url}/default/decode`, billing)).status).toBe(400);
  });

  it('answers an empty payload list, {} and an empty body with {"payloads":[]}', async () => {
    const server = await serve();
    for (const body of ['{}', '{"payloads":[]}', '{"payloads":null}', '']) {
      const answer = await post(`${server.url}/default/decode`, body);
      expect([answer.status, answer.body]).toEqual([200, '{"payloads":[]}']);
    }
  });

  it('says in one line what is wrong with a malformed request', async () => {
    const server = await serve();
    const answer = await post(`${server.url}/decode`, '{"payloads":[{"data":5}]}');
    expect(answer.status).toBe(400);
    expect(message(answer)).toMatch(/^expected \{ payloads: \[\.\.\.\] \}: payloads\.0\.data: /);
    expect((await post(`${server.url}/decode`, '{"payl')).status).toBe(400);
    // A misspelt list is an error, not an empty request.
    const misspelt = await post(`${server.url}/decode`, '{"payload":[]}');
    expect([misspelt.status, message(misspelt)]).toEqual([
      400,
      'expected { payloads: [...] }: (body): Unrecognized key: "payload"',
    ]);
  });

  it('keeps /encode off unless asked for, and then encodes what it decodes back', async () => {
    const plain = JSON.stringify({ payloads: [wire(defaultPayloadConverter.toPayload(secretReport))] });
    const closed = await serve();
    const refused = await post(`${closed.url}/default/encode`, plain);
    expect(refused.status).toBe(403);
    expect(refused.body).not.toContain(Buffer.from('codec marker').toString('base64').slice(0, 12));
    const open = await serve({ allowEncode: true });
    const answer = await post(`${open.url}/default/encode`, plain);
    expect(answer.status).toBe(200);
    expect(Buffer.from(answer.body).toString()).not.toContain('codec marker');
    expect(decoded(await post(`${open.url}/default/decode`, answer.body))).toEqual([secretReport]);
  });
});

/** Sends the headers of a POST announcing `bytes` and 10 bytes of it; resolves with all the server says before closing. */
function announce(port: number, bytes: number, headers = ''): Promise<string> {
  const socket = connect(port, '127.0.0.1');
  return new Promise<string>((resolveReply, reject) => {
    let text = '';
    socket.on('data', (c: Buffer) => (text += c.toString()));
    socket.on('close', () => resolveReply(text));
    socket.on('error', reject);
    // The answer cannot wait for the rest: it never comes.
    socket.write(`POST /default/decode HTTP/1.1\r\nHost: x\r\n${headers}Content-Length: ${bytes}\r\n\r\n{"payloads`);
  });
}

describe('the codec server limits', () => {
  it('refuses a body over the limit by its Content-Length, before reading it', async () => {
    const server = await serve();
    const started = Date.now();
    const reply = await announce(server.port, 314_572_800);
    expect(reply).toMatch(/^HTTP\/1\.1 413 /);
    expect(reply).toContain('request body over 4194304 bytes');
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('cuts off a streamed body (no Content-Length) once it passes the limit', async () => {
    const server = await serve({ limits: { maxBodyBytes: 64 * 1024 } });
    const answer = await new Promise<number>((resolveAnswer, reject) => {
      const req = httpRequest(`${server.url}/decode`, { method: 'POST' }, (res) => resolveAnswer(res.statusCode ?? 0));
      req.on('error', reject);
      let sent = 0;
      const more = (): void => {
        // Keeps streaming until the server answers: it must not wait for an end that is 100 MB away.
        if (sent > 100 * 1024 * 1024 || req.destroyed) return void req.end();
        sent += 16 * 1024;
        if (req.write('x'.repeat(16 * 1024))) setImmediate(more);
        else req.once('drain', more);
      };
      more();
    });
    expect(answer).toBe(413);
  });

  it('refuses more payloads than allowed before parsing them: a million {} is not a million objects', async () => {
    const server = await serve();
    const body = `{"payloads":[${Array.from({ length: 1_000_000 }, () => '{}').join(',')}]}`;
    const started = Date.now();
    const answer = await post(`${server.url}/decode`, body);
    expect([answer.status, message(answer)]).toEqual([413, 'more than 1000 payloads in one request']);
    expect(Date.now() - started).toBeLessThan(1000);
    const deep = await post(`${server.url}/decode`, `{"payloads":[${'['.repeat(1_000_000)}`);
    expect([deep.status, message(deep)]).toEqual([413, 'more than 1000 payloads in one request']);
  });

  it('caps the bytes one answer decodes to', async () => {
    const server = await serve({ limits: { maxOutputBytes: 10_000 } });
    const big = wire(codec.encodeOne(defaultPayloadConverter.toPayload('y'.repeat(20_000))));
    const answer = await post(`${server.url}/decode`, JSON.stringify({ payloads: [big] }));
    expect(answer.status).toBe(413);
    expect(message(answer)).toMatch(/decode to more than 10000 bytes/);
  });
});

describe('the codec server access', () => {
  let issuer: ApiKeyIssuer;
  beforeAll(async () => {
    issuer = await startApiKeyIssuer();
  });
  afterAll(async () => {
    await issuer.close();
  });

  it('refuses to listen beyond loopback without authentication', async () => {
    await expect(startCodecServer({ keyRing, host: '0.0.0.0' })).rejects.toThrow(
      /^the codec server would listen on 0\.0\.0\.0 without authentication/
    );
    const server = await serve({ host: '0.0.0.0', token: TOKEN });
    expect(server.url).toMatch(/^http:\/\/0\.0\.0\.0:\d+$/);
  });

  it('refuses an unauthenticated request without reading its body, and closes the connection', async () => {
    const server = await serve({ token: TOKEN });
    const reply = await announce(server.port, 1_000_000);
    expect(reply).toMatch(/^HTTP\/1\.1 401 /);
    expect(reply).toMatch(/\r\nConnection: close\r\n/i);
  });

  it('with a token, decodes only for requests that carry it', async () => {
    const server = await serve({ token: TOKEN });
    const body = JSON.stringify({ payloads: [encrypted] });
    const none = await post(`${server.url}/default/decode`, body);
    expect([none.status, none.headers['www-authenticate']]).toEqual([401, 'Bearer']);
    expect(none.body).not.toContain('customer-acme');
    expect((await post(`${server.url}/default/decode`, body, { Authorization: 'Bearer wrong-token' })).status).toBe(
      401
    );
    const right = await post(`${server.url}/default/decode`, body, { Authorization: `Bearer ${TOKEN}` });
    expect(decoded(right)).toEqual([secretReport]);
  });

  it("verifies the Web UI's forwarded JWT against the JWKS and authorizes per namespace", async () => {
    const server = await serve({ jwt: { jwksUrl: issuer.jwksUrl }, allowEncode: true });
    const body = JSON.stringify({ payloads: [encrypted] });
    const as = (token: string, ns?: string) => ({
      Authorization: `Bearer ${token}`,
      ...(ns ? { 'X-Namespace': ns } : {}),
    });
    const reader = issuer.issue(['default:read']);
    expect(decoded(await post(`${server.url}/default/decode`, body, as(reader)))).toEqual([secretReport]);
    // X-Namespace wins over the path, as the UI and CLI send it.
    expect(decoded(await post(`${server.url}/decode`, body, as(reader, 'default')))).toEqual([secretReport]);
    const other = await post(`${server.url}/billing/decode`, body, as(reader));
    expect([other.status, message(other)]).toEqual([403, 'the token does not allow decode in namespace "billing"']);
    expect((await post(`${server.url}/decode`, body, as(reader))).status).toBe(403);
    expect((await post(`${server.url}/default/encode`, body, as(reader))).status).toBe(403);
    expect((await post(`${server.url}/default/encode`, '{}', as(issuer.issue(['default:write'])))).status).toBe(200);
    const billing = { payloads: [wire(codec.encodeOne(defaultPayloadConverter.toPayload(secretReport), 'billing'))] };
    const admin = as(issuer.issue(['system:admin']));
    expect(decoded(await post(`${server.url}/billing/decode`, JSON.stringify(billing), admin))).toEqual([secretReport]);
    const forged = await post(
      `${server.url}/default/decode`,
      body,
      as(issuer.issue(['default:admin'], issuer.strangerKey))
    );
    expect(forged.status).toBe(401);
    expect(message(forged)).toMatch(/^the bearer token is not valid: /);
  });

  it('serves HTTPS with a certificate and key', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'jipper-codec-tls-'));
    try {
      const certs = await makeCertificates(dir);
      const server = await serve({
        tls: { cert: readFileSync(certs.server.cert), key: readFileSync(certs.server.key) },
        token: TOKEN,
      });
      expect(server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      const answer = await post(
        `${server.url}/default/decode`,
        JSON.stringify({ payloads: [encrypted] }),
        { Authorization: `Bearer ${TOKEN}` },
        readFileSync(certs.ca, 'utf8')
      );
      expect(decoded(answer)).toEqual([secretReport]);
      await expect(post(`${server.url.replace('https', 'http')}/decode`, '{}')).rejects.toThrow();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
