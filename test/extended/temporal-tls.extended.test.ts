/**
 * Extended suite (`npm run test:extended`; `npm test` covers the same TLS settings through a TLS-terminating proxy in
 * test/integration/tls.test.ts): TLS and mTLS against Temporal's own TLS frontend — a real Temporal server, built by the
 * extended global setup, that speaks only TLS and requires client certificates (test/support/tls-server.ts): a real `jipper worker` and the `jipper` command run a process
 * to success with Temporal's standard settings (`TEMPORAL_TLS_*`, and a profile of the Temporal config file), and so
 * do Jipper's connect helpers. A missing, foreign or expired client certificate, a server the client does not trust,
 * a wrong server name, a plaintext client, or a certificate file that is not one each get one clear line on stderr —
 * never a stack trace, never a hang. Then API keys (`TEMPORAL_API_KEY`) against a TLS server that authorizes every
 * request with them: a key with the namespace's permission runs a process; a forged, foreign-namespace or read-only
 * key is one clear line.
 */
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspectSandbox } from '../../src/examples/volume/volume-jobs';
import { CLI_PATH, jipper, requireBuiltCli } from '../support/cli';
import type { Certificates } from '../support/certificates';
import { makeCertificates } from '../support/certificates';
import type { TlsCaseContext } from '../support/tls-cases';
import {
  rightCertificateCases,
  startJipperWorker,
  stopJipperWorker,
  wrongCertificateCases,
} from '../support/tls-cases';
import type { ApiKeyIssuer, TlsServer } from '../support/tls-server';
import { startApiKeyIssuer, startTlsServer } from '../support/tls-server';

let scratch: string;
let certs: Certificates;
let server: TlsServer;
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
  server = await startTlsServer(certs, join(scratch, 'server'));
  sandbox = join(scratch, 'sandbox');
  taskQueue = `tls-${randomUUID()}`;
  workerLog = join(scratch, 'worker.log');
  worker = await startJipperWorker({ ...base(), ...goodTls() }, taskQueue, workerLog);
}, 180_000);

afterAll(async () => {
  await stopJipperWorker(worker);
  await server?.stop();
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
  });

  rightCertificateCases(context);
});

wrongCertificateCases(context);

describe('API keys (TEMPORAL_API_KEY) against a server that authorizes with them', () => {
  let issuer: ApiKeyIssuer;
  let keyed: TlsServer;
  let keyedWorker: ChildProcess;
  const keyedQueue = `tls-api-key-${randomUUID()}`;
  const keyedEnv = (apiKey: string): NodeJS.ProcessEnv => ({
    ...base(),
    JIPPER_TASK_QUEUE: keyedQueue,
    TEMPORAL_ADDRESS: keyed.address,
    TEMPORAL_TLS_SERVER_CA_CERT_PATH: certs.ca,
    TEMPORAL_API_KEY: apiKey,
  });

  beforeAll(async () => {
    issuer = await startApiKeyIssuer();
    keyed = await startTlsServer(certs, join(scratch, 'api-key-server'), { apiKeys: issuer });
    const log = join(scratch, 'api-key-worker.log');
    const out = openSync(log, 'a');
    try {
      keyedWorker = spawn(process.execPath, [CLI_PATH, 'worker'], {
        env: keyedEnv(issuer.issue(['default:write'])),
        stdio: ['ignore', out, out],
      });
    } finally {
      closeSync(out);
    }
    const deadline = Date.now() + 60_000;
    while (!readFileSync(log, 'utf8').includes(`worker on task queue "${keyedQueue}"`)) {
      if (keyedWorker.exitCode !== null) throw new Error(`jipper worker exited:\n${readFileSync(log, 'utf8')}`);
      if (Date.now() > deadline) throw new Error(`jipper worker did not start:\n${readFileSync(log, 'utf8')}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }, 180_000);

  afterAll(async () => {
    if (keyedWorker && keyedWorker.exitCode === null) {
      const exited = new Promise((r) => keyedWorker.once('exit', r));
      keyedWorker.kill('SIGINT');
      await exited;
    }
    await keyed?.stop();
    await issuer?.close();
  });

  it("runs a process with a key that has the namespace's write permission", async () => {
    const id = `api-key-${randomUUID().slice(0, 8)}`;
    const env = keyedEnv(issuer.issue(['default:write']));
    const started = await jipper(
      [
        'start',
        'examples/provision-volume.yaml',
        '--id',
        id,
        '--set',
        'volume=key-vol',
        '--set',
        'exportName=key-share',
        '--wait',
      ],
      env
    );
    expect({ code: started.code, stderr: started.stderr }).toEqual({ code: 0, stderr: '' });
  });

  it.each([
    [
      'a key the server did not issue (signed by another key)',
      () => issuer.issue(['default:admin'], issuer.strangerKey),
    ],
    ['a key for another namespace', () => issuer.issue(['other:admin'])],
    ['no key at all', () => ''],
  ])('refuses %s: one line, exit code 1', async (_, key) => {
    const started = Date.now();
    const env = keyedEnv(key());
    if (env.TEMPORAL_API_KEY === '') {
      delete env.TEMPORAL_API_KEY;
      env.TEMPORAL_TLS = 'true';
    }
    for (const args of [['list'], ['worker']]) {
      const result = await jipper(args, env, 30_000);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(
        new RegExp(
          `^jipper: the server at 127\\.0\\.0\\.1:\\d+ \\(TEMPORAL_ADDRESS\\) refused (access to namespace "default"|this client's credentials): .+; check TEMPORAL_API_KEY \\(or what the client certificate is allowed\\)\\n$`
        )
      );
    }
    expect(Date.now() - started).toBeLessThan(30_000);
  });

  it('a read-only key reads, and is refused a start in one line', async () => {
    const env = keyedEnv(issuer.issue(['default:read']));
    expect((await jipper(['list'], env)).code).toBe(0);
    const result = await jipper(['start', 'examples/provision-volume.yaml', '--set', 'volume=ro-vol'], env);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      'jipper: Failed to start Workflow: the server refused it (Request unauthorized); check TEMPORAL_API_KEY (or what the client certificate is allowed)\n'
    );
  });
});
