import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/config';

import { listenPlainTcp } from '../support/server';
import { connectClient, connectNative } from '../../src/config/connect';
import { ensureServer } from '../../src/dev/ensure-server';
import { ConfigError, TemporalUnreachableError } from '../../src/config/errors';
import { freePort } from '../../src/dev/ports';

/** The configuration from these variables alone (no config file). */
const fromEnv = (env: NodeJS.ProcessEnv) => loadConfig({ env, configFile: false });

describe('loadConfig', () => {
  let scratch: string;
  beforeAll(() => (scratch = mkdtempSync(join(tmpdir(), 'jipper-config-'))));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it('defaults to the embedded server, namespace default and task queue jipper', async () => {
    expect(await loadConfig({ env: {}, cwd: scratch })).toEqual({
      address: undefined,
      addressSource: undefined,
      namespace: 'default',
      taskQueue: 'jipper',
      connectionOptions: { address: undefined, tls: undefined, apiKey: undefined, metadata: undefined },
      libraries: undefined,
      webUi: undefined,
      identity: undefined,
      projectRoot: scratch,
      configFile: undefined,
      sources: {
        configFile: 'none found',
        projectRoot: 'the working directory',
        address: 'default',
        namespace: 'default',
        taskQueue: 'default',
        libraries: 'default',
        tls: 'default',
        apiKey: 'default',
        webUi: 'default',
        encryptionRequired: 'default',
        identity: 'default',
      },
      keyRing: undefined,
      encryptionRequired: false,
      dataConverter: undefined,
    });
  });

  it('reads the standard Temporal variables and JIPPER_TASK_QUEUE', async () => {
    const config = await fromEnv({
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

  it('rejects an empty JIPPER_TASK_QUEUE', async () => {
    await expect(fromEnv({ JIPPER_TASK_QUEUE: '' })).rejects.toThrow(ConfigError);
    await expect(fromEnv({ JIPPER_TASK_QUEUE: '' })).rejects.toThrow(
      'invalid configuration: JIPPER_TASK_QUEUE: must not be empty'
    );
  });

  it('lists every bad setting in one line', async () => {
    let error: unknown;
    try {
      await fromEnv({
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

  it('wants a client certificate and its key together', async () => {
    const cert = join(scratch, 'client.pem');
    writeFileSync(cert, '');
    await expect(fromEnv({ TEMPORAL_TLS_CLIENT_CERT_PATH: cert })).rejects.toThrow(
      'invalid configuration: TEMPORAL_TLS_CLIENT_KEY_PATH: must be set together with the client cert/key'
    );
  });

  it('takes the address from a profile of the Temporal config file, environment first', async () => {
    const file = join(scratch, 'temporal.toml');
    writeFileSync(
      file,
      ['[profile.staging]', 'address = "staging.internal:7233"', 'namespace = "provisioning"', ''].join('\n')
    );
    const env = { TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'staging' };
    expect(await fromEnv(env)).toMatchObject({
      address: 'staging.internal:7233',
      addressSource: 'config profile "staging"',
      namespace: 'provisioning',
    });
    expect((await fromEnv({ ...env, TEMPORAL_NAMESPACE: 'override' })).namespace).toBe('override');
    await expect(fromEnv({ TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'prod' })).rejects.toThrow(
      /^invalid Temporal client configuration: Profile 'prod' not found/
    );
  });
});

describe('connecting', () => {
  it('turns a closed TEMPORAL_ADDRESS into TemporalUnreachableError with a one-line message', async () => {
    const address = `127.0.0.1:${await freePort()}`;
    // A TLS setting keeps ensureServer from starting a dev server there: the address must answer as it is.
    const config = await fromEnv({ TEMPORAL_ADDRESS: address, TEMPORAL_TLS: 'true' });
    const expected =
      `no Temporal server answers at ${address} (TEMPORAL_ADDRESS): connection refused; ` +
      'start one with `jipper dev` (or `jipper worker`, which starts it), or use another --address';
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
      const attempt = connectNative(await fromEnv({ TEMPORAL_ADDRESS: address }), { connectTimeoutMs: 1_000 });
      await expect(attempt).rejects.toThrow(
        new RegExp(`^no Temporal server answers at ${address} \\(TEMPORAL_ADDRESS\\): `)
      );
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      await close();
    }
  });

  it("connects to the run's server", async () => {
    const config = await loadConfig({ configFile: false });
    await expect(ensureServer(config)).resolves.toMatchObject({
      address: process.env.TEMPORAL_ADDRESS,
      started: false,
    });
    const client = await connectClient(config);
    try {
      const info = await client.workflowService.getSystemInfo({});
      expect(info.capabilities).toBeDefined();
    } finally {
      await client.connection.close();
    }
  });

  it('asks for an address when none is configured', async () => {
    await expect(connectClient(await fromEnv({}))).rejects.toBeInstanceOf(ConfigError);
  });
});
