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
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspectSandbox } from '../../src/examples/volume/volume-jobs';
import { loadConfig } from '../../src/config/config';
import { connectClient, connectNative } from '../../src/config/connect';
import { TemporalTlsError } from '../../src/config/errors';
import type { CliResult } from '../support/cli';
import { CLI_PATH, jipper, requireBuiltCli } from '../support/cli';
import type { Certificates } from '../support/certificates';
import { makeCertificates } from '../support/certificates';
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
  const out = openSync(workerLog, 'a');
  try {
    worker = spawn(process.execPath, [CLI_PATH, 'worker'], {
      env: { ...base(), ...goodTls() },
      stdio: ['ignore', out, out],
    });
  } finally {
    closeSync(out);
  }
  const deadline = Date.now() + 60_000;
  while (!readFileSync(workerLog, 'utf8').includes(`worker on task queue "${taskQueue}"`)) {
    if (worker.exitCode !== null) throw new Error(`jipper worker exited:\n${readFileSync(workerLog, 'utf8')}`);
    if (Date.now() > deadline) throw new Error(`jipper worker did not start:\n${readFileSync(workerLog, 'utf8')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}, 90_000);

afterAll(async () => {
  if (worker && worker.exitCode === null) {
    const exited = new Promise((r) => worker.once('exit', r));
    worker.kill('SIGINT');
    await exited;
  }
  await server?.close();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

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

  it('reads the same settings from a profile of the Temporal config file', async () => {
    const file = join(scratch, 'temporal.toml');
    writeFileSync(
      file,
      [
        '[profile.secure]',
        `address = "${server.address}"`,
        'namespace = "default"',
        '[profile.secure.tls]',
        `server_ca_cert_path = "${certs.ca}"`,
        `client_cert_path = "${certs.client.cert}"`,
        `client_key_path = "${certs.client.key}"`,
        '',
      ].join('\n')
    );
    const listed = await jipper(['list', '--json'], {
      ...base(),
      TEMPORAL_CONFIG_FILE: file,
      TEMPORAL_PROFILE: 'secure',
    });
    expect(listed.code).toBe(0);
    expect(JSON.parse(listed.stdout)).toEqual(
      expect.arrayContaining([expect.objectContaining({ status: 'succeeded' })])
    );
  });

  it("connects Jipper's client and worker connections", async () => {
    const config = await loadConfig({ env: goodTls(), configFile: false });
    const client = await connectClient(config);
    const native = await connectNative(config);
    try {
      await expect(client.workflowService.getSystemInfo({})).resolves.toBeDefined();
    } finally {
      await client.connection.close();
      await native.close();
    }
  });
});

describe('with anything wrong, one clear line and no hang', () => {
  /** Runs `jipper list` with the TLS settings `tls`: one line on stderr, in well under the connect timeout. */
  async function refused(tls: NodeJS.ProcessEnv): Promise<CliResult> {
    const started = Date.now();
    const result = await jipper(['list'], { ...base(), TEMPORAL_ADDRESS: server.address, ...tls });
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/^jipper: [^\n]+\n$/);
    expect(result.stderr).not.toMatch(/^\s+at /m);
    return result;
  }
  const tlsFailed = `jipper: TLS with ${'127.0.0.1'}`;

  it('no client certificate: the server requires one', async () => {
    const { stderr, code } = await refused({ TEMPORAL_TLS: 'true', TEMPORAL_TLS_SERVER_CA_CERT_PATH: certs.ca });
    expect(code).toBe(1);
    expect(stderr).toContain(tlsFailed);
    expect(stderr).toContain(
      'the server requires a client certificate (mTLS) and none was sent: set TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH'
    );
  });

  it('a client certificate from a CA the server does not trust', async () => {
    const { stderr } = await refused({
      TEMPORAL_TLS_SERVER_CA_CERT_PATH: certs.ca,
      TEMPORAL_TLS_CLIENT_CERT_PATH: certs.strangerClient.cert,
      TEMPORAL_TLS_CLIENT_KEY_PATH: certs.strangerClient.key,
    });
    expect(stderr).toMatch(/the server refused the client certificate .*: it is not signed by a CA the server trusts/);
  });

  it('an expired client certificate', async () => {
    const { stderr } = await refused({
      TEMPORAL_TLS_SERVER_CA_CERT_PATH: certs.ca,
      TEMPORAL_TLS_CLIENT_CERT_PATH: certs.expiredClient.cert,
      TEMPORAL_TLS_CLIENT_KEY_PATH: certs.expiredClient.key,
    });
    expect(stderr).toMatch(/the server refused the client certificate .*: it has expired; issue a new one/);
  });

  it("a server certificate the client's CA did not sign", async () => {
    const { stderr } = await refused({ ...goodTls(), TEMPORAL_TLS_SERVER_CA_CERT_PATH: certs.strangerCa });
    expect(stderr).toContain(
      "the server's certificate is not signed by a CA this client trusts: set TEMPORAL_TLS_SERVER_CA_CERT_PATH"
    );
  });

  it('a server name the certificate is not for', async () => {
    const { stderr } = await refused({ ...goodTls(), TEMPORAL_TLS_SERVER_NAME: 'temporal.example' });
    expect(stderr).toContain(`the server's certificate is not for "temporal.example"`);
  });

  it('a client that does not speak TLS to a server that wants it', async () => {
    const { stderr } = await refused({});
    expect(stderr).toContain('the server speaks TLS and this client was not told to: set TEMPORAL_TLS=true');
  });

  it('a certificate file that is not a certificate: bad input (exit code 2)', async () => {
    const garbage = join(scratch, 'not-a-cert.pem');
    writeFileSync(garbage, 'hello\n');
    const { stderr, code } = await refused({ ...goodTls(), TEMPORAL_TLS_CLIENT_CERT_PATH: garbage });
    expect(code).toBe(2);
    expect(stderr).toMatch(/^jipper: the TLS settings cannot be used: /);
  });

  it('jipper worker with an expired certificate: one line, exit code 1', async () => {
    const started = Date.now();
    const result = await new Promise<CliResult>((resolveRun) => {
      const child = spawn(process.execPath, [CLI_PATH, 'worker'], {
        env: {
          ...base(),
          ...goodTls(),
          TEMPORAL_TLS_CLIENT_CERT_PATH: certs.expiredClient.cert,
          TEMPORAL_TLS_CLIENT_KEY_PATH: certs.expiredClient.key,
        },
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.once('exit', (code) => resolveRun({ code: code ?? -1, stdout, stderr }));
    });
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /^jipper: TLS with 127\.0\.0\.1:\d+ \(TEMPORAL_ADDRESS\) failed: the server refused the client certificate .*: it has expired; issue a new one\n$/
    );
  });

  it('the connect helpers throw TemporalTlsError with the same line', async () => {
    const config = await loadConfig({
      env: {
        ...goodTls(),
        TEMPORAL_TLS_CLIENT_CERT_PATH: certs.expiredClient.cert,
        TEMPORAL_TLS_CLIENT_KEY_PATH: certs.expiredClient.key,
      },
      configFile: false,
    });
    // One at a time: a second attempt made up front would reject while the first is awaited, with no handler yet.
    for (const connect of [() => connectClient(config), () => connectNative(config)]) {
      const attempt = connect();
      await expect(attempt).rejects.toBeInstanceOf(TemporalTlsError);
      await expect(attempt).rejects.toThrow(/it has expired/);
    }
  });
});
