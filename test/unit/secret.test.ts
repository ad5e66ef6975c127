/**
 * Secrets, without a server: a `{ $secret: name }` stays a reference through planning and the workflow's reference
 * resolution; the job's activity resolves it from the worker's provider (environment, files) just before the job
 * runs, and keeps the value out of everything the activity sends on — result, detail, heartbeats, logs, errors —
 * showing `‹secret name›` instead; a job's result fields marked secret never leave; a missing secret fails clearly.
 * Run with Temporal's MockActivityEnvironment.
 */
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { z } from 'zod';
import { defineJob } from '../../src/jobs/job';
import { defineLibrary } from '../../src/jobs/library';
import { JobRegistry } from '../../src/runtime/registry';
import type { SecretProvider } from '../../src/runtime/secrets';
import { chainSecrets, envSecrets, fileSecrets, secretEnvName } from '../../src/runtime/secrets';
import type { JobCall, JobOutcome, RevertCall } from '../../src/shared/calls';
import { SECRET_MISSING_TYPE, SECRET_UNAVAILABLE_TYPE } from '../../src/shared/errors';
import { resolveRefs, secretRef } from '../../src/shared/refs';
import { loadSecretProvider } from '../../src/worker/secrets';

const PASSWORD = 'hunter2-Tr0ub4dor&3';
const TOKEN = 'tok_9f8e7d6c5b4a';

const heartbeats: unknown[] = [];
const logs: string[] = [];

const connect = defineJob({
  name: 'connect-database',
  input: z.object({ user: z.string(), password: z.string().min(8), host: z.string() }),
  async run(input, ctx) {
    ctx.heartbeat({ stage: 'login', password: input.password });
    ctx.log.info(`logging in as ${input.user} with ${input.password}`, { password: input.password });
    ctx.setDetail(`connected to ${input.host} as ${input.user}:${input.password}`);
    if (input.host === 'down') throw new Error(`login to ${input.host} refused for password ${input.password}`);
    if (input.host === 'refused') {
      throw ApplicationFailure.create({
        type: 'LoginRefusedError',
        message: `login refused for password ${input.password}`,
        cause: new Error(`server said: bad password ${input.password}`),
      });
    }
    return { url: `postgres://${input.user}:${input.password}@${input.host}/app`, [input.password]: 'as a key too' };
  },
  async revert(input, result, ctx) {
    ctx.setDetail(`dropped the session of ${input.user} (${input.password})`);
  },
});

const mintToken = defineJob({
  name: 'mint-token',
  input: z.object({ service: z.string() }),
  secretResult: ['token', 'nested.keys.1'],
  async run(input, ctx) {
    ctx.setDetail(`minted ${TOKEN} for ${input.service}`);
    return {
      service: input.service,
      token: TOKEN,
      echo: `Bearer ${TOKEN}`,
      nested: { keys: ['public', 'k3y-s3cr3t'] },
    };
  },
});

const registry = new JobRegistry([defineLibrary('secret-tests', [connect, mintToken])]);

function provider(values: Record<string, string>): SecretProvider {
  return { description: 'the test vault', get: async (name) => values[name] };
}

async function invoke(
  activity: string,
  arg: JobCall | RevertCall,
  secrets: SecretProvider = provider({ 'db-password': PASSWORD })
): Promise<JobOutcome> {
  const fn = registry.activities({ secrets })[activity];
  if (!fn) throw new Error(`no activity ${activity}`);
  const env = new MockActivityEnvironment(
    {},
    {
      logger: {
        log: (_level: string, message: string, meta?: Record<string, unknown>) =>
          void logs.push(`${message} ${JSON.stringify(meta)}`),
        trace: () => undefined,
        debug: () => undefined,
        info: (message: string, meta?: Record<string, unknown>) => void logs.push(`${message} ${JSON.stringify(meta)}`),
        warn: (message: string, meta?: Record<string, unknown>) => void logs.push(`${message} ${JSON.stringify(meta)}`),
        error: (message: string, meta?: Record<string, unknown>) =>
          void logs.push(`${message} ${JSON.stringify(meta)}`),
      },
    }
  );
  env.on('heartbeat', (details: unknown) => heartbeats.push(details));
  return (await env.run<[JobCall | RevertCall], unknown, typeof fn>(fn, arg)) as JobOutcome;
}

