import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/config';

import { listenPlainTcp } from '../support/server';
import { connectClient, connectNative } from '../../src/config/connect';
import { ensureServer } from '../../src/dev/ensure-server';
import { ConfigError, TemporalUnreachableError } from '../../src/config/errors';
import { freePort } from '../../src/dev/ports';

describe('loadConfig', () => {
  let scratch: string;
  beforeAll(() => (scratch = mkdtempSync(join(tmpdir(), 'jipper-config-'))));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it('defaults to the embedded server, namespace default and task queue jipper', () => {
    expect(loadConfig({})).toEqual({
      address: undefined,
      addressSource: undefined,
      namespace: 'default',
      taskQueue: 'jipper',
      connectionOptions: { address: undefined, tls: undefined, apiKey: undefined, metadata: undefined },
      keyRing: undefined,
      dataConverter: undefined,
    });
  });

  it('reads the standard Temporal variables and JIPPER_TASK_QUEUE', () => {
    const config = loadConfig({
      TEMPORAL_ADDRESS: 'temporal.example:7233',
      TEMPORAL_NAMESPACE: 'storage',
      TEMPORAL_API_KEY: 'secret',
      TEMPORAL_GRPC_META_X_TEAM: 'storage',
      JIPPER_TASK_QUEUE: 'volumes',
    });
    expect(config).toMatchObject({
      address: 'temporal.example:7233',
      addressSource: 'TEMPORAL_ADDRESS',
      namespace: 'storage',
      taskQueue: 'volumes',
      connectionOptions: { apiKey: 'secret', tls: true, metadata: { 'x-team': 'storage' } },
    });
  });

  it('rejects an empty JIPPER_TASK_QUEUE', () => {
    expect(() => loadConfig({ JIPPER_TASK_QUEUE: '' })).toThrow(ConfigError);
    expect(() => loadConfig({ JIPPER_TASK_QUEUE: '' })).toThrow(
      'invalid configuration: JIPPER_TASK_QUEUE: must not be empty'
    );
  });

  it('lists every bad setting in one line', () => {
    let error: unknown;
    try {
      loadConfig({
        TEMPORAL_ADDRESS: 'localhost:notaport',
        TEMPORAL_TLS: 'maybe',
        TEMPORAL_TLS_CLIENT_CERT_PATH: join(scratch, 'missing.pem'),
      });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message.split('\n')).toHaveLength(1);
    expect(message).toContain('TEMPORAL_ADDRESS: must be host:port, e.g. 127.0.0.1:7233');
    expect(message).toContain('TEMPORAL_TLS: must be true, false, 1 or 0');
    expect(message).toContain('TEMPORAL_TLS_CLIENT_CERT_PATH: no such file');
  });

  it('wants a client certificate and its key together', () => {
    const cert = join(scratch, 'client.pem');
    writeFileSync(cert, '');
    expect(() => loadConfig({ TEMPORAL_TLS_CLIENT_CERT_PATH: cert })).toThrow(
      'invalid configuration: TEMPORAL_TLS_CLIENT_KEY_PATH: must be set together with the client cert/key'
    );
  });

  it('takes the address from a profile of the Temporal config file, environment first', () => {
    const file = join(scratch, 'temporal.toml');
    writeFileSync(
      file,
      ['[profile.staging]', 'address = "staging.internal:7233"', 'namespace = "provisioning"', ''].join('\n')
    );
    const env = { TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'staging' };
    expect(loadConfig(env)).toMatchObject({
      address: 'staging.internal:7233',
      addressSource: 'config profile "staging"',
      namespace: 'provisioning',
    });
    expect(loadConfig({ ...env, TEMPORAL_NAMESPACE: 'override' }).namespace).toBe('override');
    expect(() => loadConfig({ TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'prod' })).toThrow(
      /^invalid Temporal client configuration: Profile 'prod' not found/
    );
  });
});

describe('connecting', () => {
  it('turns a closed TEMPORAL_ADDRESS into TemporalUnreachableError with a one-line message', async () => {
    const address = `127.0.0.1:${await freePort()}`;
    const config = loadConfig({ TEMPORAL_ADDRESS: address });
    const expected =
      `no Temporal server answers at ${address} (TEMPORAL_ADDRESS): connection refused; ` +
      'start one with `jipper dev` or unset TEMPORAL_ADDRESS';
    for (const attempt of [connectClient(config), connectNative(config), ensureServer(config)]) {
      await expect(attempt).rejects.toBeInstanceOf(TemporalUnreachableError);
      await expect(attempt).rejects.toThrow(expected);
    }
  });

  it('gives up on a port that accepts but does not speak Temporal within the timeout', async () => {
    const { port, close } = await listenPlainTcp();
    const address = `127.0.0.1:${port}`;
    try {
      const started = Date.now();
      const attempt = connectNative(loadConfig({ TEMPORAL_ADDRESS: address }), { connectTimeoutMs: 1_000 });
      await expect(attempt).rejects.toThrow(
        new RegExp(`^no Temporal server answers at ${address} \\(TEMPORAL_ADDRESS\\): `)
      );
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      await close();
    }
  });

  it("connects to the run's server", async () => {
    const config = loadConfig();
    await expect(ensureServer(config)).resolves.toBe(process.env.TEMPORAL_ADDRESS);
    const client = await connectClient(config);
    try {
      const info = await client.workflowService.getSystemInfo({});
      expect(info.capabilities).toBeDefined();
    } finally {
      await client.connection.close();
    }
  });

  it('asks for an address when none is configured', async () => {
    await expect(connectClient(loadConfig({}))).rejects.toBeInstanceOf(ConfigError);
  });
});
