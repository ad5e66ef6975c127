/**
 * TLS cases that hold for any TLS frontend in front of a Temporal server: Temporal's own (test/extended, a server built
 * with Go) and the TLS-terminating proxy in front of the dev server (`npm test`). Each test file sets up its server,
 * certificates and worker, and declares these with a getter of what they need.
 */
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/config';
import { connectClient, connectNative } from '../../src/config/connect';
import { TemporalTlsError } from '../../src/config/errors';
import type { Certificates } from './certificates';
import type { CliResult } from './cli';
import { CLI_PATH, jipper } from './cli';

export interface TlsCaseContext {
  /** The TLS frontend's address. */
  address: string;
  certs: Certificates;
  /** A scratch folder of the test file's own. */
  scratch: string;
  /** The environment every command gets (PATH, HOME, the task queue, the sandbox). */
  base(): NodeJS.ProcessEnv;
  /** The TLS settings of a client with the good client certificate. */
  goodTls(): NodeJS.ProcessEnv;
}

/** Starts `jipper worker` with `env`, its output in `log`, and waits (60 s at most) until it polls `taskQueue`. */
export async function startJipperWorker(env: NodeJS.ProcessEnv, taskQueue: string, log: string): Promise<ChildProcess> {
  const out = openSync(log, 'a');
  let worker: ChildProcess;
  try {
    worker = spawn(process.execPath, [CLI_PATH, 'worker'], { env, stdio: ['ignore', out, out] });
  } finally {
    closeSync(out);
  }
  const deadline = Date.now() + 60_000;
  while (!readFileSync(log, 'utf8').includes(`worker on task queue "${taskQueue}"`)) {
    if (worker.exitCode !== null) throw new Error(`jipper worker exited:\n${readFileSync(log, 'utf8')}`);
    if (Date.now() > deadline) throw new Error(`jipper worker did not start:\n${readFileSync(log, 'utf8')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return worker;
}

/** Stops a worker {@link startJipperWorker} started (Ctrl-C, as a person would) and waits for it to exit. */
export async function stopJipperWorker(worker: ChildProcess | undefined): Promise<void> {
  if (!worker || worker.exitCode !== null) return;
  const exited = new Promise((r) => worker.once('exit', r));
  worker.kill('SIGINT');
  await exited;
}

/** With the right certificates: a profile of the Temporal config file, and Jipper's connect helpers. */
export function rightCertificateCases(c: () => TlsCaseContext): void {
  it('reads the same settings from a profile of the Temporal config file', async () => {
    const file = join(c().scratch, 'temporal.toml');
    writeFileSync(
      file,
      [
        '[profile.secure]',
        `address = "${c().address}"`,
        'namespace = "default"',
        '[profile.secure.tls]',
        `server_ca_cert_path = "${c().certs.ca}"`,
        `client_cert_path = "${c().certs.client.cert}"`,
        `client_key_path = "${c().certs.client.key}"`,
        '',
      ].join('\n')
    );
    // Only succeeded runs of the example: other test files share the server, and their runs fill an unfiltered list.
    const listed = await jipper(['list', '--process', 'provision-volume', '--status', 'succeeded', '--json'], {
      ...c().base(),
      TEMPORAL_CONFIG_FILE: file,
      TEMPORAL_PROFILE: 'secure',
    });
    expect(listed.code).toBe(0);
    expect(JSON.parse(listed.stdout)).toEqual(
      expect.arrayContaining([expect.objectContaining({ process: 'provision-volume', status: 'succeeded' })])
    );
  });

  it("connects Jipper's client and worker connections", async () => {
    const config = await loadConfig({ env: c().goodTls(), configFile: false });
    const client = await connectClient(config);
    const native = await connectNative(config);
    try {
      await expect(client.workflowService.getSystemInfo({})).resolves.toBeDefined();
    } finally {
      await client.connection.close();
      await native.close();
    }
  });
}

/** With anything wrong: one clear line and no hang, for every way a certificate or a setting can be wrong. */
export function wrongCertificateCases(c: () => TlsCaseContext): void {
  describe('with anything wrong, one clear line and no hang', () => {
    /** Runs `jipper list` with the TLS settings `tls`: one line on stderr, in well under the connect timeout. */
    async function refused(tls: NodeJS.ProcessEnv): Promise<CliResult> {
      const started = Date.now();
      const result = await jipper(['list'], { ...c().base(), TEMPORAL_ADDRESS: c().address, ...tls });
      expect(Date.now() - started).toBeLessThan(15_000);
      expect(result.code).not.toBe(0);
      expect(result.stderr).toMatch(/^jipper: [^\n]+\n$/);
      expect(result.stderr).not.toMatch(/^\s+at /m);
      return result;
    }
    const tlsFailed = `jipper: TLS with ${'127.0.0.1'}`;

    it('no client certificate: the server requires one', async () => {
      const { stderr, code } = await refused({ TEMPORAL_TLS: 'true', TEMPORAL_TLS_SERVER_CA_CERT_PATH: c().certs.ca });
      expect(code).toBe(1);
      expect(stderr).toContain(tlsFailed);
      expect(stderr).toContain(
        'the server requires a client certificate (mTLS) and none was sent: set TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH'
      );
    });

    it('a client certificate from a CA the server does not trust', async () => {
      const { stderr } = await refused({
        TEMPORAL_TLS_SERVER_CA_CERT_PATH: c().certs.ca,
        TEMPORAL_TLS_CLIENT_CERT_PATH: c().certs.strangerClient.cert,
        TEMPORAL_TLS_CLIENT_KEY_PATH: c().certs.strangerClient.key,
      });
      expect(stderr).toMatch(
        /the server refused the client certificate .*: it is not signed by a CA the server trusts/
      );
    });

    it('an expired client certificate', async () => {
      const { stderr } = await refused({
        TEMPORAL_TLS_SERVER_CA_CERT_PATH: c().certs.ca,
        TEMPORAL_TLS_CLIENT_CERT_PATH: c().certs.expiredClient.cert,
        TEMPORAL_TLS_CLIENT_KEY_PATH: c().certs.expiredClient.key,
      });
      expect(stderr).toMatch(/the server refused the client certificate .*: it has expired; issue a new one/);
    });

    it("a server certificate the client's CA did not sign", async () => {
      const { stderr } = await refused({ ...c().goodTls(), TEMPORAL_TLS_SERVER_CA_CERT_PATH: c().certs.strangerCa });
      expect(stderr).toContain(
        "the server's certificate is not signed by a CA this client trusts: set TEMPORAL_TLS_SERVER_CA_CERT_PATH"
      );
    });

    it('a server name the certificate is not for', async () => {
      const { stderr } = await refused({ ...c().goodTls(), TEMPORAL_TLS_SERVER_NAME: 'temporal.example' });
      expect(stderr).toContain(`the server's certificate is not for "temporal.example"`);
    });

    it('a client that does not speak TLS to a server that wants it', async () => {
      const { stderr } = await refused({});
      expect(stderr).toContain('the server speaks TLS and this client was not told to: set TEMPORAL_TLS=true');
    });

    it('a certificate file that is not a certificate: bad input (exit code 2)', async () => {
      const garbage = join(c().scratch, 'not-a-cert.pem');
      writeFileSync(garbage, 'hello\n');
      const { stderr, code } = await refused({ ...c().goodTls(), TEMPORAL_TLS_CLIENT_CERT_PATH: garbage });
      expect(code).toBe(2);
      expect(stderr).toMatch(/^jipper: the TLS settings cannot be used: /);
    });

    it('jipper worker with an expired certificate: one line, exit code 1', async () => {
      const started = Date.now();
      const result = await new Promise<CliResult>((resolveRun) => {
        const child = spawn(process.execPath, [CLI_PATH, 'worker'], {
          env: {
            ...c().base(),
            ...c().goodTls(),
            TEMPORAL_TLS_CLIENT_CERT_PATH: c().certs.expiredClient.cert,
            TEMPORAL_TLS_CLIENT_KEY_PATH: c().certs.expiredClient.key,
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
          ...c().goodTls(),
          TEMPORAL_TLS_CLIENT_CERT_PATH: c().certs.expiredClient.cert,
          TEMPORAL_TLS_CLIENT_KEY_PATH: c().certs.expiredClient.key,
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
}
