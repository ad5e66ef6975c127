/**
 * The callback server: an HTTP endpoint a system that holds a job's completion token (a payment provider's webhook, a
 * person's form) calls to complete or fail the job, without a Temporal client of its own.
 *
 * - `POST /complete` `{ "token": "jc1.…", "result": <JSON>, "detail"?: "…" }`: the job succeeds with `result`.
 * - `POST /fail` `{ "token": "jc1.…", "message": "…", "retry"?: false }`: the job fails; its process unwinds.
 * - `POST /heartbeat` `{ "token": "jc1.…", "details"?: <JSON> }`: keeps a job with a heartbeat timeout alive; answers
 *   `{ "ok": true, "cancelRequested": bool, … }`; when `cancelRequested`, stop and say so:
 * - `POST /cancelled` `{ "token": "jc1.…" }`: the job stopped because its process asked to cancel it.
 *
 * A success answers `{ "ok": true, "processId", "stepId", "job", "attempt" }`. Every answer is JSON; an error is `{ "error": "<one line>" }` with 400 (a malformed body or token), 401 (no or a
 * wrong bearer token), 404 (an unknown path, or no job awaits the token), 411/413 (no Content-Length, a body over
 * {@link MAX_CALLBACK_BODY_BYTES}, refused before it is read) or 502 (the Temporal server failed). It listens on
 * 127.0.0.1 unless told otherwise, and refuses to listen beyond loopback without a bearer token: whoever can call it
 * with a token settles jobs.
 *
 * ```ts
 * const server = await startCallbackServer({ client, port: 8235, token: process.env.JIPPER_CALLBACK_TOKEN });
 * // curl -H "Authorization: Bearer $JIPPER_CALLBACK_TOKEN" -d '{"token":"jc1...","result":{"ok":true}}' http://127.0.0.1:8235/complete
 * await server.close();
 * ```
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Client } from '@temporalio/client';
import { z } from 'zod';
import { isLoopbackHost } from '../config/address';
import { ConfigError } from '../config/errors';
import { MAX_JOB_RESULT_BYTES } from '../shared/limits';
import type { LogLine } from '../shared/text';
import { oneLine } from '../shared/text';
import type { SettledJob } from './callbacks';
import { completeJob, failJob, heartbeatJob, reportJobCancelled } from './callbacks';

/** The callback server's port unless told otherwise: after the codec server's (8234). */
export const DEFAULT_CALLBACK_PORT = 8235;

/** The largest request body accepted: a job's largest result, with room for the token and the JSON around it. */
export const MAX_CALLBACK_BODY_BYTES = MAX_JOB_RESULT_BYTES + 32 * 1024;

/** The shortest bearer token accepted. */
export const MIN_CALLBACK_TOKEN_CHARS = 16;

export interface CallbackServerOptions {
  /** The client jobs are completed through (its namespace and data converter are used). */
  client: Client;
  /** Port; `0` picks a free one. Default 0. */
  port?: number;
  /** Address to listen on. Default `127.0.0.1`. Anything but loopback needs a {@link token}. */
  host?: string;
  /** When set, every request must send `Authorization: Bearer <token>`; at least 16 characters. */
  token?: string;
  /** One line per refused or failed request. Default: silent. */
  log?: LogLine;
}

export interface CallbackServer {
  /** `http://host:port` */
  url: string;
  port: number;
  close(): Promise<void>;
}

const tokenField = z.string({ error: 'expected the completion token as a string' }).min(1, 'expected a token');
const bodies = {
  '/complete': z.strictObject({ token: tokenField, result: z.unknown(), detail: z.string().optional() }),
  '/fail': z.strictObject({ token: tokenField, message: z.string(), retry: z.boolean().optional() }),
  '/heartbeat': z.strictObject({ token: tokenField, details: z.unknown() }),
  '/cancelled': z.strictObject({ token: tokenField }),
} as const;
type Path = keyof typeof bodies;

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string
  ) {
    super(message);
  }
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/** The bearer token's checker: a constant-time comparison of digests. */
function authorizer(token: string | undefined): (req: IncomingMessage) => boolean {
  if (token === undefined) return () => true;
  const wanted = digest(`Bearer ${token}`);
  return (req) => {
    const given = req.headers.authorization;
    return given !== undefined && timingSafeEqual(digest(given), wanted);
  };
}

