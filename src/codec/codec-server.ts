/**
 * A codec server: Temporal's remote codec protocol over HTTP(S), so the Web UI and the `temporal` CLI (which have no
 * keys) show decrypted payloads. `POST …/decode` and `POST …/encode` take and return `{ "payloads": [...] }`, each
 * payload `{ "metadata": { key: base64 }, "data": base64 }`.
 *
 * - Only the final path segment is read (`/decode`, `/{namespace}/decode`, `/any/prefix/decode`), as the protocol
 *   says; the namespace is the `X-Namespace` header, else the segment before it. A request without payloads (`{}`,
 *   or an empty body) is answered `{"payloads":[]}`.
 * - `/encode` answers 403 unless `allowEncode` is set: whoever can encode can forge payloads workers will trust.
 * - Access (`codec-auth.ts`): a static bearer token, and/or a JWT verified against a JWKS with per-namespace
 *   permissions (the Web UI forwards its user's access token). Without either it listens on loopback only.
 * - Limits (`codec-limits.ts`): body size (by `Content-Length` before reading), payloads and decoded bytes per
 *   request, work done in slices between which other requests are served, a few requests at once.
 * - CORS: a browser may call it only from the listed origins (the Web UI's); preflights are answered for them, with
 *   credentials allowed (the UI's "include credentials" setting).
 * - HTTPS when given a certificate and key (`tls`).
 *
 * ```ts
 * const server = await startCodecServer({ keyRing, port: 8234, origins: ['http://127.0.0.1:8233'] });
 * // temporal server start-dev --ui-codec-endpoint http://127.0.0.1:8234
 * await server.close();
 * ```
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Payload } from '@temporalio/common';
import { z } from 'zod';
import type { LogLine } from '../shared/text';
import { oneLine } from '../shared/text';
import type { CodecAccess, CodecJwtOptions } from './codec-auth';
import { codecAuthenticator, isLoopback, requiresAuth } from './codec-auth';
import type { CodecLimits } from './codec-limits';
import { DEFAULT_CODEC_LIMITS, Gate, LimitError, checkShape, mapInSlices, readLimitedBody } from './codec-limits';
import { EncryptionCodec } from './encryption-codec';
import type { KeyRing } from './keyring';

/** The codec server's port unless told otherwise: next to the embedded dev server's Web UI (8233). */
export const DEFAULT_CODEC_PORT = 8234;

/** The codec endpoint `jipper dev` serves for a Web UI on `uiPort`: on the port after it. */
export function codecEndpointFor(uiPort: number, host = '127.0.0.1'): string {
  return `http://${host}:${uiPort + 1}`;
}

/** The largest request body accepted by default (see {@link CodecLimits}). */
export const MAX_CODEC_REQUEST_BYTES = DEFAULT_CODEC_LIMITS.maxBodyBytes;

export interface CodecServerOptions {
  keyRing: KeyRing;
  /** Port; `0` picks a free one. Default 0. */
  port?: number;
  /**
   * Address to listen on. Default `127.0.0.1`: not reachable from other machines. Any other address needs `token` or
   * `jwt` (refused otherwise: whoever reaches the server reads every payload).
   */
  host?: string;
  /** Origins a browser may call from (the Web UI's, e.g. `http://127.0.0.1:8233`). Default: none. */
  origins?: readonly string[];
  /** When set, requests may authenticate with `Authorization: Bearer <token>` (at least 16 characters). */
  token?: string;
  /** When set, requests may authenticate with a JWT the JWKS verifies, its permissions naming namespaces. */
  jwt?: CodecJwtOptions;
  /** Serve `/encode` too. Default false: encoding answers 403. */
  allowEncode?: boolean;
  /** Serve HTTPS with this certificate and key (PEM). Default: plain HTTP. */
  tls?: { cert: string | Buffer; key: string | Buffer };
  /** What one request may cost; see {@link CodecLimits}. */
  limits?: Partial<CodecLimits>;
  /** One line per refused or failed request. Default: silent. */
  log?: LogLine;
}

export interface CodecServer {
  /** `http(s)://host:port`: the endpoint to give the Web UI (`--ui-codec-endpoint`) or the CLI (`--codec-endpoint`). */
  url: string;
  port: number;
  close(): Promise<void>;
}

// Strict at the top: a misspelt `payload` is an error, not an empty request.
const requestSchema = z
  .strictObject({
    payloads: z
      .array(
        z.object({
          metadata: z.record(z.string(), z.string()).nullish(),
          data: z.string().nullish(),
        })
      )
      .nullish(),
  })
  .nullish();

