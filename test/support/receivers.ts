/**
 * Real receivers for the hook tests, on loopback: an HTTP webhook receiver that checks Jipper's signature the way
 * docs/notifications.md tells a receiver to, and deduplicates by the idempotency key; and an SMTP server
 * (`smtp-server`) with TLS and auth that keeps every message it accepts.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

/** What a receiver checks, as docs/notifications.md says: HMAC-SHA256 over `<timestamp>.<body>`, fresh timestamp. */
export function verifySignature(
  key: string,
  headers: Record<string, string | string[] | undefined>,
  body: string,
  nowSeconds = Date.now() / 1000
): boolean {
  const timestamp = String(headers['x-jipper-timestamp'] ?? '');
  const signature = String(headers['x-jipper-signature'] ?? '');
  if (!/^\d+$/.test(timestamp) || Math.abs(nowSeconds - Number(timestamp)) > 300) return false;
  const expected = `sha256=${createHmac('sha256', key).update(`${timestamp}.${body}`).digest('hex')}`;
  return signature.length === expected.length && timingSafeEqual(Buffer.from(signature), Buffer.from(expected));
}

export interface Delivery {
  key: string;
  body: unknown;
  at: number;
}

export interface WebhookReceiver {
  url: string;
  port: number;
  /** Every request, in order of arrival (duplicates included). */
  requests: { key: string; verified: boolean; at: number }[];
  /** What it processed: one per idempotency key. */
  deliveries: Delivery[];
  /** Makes the receiver hold (never answer) the next `n` requests. */
  hold(n: number): void;
  /** Answers every request with this status from now on (default 200). */
  answer(status: number): void;
  close(): Promise<void>;
}

/** Starts a webhook receiver on loopback (`port` 0: any free port). */
export async function startReceiver(key: string, port = 0): Promise<WebhookReceiver> {
  const requests: WebhookReceiver['requests'] = [];
  const deliveries: Delivery[] = [];
  let holding = 0;
  let status = 200;
  const held: ServerResponse[] = [];
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const idempotencyKey = String(req.headers['idempotency-key'] ?? '');
      const verified = verifySignature(key, req.headers, raw);
      requests.push({ key: idempotencyKey, verified, at: Date.now() });
      if (holding > 0) {
        holding -= 1;
        held.push(res);
        return;
      }
      if (!verified) {
        res.writeHead(401).end('bad signature');
        return;
      }
      if (status === 200 && !deliveries.some((d) => d.key === idempotencyKey)) {
        deliveries.push({ key: idempotencyKey, body: JSON.parse(raw) as unknown, at: Date.now() });
      }
      res.writeHead(status).end(status === 200 ? 'ok' : 'no');
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const bound = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${bound}/hooks/jipper`,
    port: bound,
    requests,
    deliveries,
    hold: (n) => (holding = n),
    answer: (s) => (status = s),
    close: () =>
      new Promise((resolve) => {
        for (const res of held) res.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A loopback port nothing listens on (it was free a moment ago). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface Mail {
  from: string;
  to: string[];
  user: string | undefined;
  secure: boolean;
  headers: Record<string, string>;
  /** The decoded text/plain and text/html parts. */
  text: string;
  html: string;
}

/** Decodes quoted-printable (what nodemailer uses for long text lines). */
function unquote(text: string): string {
  const bytes = text
    .replace(/=\r?\n/g, '')
    .replace(/=([0-9A-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
  return Buffer.from(bytes, 'latin1').toString('utf8');
}

/** Decodes RFC 2047 encoded words (`=?UTF-8?Q?...?=`) in a header. */
function decodeWords(value: string): string {
  return value
    .replace(/\?=\s+=\?/g, '?==?')
    .replace(/=\?UTF-8\?([QB])\?([^?]*)\?=/gi, (_, kind: string, text: string) =>
      kind.toUpperCase() === 'B' ? Buffer.from(text, 'base64').toString('utf8') : unquote(text.replace(/_/g, ' '))
    );
}

/** The text/plain and text/html parts of a raw message (multipart/alternative, or a single part). */
function parts(raw: string): { headers: Record<string, string>; text: string; html: string } {
  const [head = '', ...rest] = raw.split(/\r\n\r\n/);
  const headers: Record<string, string> = {};
  for (const line of head.replace(/\r\n[ \t]+/g, ' ').split('\r\n')) {
    const i = line.indexOf(':');
    if (i > 0) headers[line.slice(0, i).toLowerCase()] = decodeWords(line.slice(i + 1).trim());
  }
  const body = rest.join('\r\n\r\n');
  const boundary = /boundary="?([^";]+)"?/.exec(headers['content-type'] ?? '')?.[1];
  const sections = boundary ? body.split(`--${boundary}`) : [`Content-Type: ${headers['content-type']}\r\n\r\n${body}`];
  let text = '';
  let html = '';
  for (const section of sections) {
    const [partHead = '', ...partBody] = section.replace(/^\r\n/, '').split(/\r\n\r\n/);
    const content = partBody.join('\r\n\r\n');
    const decoded = /quoted-printable/i.test(partHead) ? unquote(content) : content;
    if (/text\/plain/i.test(partHead)) text = decoded;
    if (/text\/html/i.test(partHead)) html = decoded;
  }
  return { headers, text, html };
}

export interface MailServer {
  port: number;
  mails: Mail[];
  close(): Promise<void>;
}

/** An SMTP server with TLS from the first byte (`key`/`cert` PEM) and PLAIN/LOGIN auth of `user`/`pass`. */
export async function startMailServer(
  tls: { key: string; cert: string },
  user: string,
  pass: string
): Promise<MailServer> {
  const mails: Mail[] = [];
  const server = new SMTPServer({
    secure: true,
    key: tls.key,
    cert: tls.cert,
    authMethods: ['PLAIN', 'LOGIN'],
    logger: false,
    onAuth(auth, _session, callback) {
      if (auth.username === user && auth.password === pass) callback(null, { user });
      else callback(new Error('invalid username or password'));
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const { headers, text, html } = parts(Buffer.concat(chunks).toString('utf8'));
        mails.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          user: session.user as string | undefined,
          secure: session.secure,
          headers,
          text,
          html,
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as AddressInfo;
  return { port, mails, close: () => new Promise((resolve) => server.close(() => resolve())) };
}