/** Checks the options before anything listens; a {@link ConfigError} says what is wrong. */
function checkOptions(options: CallbackServerOptions): void {
  const host = options.host ?? '127.0.0.1';
  if (options.token !== undefined && options.token.length < MIN_CALLBACK_TOKEN_CHARS) {
    throw new ConfigError(`the callback server's bearer token must be at least ${MIN_CALLBACK_TOKEN_CHARS} characters`);
  }
  if (options.token === undefined && !isLoopbackHost(host)) {
    throw new ConfigError(
      `the callback server listens on ${host} only with a bearer token (JIPPER_CALLBACK_TOKEN or --token-file): whoever reaches it settles jobs`
    );
  }
}

/** Starts a callback server; see the module comment. Resolves once it listens. */
export async function startCallbackServer(options: CallbackServerOptions): Promise<CallbackServer> {
  checkOptions(options);
  const log = options.log ?? (() => undefined);
  const authorized = authorizer(options.token);
  const send = (res: ServerResponse, status: number, body: unknown): void => {
    res.writeHead(status, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (req.method === 'GET' && path === '/') return send(res, 200, { service: 'jipper callback server' });
    if (req.method !== 'POST' || !Object.hasOwn(bodies, path)) {
      throw new HttpError(404, 'POST /complete, /fail, /heartbeat or /cancelled');
    }
    if (!authorized(req)) {
      res.setHeader('WWW-Authenticate', 'Bearer');
      throw new HttpError(401, 'a bearer token is required (Authorization: Bearer <token>)');
    }
    const body = parseBody(path as Path, await readBody(req));
    return send(res, 200, { ok: true, ...(await settle(options.client, body)) });
  };
  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      const [status, message] = errorAnswer(err);
      log(`callback server: ${req.method} ${req.url}: ${status} ${message}`);
      if (status === 413 || status === 411) res.setHeader('Connection', 'close');
      if (!res.headersSent) send(res, status, { error: message });
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

type Body = { [P in Path]: { path: P } & z.infer<(typeof bodies)[P]> }[Path];

function parseBody(path: Path, text: string): Body {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new HttpError(400, `the body is not JSON: ${oneLine(err)}`);
  }
  const parsed = bodies[path].safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new HttpError(400, `${issue?.path.join('.') || 'body'}: ${issue?.message ?? 'invalid'}`);
  }
  return { path, ...parsed.data } as Body;
}

async function settle(client: Client, body: Body): Promise<SettledJob & { cancelRequested?: boolean }> {
  switch (body.path) {
    case '/complete':
      return completeJob(client, body.token, body.result, body.detail !== undefined ? { detail: body.detail } : {});
    case '/fail':
      return failJob(client, body.token, body.message, body.retry !== undefined ? { retry: body.retry } : {});
    case '/heartbeat':
      return heartbeatJob(client, body.token, body.details);
    case '/cancelled':
      return reportJobCancelled(client, body.token);
  }
}

/** The status and one line an error is answered with. */
function errorAnswer(err: unknown): [number, string] {
  if (err instanceof HttpError) return [err.status, err.message];
  const name = (err as { name?: unknown } | null)?.name;
  if (name === 'CompletionTokenError') {
    return [(err as Error & { reason?: string }).reason === 'unknown' ? 404 : 400, oneLine(err)];
  }
  if (name === 'CompletionInputError') return [400, oneLine(err)];
  return [502, `the Temporal server did not take it: ${oneLine(err)}`];
}

/**
 * The request body as text. Its Content-Length is checked before anything is read: none is a 411, one over
 * {@link MAX_CALLBACK_BODY_BYTES} a 413; a body longer than it said is cut off with a 413 too.
 */
function readBody(req: IncomingMessage): Promise<string> {
  const declared = req.headers['content-length'];
  if (declared === undefined) return Promise.reject(new HttpError(411, 'a Content-Length header is required'));
  const length = Number(declared);
  if (!Number.isInteger(length) || length > MAX_CALLBACK_BODY_BYTES) {
    return Promise.reject(new HttpError(413, `the body may be at most ${MAX_CALLBACK_BODY_BYTES} bytes`));
  }
  return new Promise((resolveBody, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > length) {
        reject(new HttpError(413, `the body is longer than its Content-Length (${length} bytes)`));
        req.destroy();
      } else chunks.push(chunk);
    });
    req.once('end', () => resolveBody(Buffer.concat(chunks).toString('utf8')));
    req.once('error', reject);
  });
}