type JsonPayload = NonNullable<NonNullable<z.infer<typeof requestSchema>>['payloads']>[number];

function fromJson(payload: JsonPayload): Payload {
  const metadata: Record<string, Uint8Array> = {};
  for (const [key, value] of Object.entries(payload.metadata ?? {})) metadata[key] = Buffer.from(value, 'base64');
  return { metadata, data: Buffer.from(payload.data ?? '', 'base64') };
}

function toJson(payload: Payload): string {
  const metadata: Record<string, string> = {};
  for (const [key, value] of Object.entries(payload.metadata ?? {})) {
    if (value) metadata[key] = Buffer.from(value).toString('base64');
  }
  return JSON.stringify({ metadata, data: Buffer.from(payload.data ?? new Uint8Array()).toString('base64') });
}

function payloadBytes(payload: Payload): number {
  let size = payload.data?.length ?? 0;
  for (const value of Object.values(payload.metadata ?? {})) size += value?.length ?? 0;
  return size;
}

/** What a request asks for: the final path segment, and the namespace (the `X-Namespace` header, else the segment before). */
export function codecRoute(
  url: string | undefined,
  headers: IncomingMessage['headers']
): { op: CodecAccess | undefined; namespace: string | undefined } {
  const segments = (url ?? '/').split('?')[0]?.split('/').filter(Boolean) ?? [];
  const last = segments[segments.length - 1];
  const op = last === 'decode' || last === 'encode' ? last : undefined;
  const header = headers['x-namespace'];
  const fromHeader = Array.isArray(header) ? header[0] : header;
  const before = segments.length >= 2 ? segments[segments.length - 2] : undefined;
  let namespace = fromHeader || undefined;
  if (namespace === undefined && before !== undefined) {
    try {
      namespace = decodeURIComponent(before);
    } catch {
      namespace = before;
    }
  }
  return { op, namespace };
}

function send(res: ServerResponse, status: number, body: unknown): void {
  // Refused before its body was read: close the connection rather than read (and drop) a body of any size.
  if (status >= 400 && !res.req.complete) res.setHeader('Connection', 'close');
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(body));
}

/** Answers CORS for a browser request; false when its origin is not allowed (answered 403). */
function cors(req: IncomingMessage, res: ServerResponse, origins: ReadonlySet<string>, log: LogLine): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  if (!origins.has(origin)) {
    log(`codec server: refused a request from origin ${origin} (allowed: ${[...origins].join(', ') || 'none'})`);
    send(res, 403, { message: `origin ${origin} is not allowed` });
    return false;
  }
  res.setHeader('Access-Control-Allow-Origin', origin);
  res.setHeader('Access-Control-Allow-Credentials', 'true');
  res.setHeader('Vary', 'Origin');
  return true;
}

function preflight(req: IncomingMessage, res: ServerResponse): void {
  res.setHeader('Access-Control-Allow-Methods', 'POST, OPTIONS');
  res.setHeader('Access-Control-Allow-Headers', 'Content-Type, X-Namespace, Authorization, Caller-Type');
  res.setHeader('Access-Control-Max-Age', '600');
  if (req.headers['access-control-request-private-network'] === 'true') {
    res.setHeader('Access-Control-Allow-Private-Network', 'true');
  }
  res.writeHead(204);
  res.end();
}

/** The payloads of a request body; throws a {@link LimitError} 400/413 saying what is wrong. */
function parsePayloads(body: string, limits: CodecLimits): Payload[] {
  if (body.trim() === '') return [];
  checkShape(body, limits.maxPayloads);
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch (err) {
    throw new LimitError(400, `not JSON: ${oneLine(err)}`);
  }
  const result = requestSchema.safeParse(json);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new LimitError(400, `expected { payloads: [...] }: ${issue?.path.join('.') || '(body)'}: ${issue?.message}`);
  }
  const payloads = result.data?.payloads ?? [];
  if (payloads.length > limits.maxPayloads) {
    throw new LimitError(413, `more than ${limits.maxPayloads} payloads in one request`);
  }
  return payloads.map(fromJson);
}

