/**
 * Who may use the codec server, and for which namespace.
 *
 * - A static bearer token (`token`): whoever sends `Authorization: Bearer <token>` may decode in every namespace (and
 *   encode, where encoding is on). For the `temporal` CLI (`--codec-auth`) and scripts.
 * - A JWT (`jwt`): the Web UI forwards its user's access token (`codec.passAccessToken`). It is verified against the
 *   issuer's JWKS (signature, expiry, and issuer and audience when set), and its permissions claim names namespaces
 *   the way Temporal's own authorizer reads them: `"<namespace>:<role>"`, the role `read`, `write`, `worker` or
 *   `admin`; `system:admin` covers every namespace. Decoding needs any role in the request's namespace; encoding
 *   needs `write`, `worker` or `admin`.
 *
 * Without either, the server is open to whoever reaches it, which is allowed on loopback only.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { oneLine } from '../shared/text';

export interface CodecJwtOptions {
  /** Where the issuer publishes its signing keys, e.g. `https://issuer.example/.well-known/jwks.json`. */
  jwksUrl: string;
  /** The `iss` a token must carry, when set. */
  issuer?: string;
  /** The `aud` a token must carry, when set. */
  audience?: string;
  /** The claim listing `<namespace>:<role>` entries. Default `permissions` (Temporal's default claim mapper). */
  claim?: string;
}

export interface CodecAuthOptions {
  /** A static bearer token (at least 16 characters). */
  token?: string;
  jwt?: CodecJwtOptions;
}

/** What a request asks to do. */
export type CodecAccess = 'decode' | 'encode';

export type AuthVerdict = { ok: true } | { ok: false; status: 401 | 403; message: string };

const WRITE_ROLES = new Set(['write', 'worker', 'admin']);
const ROLES = new Set(['read', ...WRITE_ROLES]);

/** True when `host` is a loopback address (or `localhost`), reachable from this machine only. */
export function isLoopback(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '');
  return bare === 'localhost' || bare === '::1' || /^127\.\d+\.\d+\.\d+$/.test(bare) || bare === '::ffff:127.0.0.1';
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/** True when the permissions allow `access` in `namespace`. */
export function permits(permissions: readonly string[], namespace: string, access: CodecAccess): boolean {
  return permissions.some((entry) => {
    const at = entry.lastIndexOf(':');
    if (at <= 0) return false;
    const [ns, role] = [entry.slice(0, at), entry.slice(at + 1)];
    if (!ROLES.has(role)) return false;
    if (ns === 'system' && role === 'admin') return true;
    return ns === namespace && (access === 'decode' || WRITE_ROLES.has(role));
  });
}

/** True when authentication is configured (a token or a JWKS). */
export function requiresAuth(options: CodecAuthOptions): boolean {
  return options.token !== undefined || options.jwt !== undefined;
}

/**
 * The check each request goes through: `authorization` is the request's header, `namespace` the one it names (path or
 * `X-Namespace`).
 */
export function codecAuthenticator(
  options: CodecAuthOptions
): (authorization: string | undefined, namespace: string | undefined, access: CodecAccess) => Promise<AuthVerdict> {
  if (options.token !== undefined && options.token.length < 16) {
    throw new Error('the codec server token must be at least 16 characters');
  }
  const wanted = options.token === undefined ? undefined : digest(`Bearer ${options.token}`);
  const jwt = options.jwt;
  const jwks = jwt ? createRemoteJWKSet(new URL(jwt.jwksUrl)) : undefined;
  const claim = jwt?.claim ?? 'permissions';
  return async (authorization, namespace, access) => {
    if (!requiresAuth(options)) return { ok: true };
    if (authorization === undefined || !/^Bearer \S+$/.test(authorization)) {
      return { ok: false, status: 401, message: 'a bearer token is required' };
    }
    if (wanted !== undefined && timingSafeEqual(digest(authorization), wanted)) return { ok: true };
    if (!jwks || !jwt) return { ok: false, status: 401, message: 'the bearer token is not the right one' };
    let permissions: unknown;
    try {
      const { payload } = await jwtVerify(authorization.slice('Bearer '.length), jwks, {
        ...(jwt.issuer ? { issuer: jwt.issuer } : {}),
        ...(jwt.audience ? { audience: jwt.audience } : {}),
      });
      permissions = payload[claim];
    } catch (err) {
      return { ok: false, status: 401, message: `the bearer token is not valid: ${oneLine(err)}` };
    }
    if (!Array.isArray(permissions) || !permissions.every((p) => typeof p === 'string')) {
      return { ok: false, status: 403, message: `the token has no "${claim}" claim listing namespaces` };
    }
    if (namespace === undefined) {
      return {
        ok: false,
        status: 403,
        message: 'name the namespace: POST /{namespace}/decode or an X-Namespace header',
      };
    }
    if (!permits(permissions, namespace, access)) {
      return { ok: false, status: 403, message: `the token does not allow ${access} in namespace "${namespace}"` };
    }
    return { ok: true };
  };
}