const call = (job: string, input: unknown): JobCall => ({ processId: 'p-1', stepId: 'db', job, input, results: {} });

beforeEach(() => {
  heartbeats.length = 0;
  logs.length = 0;
});

describe('a $secret reference', () => {
  it('stays a reference when the workflow resolves $param and $from', () => {
    const args = { user: { $param: 'user' }, password: { $secret: 'db-password' }, host: { $from: 'alloc.host' } };
    expect(resolveRefs(args, { user: 'app' }, { alloc: { host: 'db-1' } })).toEqual({
      user: 'app',
      password: secretRef('db-password'),
      host: 'db-1',
    });
  });

  it('passes the definition check in place of a value the job needs, and a malformed name does not', () => {
    const step = (password: unknown) => ({
      name: 'p',
      steps: [{ id: 'db', job: 'connect-database', args: { user: 'app', host: 'db-1', password } }],
    });
    expect(registry.validate(step({ $secret: 'team/db-password' })).problems).toEqual([]);
    // A run parameter may be a secret reference too.
    expect(registry.validate(step({ $param: 'pw' }), { pw: { $secret: 'db-password' } }).problems).toEqual([]);
    expect(registry.validate(step({ $param: 'pw' }), { pw: 'short' }).problems).toHaveLength(1);
    expect(registry.validate(step({ $secret: '../etc/passwd' })).problems).toEqual([
      {
        path: 'steps[0].args.password',
        message: expect.stringContaining('$secret "../etc/passwd": a secret\'s name is letters, digits') as string,
      },
    ]);
  });
});

describe("the job's activity", () => {
  it('gives the job the value and keeps it out of the result, detail, heartbeats and logs', async () => {
    const outcome = await invoke(
      'connect-database.run',
      call('connect-database', { user: 'app', host: 'db-1', password: secretRef('db-password') })
    );
    const marker = '‹secret db-password›';
    expect(outcome.result).toEqual({ url: `postgres://app:${marker}@db-1/app`, [marker]: 'as a key too' });
    expect(outcome.detail).toBe(`connected to db-1 as app:${marker}`);
    expect(heartbeats).toEqual([{ stage: 'login', password: marker }]);
    expect(logs.join('\n')).toContain(`logging in as app with ${marker}`);
    expect(JSON.stringify({ outcome, heartbeats, logs })).not.toContain(PASSWORD);
  });

  const failureOf = (host: string) =>
    invoke(
      'connect-database.run',
      call('connect-database', { user: 'app', host, password: secretRef('db-password') })
    ).then(
      () => undefined,
      (err: unknown) => err as ApplicationFailure
    );

  it('keeps it out of an error: message, stack, detail', async () => {
    const failure = await failureOf('down');
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure?.message).toBe('login to down refused for password ‹secret db-password›');
    expect(failure?.stack).toContain('login to down refused for password ‹secret db-password›');
    expect(failure?.details).toEqual([{ attempt: 1, detail: 'connected to down as app:‹secret db-password›' }]);
    const { message, stack, details } = failure as ApplicationFailure;
    expect(JSON.stringify({ message, stack, details, logs })).not.toContain(PASSWORD);
  });

  it("keeps it out of an error's cause", async () => {
    const failure = await failureOf('refused');
    expect(failure?.type).toBe('LoginRefusedError');
    expect(failure?.message).toBe('login refused for password ‹secret db-password›');
    const cause = failure?.cause as Error;
    expect(cause.message).toBe('server said: bad password ‹secret db-password›');
    expect(`${cause.stack ?? ''}${failure?.stack ?? ''}`).not.toContain(PASSWORD);
  });

  it('resolves secrets for the revert too', async () => {
    const outcome = await invoke('connect-database.revert', {
      ...call('connect-database', { user: 'app', host: 'db-1', password: secretRef('db-password') }),
      result: {},
      afterFailure: false,
    });
    expect(outcome.detail).toBe('dropped the session of app (‹secret db-password›)');
  });

  it('replaces result fields the job marks secret, and their copies elsewhere', async () => {
    const outcome = await invoke('mint-token.run', call('mint-token', { service: 'billing' }));
    expect(outcome.result).toEqual({
      service: 'billing',
      token: '‹secret db.token›',
      echo: 'Bearer ‹secret db.token›',
      nested: { keys: ['public', '‹secret db.nested.keys.1›'] },
    });
    expect(outcome.detail).toBe('minted ‹secret db.token› for billing');
    expect(JSON.stringify(outcome)).not.toMatch(/tok_9f8e|k3y-s3cr3t/);
  });

  it('fails for good, naming the secret and where it is used, when the provider does not have it', async () => {
    const attempt = invoke(
      'connect-database.run',
      call('connect-database', { user: 'app', host: 'db-1', password: secretRef('db-pasword') })
    );
    await expect(attempt).rejects.toMatchObject({
      type: SECRET_MISSING_TYPE,
      nonRetryable: true,
      message:
        'secret "db-pasword" (at args.password of step "db") is not set on this worker: the test vault has no such secret',
    });
  });

  it('fails the attempt only (retried) when the provider cannot answer', async () => {
    const down: SecretProvider = {
      description: 'the vault',
      get: async () => {
        throw new Error('connection refused');
      },
    };
    await expect(
      invoke('connect-database.run', call('connect-database', { user: 'a', host: 'h', password: secretRef('x') }), down)
    ).rejects.toMatchObject({
      type: SECRET_UNAVAILABLE_TYPE,
      nonRetryable: false,
      message: 'cannot read secret "x" (at args.password) from the vault: connection refused',
    });
  });
});