/** Writes `{"payloads":[...]}` a payload at a time, yielding between slices. */
async function sendPayloads(res: ServerResponse, payloads: readonly Payload[]): Promise<void> {
  res.writeHead(200, { 'Content-Type': 'application/json' });
  res.write('{"payloads":[');
  let written = 0;
  for (const [i, payload] of payloads.entries()) {
    res.write(i === 0 ? toJson(payload) : `,${toJson(payload)}`);
    written += payloadBytes(payload);
    if (written > 512 * 1024) {
      written = 0;
      await new Promise((resolveTurn) => setImmediate(resolveTurn));
    }
  }
  res.end(']}');
}

/** The request handler: CORS, routing, access, limits, then the codec. */
function codecHandler(options: CodecServerOptions): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const codec = new EncryptionCodec(options.keyRing);
  const origins = new Set(options.origins ?? []);
  const log = options.log ?? (() => undefined);
  const limits: CodecLimits = { ...DEFAULT_CODEC_LIMITS, ...options.limits };
  const gate = new Gate(limits.concurrency, limits.queue);
  const authenticate = codecAuthenticator(options);
  return async (req, res) => {
    if (!cors(req, res, origins, log)) return;
    if (req.method === 'OPTIONS') return preflight(req, res);
    const { op, namespace } = codecRoute(req.url, req.headers);
    if (req.method === 'GET' && (req.url ?? '/').split('?')[0] === '/') {
      return send(res, 200, { service: 'jipper codec server' });
    }
    if (req.method !== 'POST' || op === undefined) return send(res, 404, { message: 'POST …/encode or …/decode' });
    const verdict = await authenticate(req.headers.authorization, namespace, op);
    if (!verdict.ok) {
      log(
        `codec server: refused a /${op} request${namespace ? ` for namespace ${namespace}` : ''}: ${verdict.message}`
      );
      if (verdict.status === 401) res.setHeader('WWW-Authenticate', 'Bearer');
      return send(res, verdict.status, { message: verdict.message });
    }
    if (op === 'encode' && !options.allowEncode) {
      return send(res, 403, { message: 'encoding is off on this codec server (start it with --allow-encode)' });
    }
    await gate.enter();
    try {
      const payloads = parsePayloads(await readLimitedBody(req, limits.maxBodyBytes), limits);
      // Ciphertexts are bound to their namespace (AES-GCM associated data): the request's, else `default`.
      const ns = namespace ?? 'default';
      const out = await mapInSlices(
        payloads,
        (p) => (op === 'encode' ? codec.encodeOne(p, ns) : codec.decodeOne(p, ns)),
        {
          of: payloadBytes,
          out: payloadBytes,
          maxOutputBytes: limits.maxOutputBytes,
        }
      );
      await sendPayloads(res, out);
    } finally {
      gate.leave();
    }
  };
}

/** Answers a request that failed: a limit (and closes the connection when the body was not read), or a codec error. */
function failed(req: IncomingMessage, res: ServerResponse, err: unknown, log: LogLine): void {
  if (res.headersSent) return void res.destroy();
  if (err instanceof LimitError) {
    log(`codec server: refused a request: ${err.message}`);
    if (err.status === 503) res.setHeader('Retry-After', '1');
    send(res, err.status, { message: err.message });
    if (err.status === 413) res.once('finish', () => req.destroy());
    return;
  }
  log(`codec server: ${oneLine(err)}`);
  send(res, 400, { message: oneLine(err) });
}

/** Starts a codec server; see {@link CodecServerOptions}. Resolves once it listens. */
export async function startCodecServer(options: CodecServerOptions): Promise<CodecServer> {
  const host = options.host ?? '127.0.0.1';
  if (!isLoopback(host) && !requiresAuth(options)) {
    throw new Error(
      `the codec server would listen on ${host} without authentication, and whoever reaches it reads every payload: set a token (JIPPER_CODEC_TOKEN) or a JWKS (--jwks-url), or listen on 127.0.0.1`
    );
  }
  const log = options.log ?? (() => undefined);
  const handle = codecHandler(options);
  const listener = (req: IncomingMessage, res: ServerResponse): void => {
    handle(req, res).catch((err: unknown) => failed(req, res, err, log));
  };
  const server = options.tls ? createHttpsServer({ ...options.tls }, listener) : createServer(listener);
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolveListen();
    });
  });
  const { port, address } = server.address() as AddressInfo;
  const shown = address.includes(':') ? `[${address}]` : address;
  return {
    url: `${options.tls ? 'https' : 'http'}://${shown}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolveClose) => {
        server.close(() => resolveClose());
        server.closeAllConnections();
      }),
  };
}
