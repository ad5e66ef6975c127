/**
 * A Temporal server that speaks only TLS and requires client certificates (mTLS), for the extended TLS tests
 * (test/extended): certificates from ./certificates.ts, and the Temporal server (go.temporal.io/server v1.32.0, the server
 * inside the pinned Temporal CLI) run as one process on SQLite, configured as the local cluster configures its
 * services: the server's own embedded config template, rendered from environment variables (`TEMPORAL_TLS_*` for
 * the frontend and internode TLS). Everything listens on 127.0.0.1.
 *
 * ```ts
 * const certs = await makeCertificates(dir);
 * const server = await startTlsServer(certs, dir);
 * // TEMPORAL_ADDRESS=server.address TEMPORAL_TLS_SERVER_CA_CERT_PATH=certs.ca ... jipper worker
 * await server.stop();
 * ```
 *
 * With `apiKeys`, the server instead takes TLS without client certificates and authorizes every request with an API
 * key — a JWT signed by a key this module makes, checked by the server's default authorizer and claim mapper against
 * the JWKS it serves on loopback ({@link startApiKeyIssuer}); the server's own worker service talks to an internal
 * frontend, as Temporal's docs advise for authorizing servers.
 *
 * The binary: `JIPPER_TEMPORAL_SERVER`, else the local cluster's (`ensureServerBinaries`: the checkout's build, its
 * shared cache, or `go install`, minutes, the first time — which the extended suite's global setup does, before any
 * test's timeout starts).
 */
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import type { KeyObject } from 'node:crypto';
import { generateKeyPairSync, randomUUID, sign } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { closeSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import { ensureServerBinaries } from '../../src/dev/cluster/binaries';
import { clusterSettings } from '../../src/dev/cluster/settings';
import { ensureSearchAttributes } from '../../src/config/search-attributes';
import { freePort } from '../../src/dev/ports';
import type { Certificates } from './certificates';

/**
 * The Temporal server binary: `JIPPER_TEMPORAL_SERVER`, else the local cluster's (src/dev/cluster: the checkout's build,
 * its shared cache, or a `go install` the first time).
 */
export async function findOrBuildTemporalServer(log: (line: string) => void = () => undefined): Promise<string> {
  const fromEnv = process.env.JIPPER_TEMPORAL_SERVER;
  if (fromEnv) return fromEnv;
  const settings = clusterSettings();
  return (await ensureServerBinaries(settings.binDir, settings.sharedCacheDir, log)).server;
}

export interface TlsServer {
  /** `127.0.0.1:<frontend port>`: TLS only, client certificates required. */
  address: string;
  pid: number;
  logFile: string;
  stop(): Promise<void>;
}

/**
 * The environment of the server's embedded config template for a single process on SQLite with TLS everywhere: the
 * frontend presents `certs.server` and requires client certificates signed by `certs.ca`; the services talk to each
 * other (and the internal worker to the frontend) over mTLS with the same certificate.
 */
export function tlsServerEnvironment(
  certs: Certificates,
  dir: string,
  ports: number[],
  jwksUrl?: string
): Record<string, string> {
  const [grpc, http, fm, hg, hm, mg, mm, wg, wm, ig, im, ih] = ports.map(String);
  const apiKeys: Record<string, string> = jwksUrl
    ? {
        TEMPORAL_AUTH_AUTHORIZER: 'default',
        TEMPORAL_AUTH_CLAIM_MAPPER: 'default',
        TEMPORAL_JWT_KEY_SOURCE1: jwksUrl,
        USE_INTERNAL_FRONTEND: 'true',
        INTERNAL_FRONTEND_GRPC_PORT: ig as string,
        INTERNAL_FRONTEND_MEMBERSHIP_PORT: im as string,
        INTERNAL_FRONTEND_HTTP_PORT: ih as string,
      }
    : {};
  return {
    DB: 'sqlite',
    DBNAME: join(dir, 'temporal.db'),
    VISIBILITY_DBNAME: join(dir, 'temporal-visibility.db'),
    BIND_ON_IP: '127.0.0.1',
    NUM_HISTORY_SHARDS: '1',
    LOG_LEVEL: 'warn',
    DYNAMIC_CONFIG_FILE_PATH: join(dir, 'dynamicconfig.yaml'),
    FRONTEND_GRPC_PORT: grpc as string,
    FRONTEND_HTTP_PORT: http as string,
    FRONTEND_MEMBERSHIP_PORT: fm as string,
    HISTORY_GRPC_PORT: hg as string,
    HISTORY_MEMBERSHIP_PORT: hm as string,
    MATCHING_GRPC_PORT: mg as string,
    MATCHING_MEMBERSHIP_PORT: mm as string,
    WORKER_GRPC_PORT: wg as string,
    WORKER_MEMBERSHIP_PORT: wm as string,
    ...apiKeys,
    TEMPORAL_TLS_REQUIRE_CLIENT_AUTH: jwksUrl ? 'false' : 'true',
    TEMPORAL_TLS_FRONTEND_CERT: certs.server.cert,
    TEMPORAL_TLS_FRONTEND_KEY: certs.server.key,
    TEMPORAL_TLS_CLIENT1_CA_CERT: certs.ca,
    TEMPORAL_TLS_CLIENT2_CA_CERT: certs.ca,
    TEMPORAL_TLS_SERVER_CERT: certs.server.cert,
    TEMPORAL_TLS_SERVER_KEY: certs.server.key,
    TEMPORAL_TLS_SERVER_CA_CERT: certs.ca,
    TEMPORAL_TLS_INTERNODE_SERVER_NAME: 'localhost',
    TEMPORAL_TLS_FRONTEND_SERVER_NAME: 'localhost',
  };
}

/**
 * Starts the server, waits until it answers over mTLS, registers the `default` namespace and Jipper's search
 * attributes on it.
 */
export async function startTlsServer(
  certs: Certificates,
  dir: string,
  options: { apiKeys?: ApiKeyIssuer; timeoutMs?: number } = {}
): Promise<TlsServer> {
  const timeoutMs = options.timeoutMs ?? 120_000;
  const binary = await findOrBuildTemporalServer();
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'dynamicconfig.yaml'),
    'system.forceSearchAttributesCacheRefreshOnRead:\n  - value: true\n    constraints: {}\n'
  );
  const ports: number[] = [];
  while (ports.length < 12) {
    const port = await freePort();
    if (!ports.includes(port)) ports.push(port);
  }
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? '/',
    ...tlsServerEnvironment(certs, dir, ports, options.apiKeys?.jwksUrl),
  };
  const logFile = join(dir, 'temporal-server.log');
  const out = openSync(logFile, 'a');
  let child: ChildProcess;
  try {
    const services = options.apiKeys
      ? ['frontend', 'internal-frontend', 'history', 'matching', 'worker'].flatMap((name) => ['--service', name])
      : [];
    child = spawn(binary, ['--allow-no-auth', 'start', ...services], { cwd: dir, env, stdio: ['ignore', out, out] });
  } finally {
    closeSync(out);
  }
  const exited = new Promise<void>((resolveExit) => child.once('exit', () => resolveExit()));
  const killOnExit = () => void child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const stop = async () => {
    process.removeListener('exit', killOnExit);
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  };
  const address = `127.0.0.1:${ports[0]}`;
  const tls = {
    serverRootCACertificate: readFileSync(certs.ca),
    clientCertPair: { crt: readFileSync(certs.client.cert), key: readFileSync(certs.client.key) },
  };
  const apiKey = options.apiKeys?.issue(['temporal-system:admin']);
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    if (child.exitCode !== null) {
      throw new Error(
        `the Temporal server exited with ${child.exitCode}: ${readFileSync(logFile, 'utf8').slice(-2000)}`
      );
    }
    let connection: Connection | undefined;
    try {
      connection = await Connection.connect({ address, tls, connectTimeout: 2_000, ...(apiKey ? { apiKey } : {}) });
      try {
        await connection.workflowService.registerNamespace({
          namespace: 'default',
          workflowExecutionRetentionPeriod: msToTs('1 day'),
        });
      } catch (err) {
        if ((err as { code?: number }).code !== 6) throw err; // ALREADY_EXISTS
      }
      await connection.workflowService.describeNamespace({ namespace: 'default' });
      await ensureSearchAttributes(connection, 'default');
      return { address, pid: child.pid as number, logFile, stop };
    } catch (err) {
      lastError = err;
    } finally {
      await connection?.close();
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`the Temporal server did not answer over mTLS at ${address} in time: ${String(lastError)}`);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

