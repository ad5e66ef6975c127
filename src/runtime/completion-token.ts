/**
 * The completion token a job hands out when it is completed from outside (`ctx.completeLater`): one opaque string,
 * `jc1.<base64url JSON>`, that carries what Temporal needs to complete the job's activity (its task token, base64url,
 * and the namespace) and, for messages, the process, step, job and attempt it belongs to. Anyone who holds it can
 * complete or fail that attempt of the job: hand it only to the system that is to answer.
 *
 * ```ts
 * const token = encodeCompletionToken({ namespace: 'default', taskToken, processId: 'order-7', stepId: 'charge', job: 'charge-card', attempt: 1 });
 * const parsed = parseCompletionToken(token); // { ok: true, token: {...} } | { ok: false, problem: '...' }
 * ```
 */
import { z } from 'zod';

/** What every token starts with; the version lets a later format be told apart. */
export const COMPLETION_TOKEN_PREFIX = 'jc1.';
/** The longest token accepted (a task token is a few hundred bytes; ids are capped by Temporal at 1000 characters). */
export const MAX_COMPLETION_TOKEN_CHARS = 8_192;

const BASE64URL = /^[A-Za-z0-9_-]+$/;

const tokenSchema = z.strictObject({
  /** The Temporal namespace the process runs in. */
  ns: z.string().min(1).max(1000),
  /** Temporal's task token of the activity attempt, base64url. */
  tt: z.string().min(8).max(MAX_COMPLETION_TOKEN_CHARS).regex(BASE64URL, 'not base64url'),
  p: z.string().min(1).max(1000),
  s: z.string().min(1).max(1000),
  j: z.string().min(1).max(1000),
  a: z.number().int().min(1),
});

/** A completion token, decoded. */
export interface CompletionToken {
  namespace: string;
  /** Temporal's task token of the attempt. */
  taskToken: Uint8Array;
  processId: string;
  stepId: string;
  job: string;
  /** The attempt of the job's run that handed the token out (1-based). */
  attempt: number;
}

/** The token's text (see the module comment). */
export function encodeCompletionToken(token: CompletionToken): string {
  const body: z.infer<typeof tokenSchema> = {
    ns: token.namespace,
    tt: Buffer.from(token.taskToken).toString('base64url'),
    p: token.processId,
    s: token.stepId,
    j: token.job,
    a: token.attempt,
  };
  return `${COMPLETION_TOKEN_PREFIX}${Buffer.from(JSON.stringify(body)).toString('base64url')}`;
}

/**
 * Decodes a token's text. A malformed one is `{ ok: false, problem }`, the problem one line that says what is wrong
 * (never the token itself, which may be long or a secret).
 */
export function parseCompletionToken(
  text: string
): { ok: true; token: CompletionToken } | { ok: false; problem: string } {
  const fail = (problem: string) => ({ ok: false as const, problem: `malformed completion token: ${problem}` });
  const trimmed = text.trim();
  if (trimmed.length > MAX_COMPLETION_TOKEN_CHARS) {
    return fail(`it has ${trimmed.length} characters, at most ${MAX_COMPLETION_TOKEN_CHARS} expected`);
  }
  if (!trimmed.startsWith(COMPLETION_TOKEN_PREFIX)) {
    return fail(`it does not start with "${COMPLETION_TOKEN_PREFIX}" (a token comes from a job's ctx.completeLater)`);
  }
  const encoded = trimmed.slice(COMPLETION_TOKEN_PREFIX.length);
  if (!BASE64URL.test(encoded)) return fail(`what follows "${COMPLETION_TOKEN_PREFIX}" is not base64url`);
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(encoded, 'base64url').toString('utf8'));
  } catch {
    return fail('its body is not JSON');
  }
  const parsed = tokenSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return fail(`${issue?.path.join('.') || 'body'}: ${issue?.message ?? 'invalid'}`);
  }
  const { ns, tt, p, s, j, a } = parsed.data;
  return {
    ok: true,
    token: { namespace: ns, taskToken: Buffer.from(tt, 'base64url'), processId: p, stepId: s, job: j, attempt: a },
  };
}
