/**
 * `send-email`: sends an e-mail through an SMTP server (nodemailer), with a text body and, optionally, an HTML one.
 * TLS: `secure: true` speaks TLS from the start (port 465); otherwise STARTTLS is used when the server offers it, and
 * required with `requireTLS: true`. Give the password as `{ $secret: name }`. The message's `Message-ID` comes from
 * the idempotency key, so a receiver (or a mail filter) can drop a retried delivery.
 */
import { createHash } from 'node:crypto';
import nodemailer from 'nodemailer';
import { z } from 'zod';
import { defineJob } from '../job';

const address = z.email({ message: 'expected an e-mail address such as oncall@example.com' });
const addresses = z.union([address, z.array(address).min(1, 'expected at least one address')]);

export const sendEmailInput = z.strictObject({
  smtp: z.strictObject({
    host: z.string().min(1),
    /** Default 587 (465 when `secure`). */
    port: z.number().int().min(1).max(65_535).optional(),
    /** TLS from the first byte (SMTPS, port 465). Default: false, STARTTLS when offered. */
    secure: z.boolean().default(false),
    /** Refuse to send unless the server upgrades to TLS (STARTTLS). Default false. */
    requireTLS: z.boolean().default(false),
    /** Check the server's certificate. Default true. */
    rejectUnauthorized: z.boolean().default(true),
    /** A CA certificate (PEM) to trust for the server's certificate. */
    ca: z.string().min(1).optional(),
    user: z.string().min(1).optional(),
    /** Pass it as `{ $secret: name }`. */
    pass: z.string().min(1).optional(),
  }),
  from: address,
  to: addresses,
  cc: addresses.optional(),
  subject: z.string().min(1).max(998),
  text: z.string(),
  html: z.string().optional(),
  /** How long connecting and sending may take, in ms. Default 30,000. */
  timeoutMs: z.number().int().positive().max(300_000).default(30_000),
});

/** The Message-ID of a message sent under an idempotency key: the same for every attempt. */
export function messageIdFor(idempotencyKey: string, from: string): string {
  const domain = from.split('@')[1] ?? 'jipper.invalid';
  return `<${createHash('sha256').update(idempotencyKey).digest('hex').slice(0, 32)}.jipper@${domain}>`;
}

export const sendEmail = defineJob({
  name: 'send-email',
  description: 'Sends an e-mail through SMTP (TLS, auth), text and HTML bodies',
  input: sendEmailInput,
  options: { timeout: '60s', retry: { maximumAttempts: 5 } },
  async run(input, ctx) {
    const { smtp } = input;
    const transport = nodemailer.createTransport({
      host: smtp.host,
      port: smtp.port ?? (smtp.secure ? 465 : 587),
      secure: smtp.secure,
      requireTLS: smtp.requireTLS,
      tls: { rejectUnauthorized: smtp.rejectUnauthorized, ...(smtp.ca ? { ca: smtp.ca } : {}) },
      ...(smtp.user ? { auth: { user: smtp.user, pass: smtp.pass ?? '' } } : {}),
      connectionTimeout: input.timeoutMs,
      greetingTimeout: input.timeoutMs,
      socketTimeout: input.timeoutMs,
    });
    try {
      const sent = await transport.sendMail({
        from: input.from,
        to: input.to,
        ...(input.cc ? { cc: input.cc } : {}),
        subject: input.subject,
        text: input.text,
        ...(input.html !== undefined ? { html: input.html } : {}),
        messageId: messageIdFor(ctx.idempotencyKey, input.from),
        headers: { 'X-Jipper-Idempotency-Key': ctx.idempotencyKey },
      });
      const to = Array.isArray(input.to) ? input.to.join(', ') : input.to;
      ctx.setDetail(`sent to ${to} (${String(sent.messageId)})`);
      return { messageId: String(sent.messageId), accepted: sent.accepted.map(String) };
    } finally {
      transport.close();
    }
  },
});