export interface ApiKeyIssuer {
  /** Where the server fetches the public keys (JWKS). */
  jwksUrl: string;
  /** An API key: a JWT for `sub` with these Temporal permissions (`default:admin`, `temporal-system:admin`). */
  issue(permissions: string[], signingKey?: KeyObject): string;
  /** A key the server does not know, to sign keys it must refuse. */
  strangerKey: KeyObject;
  close(): Promise<void>;
}

/** Serves a JWKS on 127.0.0.1 and signs API keys (RS256 JWTs) the server's default claim mapper reads. */
export async function startApiKeyIssuer(): Promise<ApiKeyIssuer> {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const kid = randomUUID();
  const jwks = JSON.stringify({ keys: [{ ...publicKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' }] });
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(jwks);
  });
  await new Promise<void>((resolveListen) => server.listen(0, '127.0.0.1', resolveListen));
  const base64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return {
    jwksUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`,
    strangerKey: generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey,
    issue(permissions, signingKey = privateKey) {
      const now = Math.floor(Date.now() / 1000);
      const body = `${base64url({ alg: 'RS256', typ: 'JWT', kid })}.${base64url({ sub: 'jipper-test', permissions, iat: now, exp: now + 3600 })}`;
      return `${body}.${sign('sha256', Buffer.from(body), signingKey).toString('base64url')}`;
    },
    close: () =>
      new Promise<void>((resolveClose) => {
        server.close(() => resolveClose());
        server.closeAllConnections();
      }),
  };
}