describe('secret providers', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'jipper-secrets-'));
    await mkdir(join(dir, 'mounted', 'team'), { recursive: true });
    await writeFile(join(dir, 'mounted', 'db-password'), `${PASSWORD}\n`);
    await writeFile(join(dir, 'mounted', 'team', 'token'), TOKEN);
    await writeFile(join(dir, 'secrets.json'), JSON.stringify({ 'api-key': 'from-json' }));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('reads JIPPER_SECRET_<NAME> from the environment', async () => {
    expect(secretEnvName('team/db-password')).toBe('JIPPER_SECRET_TEAM_DB_PASSWORD');
    const env = envSecrets({ JIPPER_SECRET_DB_PASSWORD: PASSWORD });
    await expect(env.get('db-password')).resolves.toBe(PASSWORD);
    await expect(env.get('other')).resolves.toBeUndefined();
  });

  it('reads a directory of secret files (one trailing newline dropped) and a JSON file, never outside the directory', async () => {
    const mounted = fileSecrets(join(dir, 'mounted'));
    await expect(mounted.get('db-password')).resolves.toBe(PASSWORD);
    await expect(mounted.get('team/token')).resolves.toBe(TOKEN);
    await expect(mounted.get('missing')).resolves.toBeUndefined();
    await expect(mounted.get('../secrets.json')).resolves.toBeUndefined();
    await expect(fileSecrets(join(dir, 'secrets.json')).get('api-key')).resolves.toBe('from-json');
  });

  it('asks providers in order, and is configured by JIPPER_SECRETS with one-line errors', async () => {
    const chained = chainSecrets([fileSecrets(join(dir, 'mounted')), envSecrets({ JIPPER_SECRET_OTHER: 'o' })]);
    await expect(chained.get('other')).resolves.toBe('o');
    expect(loadSecretProvider({ JIPPER_SECRETS: `file:${join(dir, 'mounted')},env` }).description).toBe(
      `files in ${join(dir, 'mounted')}, then the environment (JIPPER_SECRET_*)`
    );
    expect(() => loadSecretProvider({ JIPPER_SECRETS: 'env,vault,file:/nowhere' })).toThrow(
      'invalid configuration: JIPPER_SECRETS: "vault": each provider is `env` or `file:<path>`; "file:/nowhere": no such file or directory'
    );
  });
});
