/**
 * A TLS handshake made on its own, before the gRPC connection, so that what goes wrong with certificates is told in
 * one line: the gRPC stack reports every one of these as a bare transport error, after retrying until its deadline.
 *
 * With mTLS the server checks the client's certificate after the client considers the handshake done (TLS 1.3), so
 * the check also sends the HTTP/2 preface and waits for the server's first frame: a refusal arrives as an alert then.
 */
import { isIP } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { checkServerIdentity, connect } from 'node:tls';
import type { TLSConfig } from '@temporalio/common/lib/internal-non-workflow';
import { oneLine } from '../shared/text';
import { ConfigError, TemporalTlsError } from './errors';

/** The HTTP/2 connection preface and an empty SETTINGS frame: what a gRPC client sends first. */
const H2_PREFACE = Buffer.concat([
  Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'),
  Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0]),
]);

const CLIENT_CERT = "the client certificate (TEMPORAL_TLS_CLIENT_CERT_PATH or the profile's client_cert)";
const SERVER_CA = "TEMPORAL_TLS_SERVER_CA_CERT_PATH (or the profile's server_ca_cert)";

/** Why a handshake failed, for people: which side refused what, and which setting to look at. */
export function explainTlsFailure(err: unknown, serverName: string): string {
  const code = (err as NodeJS.ErrnoException).code ?? '';
  const message = oneLine(err);
  const alert = /alert number (\d+)/.exec(message)?.[1];
  if (code.endsWith('CERTIFICATE_EXPIRED') || alert === '45') {
    return `the server refused ${CLIENT_CERT}: it has expired; issue a new one`;
  }
  if (code.endsWith('CERTIFICATE_REQUIRED') || alert === '116') {
    return `the server requires a client certificate (mTLS) and none was sent: set TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH`;
  }
  if (code.endsWith('UNKNOWN_CA') || alert === '48') {
    return `the server refused ${CLIENT_CERT}: it is not signed by a CA the server trusts`;
  }
  if (code.endsWith('BAD_CERTIFICATE') || code.endsWith('CERTIFICATE_REVOKED') || alert === '42' || alert === '44') {
    return `the server refused ${CLIENT_CERT} (${message})`;
  }
  if (code.endsWith('HANDSHAKE_FAILURE') || alert === '40') {
    return `the server refused the handshake; it may require a client certificate this client did not send (${message})`;
  }
  switch (code) {
    case 'CERT_HAS_EXPIRED':
      return "the server's certificate has expired";
    case 'CERT_NOT_YET_VALID':
      return "the server's certificate is not valid yet (check the clocks)";
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
      return `the server's certificate is not for "${serverName}": connect by a name it is for, or set TEMPORAL_TLS_SERVER_NAME`;
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
    case 'UNABLE_TO_GET_ISSUER_CERT':
    case 'SELF_SIGNED_CERT_IN_CHAIN':
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
    case 'CERT_SIGNATURE_FAILURE':
      return `the server's certificate is not signed by a CA this client trusts: set ${SERVER_CA} to the CA that signed it`;
  }
  if (/wrong version number|packet length too long|unknown protocol/i.test(message)) {
    return 'the server does not speak TLS: unset TEMPORAL_TLS (and the TLS paths), or point TEMPORAL_ADDRESS at its TLS port';
  }
  if (code === 'ECONNRESET' || code === 'EPIPE') {
    return `the server closed the connection during the handshake; it may have refused ${CLIENT_CERT}`;
  }
  return message;
}

/**
 * Makes a TLS handshake with `host:port` as the SDK would (the same CA, client certificate and server name) and waits
 * for the server's first HTTP/2 frame.
 *
 * @throws TemporalTlsError with one line that says what went wrong.
 * @throws ConfigError when the configured certificate or key cannot be used at all (not PEM, not a pair).
 */
export async function checkTls(
  tls: TLSConfig,
  host: string,
  port: number,
  timeoutMs: number,
  addressSource?: string
): Promise<void> {
  const address = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  const serverName = tls.serverNameOverride ?? host;
  let socket: TLSSocket;
  try {
    socket = connect({
      host,
      port,
      ...(isIP(serverName) ? {} : { servername: serverName }),
      ...(tls.serverRootCACertificate ? { ca: Buffer.from(tls.serverRootCACertificate) } : {}),
      ...(tls.clientCertPair
        ? { cert: Buffer.from(tls.clientCertPair.crt), key: Buffer.from(tls.clientCertPair.key) }
        : {}),
      ALPNProtocols: ['h2'],
      checkServerIdentity: (_name, cert) => checkServerIdentity(serverName, cert),
    });
  } catch (err) {
    throw new ConfigError(`the TLS settings cannot be used: ${oneLine(err)}`, { cause: err });
  }
  await new Promise<void>((resolveCheck, reject) => {
    let settled = false;
    const finish = (err?: unknown): void => {
      if (settled) return;
      settled = true;
      socket.destroy();
      if (err === undefined) resolveCheck();
      else if (err instanceof TemporalTlsError) reject(err);
      else reject(new TemporalTlsError(address, addressSource, explainTlsFailure(err, serverName), { cause: err }));
    };
    socket.setTimeout(timeoutMs, () =>
      finish(new TemporalTlsError(address, addressSource, `no TLS answer within ${timeoutMs / 1000}s`))
    );
    socket.once('secureConnect', () => socket.write(H2_PREFACE));
    socket.once('data', () => finish());
    socket.once('error', (err) => finish(err));
    socket.once('close', () =>
      finish(
        new TemporalTlsError(
          address,
          addressSource,
          `the server closed the connection after the handshake; it may have refused ${CLIENT_CERT}`
        )
      )
    );
  });
}

/** True when something at `host:port` answers a TLS handshake (whatever it thinks of certificates). */
export function speaksTls(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolveCheck) => {
    const socket = connect({ host, port, rejectUnauthorized: false, ALPNProtocols: ['h2'] });
    const finish = (answer: boolean): void => {
      socket.destroy();
      resolveCheck(answer);
    };
    socket.setTimeout(timeoutMs, () => finish(false));
    socket.once('secureConnect', () => finish(true));
    socket.once('error', (err: NodeJS.ErrnoException) => {
      // An alert from the server is still TLS: it refused something, but it spoke.
      finish(
        /alert/i.test(err.message) ||
          (err.code ?? '').startsWith('ERR_SSL_TLSV') ||
          (err.code ?? '').startsWith('ERR_SSL_SSLV3_ALERT')
      );
    });
  });
}

/**
 * Drops Node's DEP0123 warning ("Setting the TLS ServerName to an IP address is not permitted by RFC 6066"), which the
 * gRPC client triggers on every TLS connection to an IP address (`TEMPORAL_ADDRESS=10.0.0.5:7233`): a warning about
 * the library, not the user's setup, that would break the command line's one-line-per-error output. Every other
 * warning is printed as before. For entry points only (it patches `process.emitWarning`).
 */
export function silenceIpServerNameWarning(): void {
  const emit = process.emitWarning.bind(process) as (...args: unknown[]) => void;
  process.emitWarning = (...args: unknown[]) => {
    const [, typeOrOptions, code] = args;
    const warningCode =
      typeof typeOrOptions === 'object' && typeOrOptions !== null ? (typeOrOptions as { code?: unknown }).code : code;
    if (warningCode === 'DEP0123') return;
    emit(...args);
  };
}
