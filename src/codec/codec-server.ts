/**
 * A codec server: Temporal's remote codec protocol over HTTP, so the Web UI and the `temporal` CLI (which have no
 * keys) show decrypted payloads. `POST /decode` and `POST /encode` take and return `{ "payloads": [...] }`, each
 * payload `{ "metadata": { key: base64 }, "data": base64 }`.
 *
 * - CORS: a browser may call it only from the listed origins (the Web UI's); preflights are answered for them, with
 *   credentials allowed (the UI's "include credentials" setting).
 * - An optional bearer token: when set, every request must carry `Authorization: Bearer <token>` (the UI sends its
 *   access token when told to; the CLI sends `--codec-auth`).
 * - Listens on 127.0.0.1 unless told otherwise: whoever reaches it can read every payload.
 *
 * ```ts
 * const server = await startCodecServer({ keyRing, port: 8234, origins: ['http://127.0.0.1:8233'] });
 * // temporal server start-dev --ui-codec-endpoint http://127.0.0.1:8234
 * await server.close();
 * ```
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Payload } from '@temporalio/common';
import { z } from 'zod';
import type { LogLine } from '../shared/text';
import { oneLine } from '../shared/text';
import { EncryptionCodec } from './encryption-codec';
import type { KeyRing } from './keyring';

/** The codec server's port unless told otherwise: next to the embedded dev server's Web UI (8233). */
export const DEFAULT_CODEC_PORT = 8234;

/** The codec endpoint `jipper dev` serves for a Web UI on `uiPort`: on the port after it. */
export function codecEndpointFor(uiPort: number, host = '127.0.0.1'): string {
  return `http://${host}:${uiPort + 1}`;
}

/** The largest request body accepted: a batch of payloads near Temporal's 2 MB limit each, in base64. */
export const MAX_CODEC_REQUEST_BYTES = 16 * 1024 * 1024;

export interface CodecServerOptions {
  keyRing: KeyRing;
  /** Port; `0` picks a free one. Default 0. */
  port?: number;
  /** Address to listen on. Default `127.0.0.1`: not reachable from other machines. */
  host?: string;
  /** Origins a browser may call from (the Web UI's, e.g. `http://127.0.0.1:8233`). Default: none. */
  origins?: readonly string[];
  /** When set, requests must send `Authorization: Bearer <token>`. */
  token?: string;
  /** One line per refused or failed request. Default: silent. */
  log?: LogLine;
}

export interface CodecServer {
  /** `http://host:port`: the endpoint to give the Web UI (`--ui-codec-endpoint`) or the CLI (`--codec-endpoint`). */
  url: string;
  port: number;
  close(): Promise<void>;
}

const requestSchema = z.object({
  payloads: z.array(
    z.object({
      metadata: z.record(z.string(), z.string()).nullish(),
      data: z.string().nullish(),
    })
  ),
});

type JsonPayload = { metadata?: Record<string, string>; data?: string };

function fromJson(payload: z.infer<typeof requestSchema>['payloads'][number]): Payload {
  const metadata: Record<string, Uint8Array> = {};
  for (const [key, value] of Object.entries(payload.metadata ?? {})) metadata[key] = Buffer.from(value, 'base64');
  return { metadata, data: Buffer.from(payload.data ?? '', 'base64') };
}

function toJson(payload: Payload): JsonPayload {
  const metadata: Record<string, string> = {};
  for (const [key, value] of Object.entries(payload.metadata ?? {})) {
    if (value) metadata[key] = Buffer.from(value).toString('base64');
  }
  return { metadata, data: Buffer.from(payload.data ?? new Uint8Array()).toString('base64') };
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/** Starts a codec server; see {@link CodecServerOptions}. Resolves once it listens. */
export async function startCodecServer(options: CodecServerOptions): Promise<CodecServer> {
  const codec = new EncryptionCodec(options.keyRing);
  const origins = new Set(options.origins ?? []);
  const log = options.log ?? (() => undefined);
  const wanted = options.token === undefined ? undefined : digest(`Bearer ${options.token}`);

  const send = (res: ServerResponse, status: number, body: unknown): void => {
    res.writeHead(status, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(body));
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const origin = req.headers.origin;
    if (origin !== undefined) {
      if (!origins.has(origin)) {
        log(`codec server: refused a request from origin ${origin} (allowed: ${[...origins].join(', ') || 'none'})`);
        return send(res, 403, { message: `origin ${origin} is not allowed` });
      }
      res.setHeader('Access-Control-Allow-Origin', origin);
      res.setHeader('Access-Control-Allow-Credentials', 'true');
      res.setHeader('Vary', 'Origin');
    }
    if (req.method === 'OPTIONS') {
      res.setHeader('Access-Control-Allow-Methods', 'POST, OPTIONS');
      res.setHeader('Access-Control-Allow-Headers', 'Content-Type, X-Namespace, Authorization');
      res.setHeader('Access-Control-Max-Age', '600');
      if (req.headers['access-control-request-private-network'] === 'true') {
        res.setHeader('Access-Control-Allow-Private-Network', 'true');
      }
      res.writeHead(204);
      return void res.end();
    }
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && path === '/') return send(res, 200, { service: 'jipper codec server' });
    if (req.method !== 'POST' || (path !== '/encode' && path !== '/decode')) {
      return send(res, 404, { message: 'POST /encode or /decode' });
    }
    if (wanted !== undefined) {
      const given = req.headers.authorization;
      if (given === undefined || !timingSafeEqual(digest(given), wanted)) {
        log(`codec server: refused a ${path} request without the right bearer token`);
        res.setHeader('WWW-Authenticate', 'Bearer');
        return send(res, 401, { message: 'a bearer token is required' });
      }
    }
    const body = await readBody(req);
    if (body === undefined) return send(res, 413, { message: `request body over ${MAX_CODEC_REQUEST_BYTES} bytes` });
    let parsed: z.infer<typeof requestSchema>;
    try {
      const result = requestSchema.safeParse(JSON.parse(body));
      if (!result.success) {
        const issue = result.error.issues[0];
        return send(res, 400, { message: `expected { payloads: [...] }: ${issue?.path.join('.')}: ${issue?.message}` });
      }
      parsed = result.data;
    } catch (err) {
      return send(res, 400, { message: `not JSON: ${oneLine(err)}` });
    }
    try {
      const payloads = parsed.payloads.map(fromJson);
      const out = path === '/encode' ? await codec.encode(payloads) : await codec.decode(payloads);
      return send(res, 200, { payloads: out.map(toJson) });
    } catch (err) {
      log(`codec server: ${path} failed: ${oneLine(err)}`);
      return send(res, 400, { message: oneLine(err) });
    }
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      log(`codec server: ${oneLine(err)}`);
      if (!res.headersSent) send(res, 500, { message: 'internal error' });
      else res.end();
    });
  });
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolveListen();
    });
  });
  const { port, address } = server.address() as AddressInfo;
  const host = address.includes(':') ? `[${address}]` : address;
  return {
    url: `http://${host}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolveClose) => {
        server.close(() => resolveClose());
        server.closeAllConnections();
      }),
  };
}

/** The request body as text, or `undefined` when it is over {@link MAX_CODEC_REQUEST_BYTES}. */
function readBody(req: IncomingMessage): Promise<string | undefined> {
  return new Promise((resolveBody, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_CODEC_REQUEST_BYTES) tooLarge = true;
      else chunks.push(chunk);
    });
    req.once('end', () => resolveBody(tooLarge ? undefined : Buffer.concat(chunks).toString('utf8')));
    req.once('error', reject);
  });
}
