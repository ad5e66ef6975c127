/**
 * Jipper's TLS settings, in `npm test` with nothing to build: the run's dev server behind a TLS-terminating proxy on
 * loopback (test/support/tls-proxy.ts: Python's ssl module, which requires and verifies client certificates inside the
 * handshake as a TLS frontend does, piping to the dev server's gRPC port; certificates made in-process,
 * test/support/certificates.ts). A real `jipper worker` and the
 * `jipper` command run a process to success over mTLS with Temporal's standard settings (`TEMPORAL_TLS_*`, and a
 * profile of the Temporal config file), and so do Jipper's connect helpers; a server that wants TLS but no client
 * certificate takes `TEMPORAL_TLS=true` with a CA. A missing, foreign or expired client certificate, a server the
 * client does not trust, a wrong server name, a plaintext client, or a certificate file that is not one each get one
 * clear line on stderr — never a stack trace, never a hang.
 *
 * Temporal's own TLS frontend and its API-key authorizer are tested in the extended suite
 * (test/extended/temporal-tls.extended.test.ts, `npm run test:extended`), which builds the Temporal server.
 */
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspectSandbox } from '../../src/examples/volume/volume-jobs';
import { jipper, requireBuiltCli } from '../support/cli';
import type { Certificates } from '../support/certificates';
import { makeCertificates } from '../support/certificates';
import type { TlsCaseContext } from '../support/tls-cases';
import {
  rightCertificateCases,
  startJipperWorker,
  stopJipperWorker,
  wrongCertificateCases,
} from '../support/tls-cases';
import type { TlsProxy } from '../support/tls-proxy';
import { startTlsProxy } from '../support/tls-proxy';

let scratch: string;
let certs: Certificates;
let server: TlsProxy;
let sandbox: string;
let taskQueue: string;
let worker: ChildProcess;
let workerLog: string;

/** The environment of a client with the good client certificate. */
const goodTls = (): NodeJS.ProcessEnv => ({
  TEMPORAL_ADDRESS: server.address,
  TEMPORAL_TLS_SERVER_CA_CERT_PATH: certs.ca,
  TEMPORAL_TLS_CLIENT_CERT_PATH: certs.client.cert,
  TEMPORAL_TLS_CLIENT_KEY_PATH: certs.client.key,
});

const base = (): NodeJS.ProcessEnv => ({
  PATH: process.env.PATH,
  HOME: process.env.HOME,
  JIPPER_TASK_QUEUE: taskQueue,
  JIPPER_SANDBOX: sandbox,
  NO_COLOR: '1',
});

beforeAll(async () => {
  requireBuiltCli();
  scratch = mkdtempSync(join(tmpdir(), 'jipper-tls-'));
  certs = await makeCertificates(join(scratch, 'certs'));
  const devServer = process.env.TEMPORAL_ADDRESS;
  if (!devServer)
    throw new Error('TEMPORAL_ADDRESS is not set: the jest global setup did not provide a Temporal server');
  server = await startTlsProxy(certs, devServer);
  sandbox = join(scratch, 'sandbox');
  taskQueue = `tls-${randomUUID()}`;
  workerLog = join(scratch, 'worker.log');
  worker = await startJipperWorker({ ...base(), ...goodTls() }, taskQueue, workerLog);
}, 90_000);

afterAll(async () => {
  await stopJipperWorker(worker);
  await server?.close();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

const context = (): TlsCaseContext => ({ address: server.address, certs, scratch, base, goodTls });

describe('with the right certificates', () => {
  it('runs a process end to end: jipper worker and jipper start over mTLS (TEMPORAL_TLS_* variables)', async () => {
    const id = `tls-${randomUUID().slice(0, 8)}`;
    const env = { ...base(), ...goodTls() };
    const started = await jipper(
      ['start', 'examples/provision-volume.yaml', '--id', id, '--set', 'volume=tls-vol', '--wait'],
      env
    );
    expect({ code: started.code, stderr: started.stderr }).toEqual({ code: 0, stderr: '' });
    const report = JSON.parse((await jipper(['report', id, '--json'], env)).stdout) as { status: string };
    expect(report.status).toBe('succeeded');
    expect((await inspectSandbox(sandbox)).volumes).toEqual(['tls-vol']);
    // The worker's and the commands' connections all went through the proxy's mTLS.
    expect(server.accepted()).toBeGreaterThanOrEqual(3);
  });

  it('TEMPORAL_TLS=true with a CA and no client certificate, to a server that asks for none', async () => {
    const tlsOnly = await startTlsProxy(certs, process.env.TEMPORAL_ADDRESS as string, { requireClientCert: false });
    try {
      const env = {
        ...base(),
        TEMPORAL_ADDRESS: tlsOnly.address,
        TEMPORAL_TLS: 'true',
        TEMPORAL_TLS_SERVER_CA_CERT_PATH: certs.ca,
      };
      const listed = await jipper(['list', '--json'], env);
      expect({ code: listed.code, stderr: listed.stderr }).toEqual({ code: 0, stderr: '' });
      expect(tlsOnly.accepted()).toBeGreaterThanOrEqual(1);
      const plaintext = await jipper(['list'], { ...base(), TEMPORAL_ADDRESS: tlsOnly.address });
      expect(plaintext.stderr).toContain(
        'the server speaks TLS and this client was not told to: set TEMPORAL_TLS=true'
      );
    } finally {
      await tlsOnly.close();
    }
  });

  rightCertificateCases(context);
});

wrongCertificateCases(context);
