/**
 * A TLS-terminating proxy on loopback in front of a plaintext Temporal server (the run's dev server): it presents
 * `certs.server`, requires a client certificate signed by `certs.ca` (mTLS; `requireClientCert: false` for TLS only),
 * negotiates HTTP/2 (ALPN `h2`), and pipes the decrypted bytes to the server's gRPC port. gRPC needs nothing more:
 * the dev server reads HTTP/2 with prior knowledge.
 *
 * The terminator is ./tls-proxy.py on Python's ssl module (Python is already needed: the Temporal CLI installer uses
 * pip). Node's TLS server would do for the happy path, but it checks a client certificate only after the handshake
 * and then just closes the socket; a TLS frontend (Temporal's, Go's) refuses inside the handshake with an alert —
 * certificate required, unknown CA, certificate expired — and Jipper's one-line errors are read from those alerts.
 *
 * ```ts
 * const proxy = await startTlsProxy(certs, process.env.TEMPORAL_ADDRESS!);
 * // TEMPORAL_ADDRESS=proxy.address TEMPORAL_TLS_SERVER_CA_CERT_PATH=certs.ca ...
 * await proxy.close();
 * ```
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Certificates } from './certificates';

export interface TlsProxy {
  /** `127.0.0.1:<port>`: TLS only. */
  address: string;
  /** Connections whose handshake completed (the client's certificate, when required, was accepted). */
  accepted(): number;
  close(): Promise<void>;
}

const SCRIPT = join(__dirname, 'tls-proxy.py');

/**
 * Starts the proxy on a free loopback port, forwarding to `target` (`host:port`).
 *
 * @throws Error naming what to install when Python 3 cannot be run.
 */
export async function startTlsProxy(
  certs: Certificates,
  target: string,
  options: { requireClientCert?: boolean; python?: string } = {}
): Promise<TlsProxy> {
  const separator = target.lastIndexOf(':');
  const host = target.slice(0, separator).replace(/^\[|\]$/g, '');
  const port = target.slice(separator + 1);
  const python = options.python ?? process.env.PYTHON ?? 'python3';
  const mode = (options.requireClientCert ?? true) ? 'required' : 'none';
  const child = spawn(python, [SCRIPT, certs.server.cert, certs.server.key, certs.ca, mode, host, port], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let accepted = 0;
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<void>((resolveExit) => child.once('close', () => resolveExit()));
  const listening = new Promise<number>((resolvePort, reject) => {
    child.once('error', (err) =>
      reject(new Error(`the TLS proxy needs Python 3 (\`${python}\`: ${err.message}); install python3`, { cause: err }))
    );
    void exited.then(() => reject(new Error(`the TLS proxy exited before listening: ${stderr.trim()}`)));
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (line === 'accepted') accepted += 1;
      const match = /^listening (\d+)$/.exec(line);
      if (match) resolvePort(Number(match[1]));
    });
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  let listenPort: number;
  try {
    listenPort = await listening;
  } finally {
    clearTimeout(timer);
  }
  return {
    address: `127.0.0.1:${listenPort}`,
    accepted: () => accepted,
    close: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
