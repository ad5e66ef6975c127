/**
 * Secrets in their encodings (issue 25, item 6), without a server: the redactor replaces a secret's URL-encoded,
 * JSON-escaped and base64 forms (at any alignment, as in a Basic auth header), and the workers' secret routes
 * (`JIPPER_SECRETS_JOBS`) are read with one-line errors and refuse a definition that sends a secret elsewhere.
 * The same on a real server: test/integration/secret-encodings.test.ts.
 */
import { Redactor, encodingsOf } from '../../src/runtime/redact';
import { secretRouteProblems } from '../../src/runtime/secret-routes';
import { envSecrets } from '../../src/runtime/secrets';
import { loadRegistry } from '../../src/worker/libraries';
import { loadSecretProvider } from '../../src/worker/secrets';
import { tmpdir } from 'node:os';

const SECRET = 'p/a@ss wörd"&=x';

describe('the redactor, on encoded secrets', () => {
  const redactor = new Redactor();
  redactor.add(SECRET, 'db');

  it.each([
    ['URL-encoded', `postgres://app:${encodeURIComponent(SECRET)}@db/app`],
    ['form-encoded', `password=${encodeURIComponent(SECRET).replace(/%20/g, '+')}&user=app`],
    ['JSON-escaped', `body ${JSON.stringify({ password: SECRET })}`],
    ['JSON-escaped twice', JSON.stringify({ body: JSON.stringify({ password: SECRET }) })],
    ['base64', `token ${Buffer.from(SECRET).toString('base64')}`],
    ['base64url', `token ${Buffer.from(SECRET).toString('base64url')}`],
    ['base64 at offset 1', `Basic ${Buffer.from(`a:${SECRET}`).toString('base64')}`],
    ['base64 at offset 2', `Basic ${Buffer.from(`ab:${SECRET}`).toString('base64')}`],
    ['base64 at offset 0 with a prefix', `Basic ${Buffer.from(`app:${SECRET}`).toString('base64')}`],
  ])('replaces it %s', (_, text) => {
    const out = redactor.text(text);
    expect(out).toContain('‹secret db›');
    // What is left of the encoded secret is at most the few characters it shares with its neighbours.
    for (const form of encodingsOf(SECRET)) expect(out).not.toContain(form);
    const decodedBase64 = [...out.matchAll(/[A-Za-z0-9+/_-]{8,}/g)].map((m) => Buffer.from(m[0], 'base64').toString());
    for (const piece of decodedBase64) expect(piece).not.toContain(SECRET.slice(2, -2));
  });

  it('leaves ordinary text alone', () => {
    expect(redactor.text('nothing secret here: 100% fine')).toBe('nothing secret here: 100% fine');
  });
});

describe('secret routes', () => {
  const routes = { db: ['migrate'], api: ['notify', 'audit'] };
  const definition = {
    name: 'p',
    params: { pw: { $secret: 'db' } },
    steps: [
      { id: 'm', job: 'migrate', args: { password: { $secret: 'db' } } },
      { id: 'log', job: 'audit', args: { line: { $secret: 'db' }, again: { $param: 'pw' } } },
      { id: 'g', parallel: [{ id: 'n', job: 'notify', args: { token: { $secret: 'api' }, x: { $secret: 'nope' } } }] },
    ],
  };

  it('refuses each place that sends a secret to a job not listed for it, in one line each', () => {
    expect(secretRouteProblems(definition, { pw: { $secret: 'db' } }, routes)).toEqual([
      {
        path: 'steps[1].args.line',
        message: 'secret "db" may go only to job "migrate" (the workers\' secret routes), not to "audit"',
      },
      {
        path: 'steps[1].args.again',
        message: 'secret "db" may go only to job "migrate" (the workers\' secret routes), not to "audit"',
      },
      {
        path: 'steps[2].parallel[0].args.x',
        message: 'secret "nope" is not routed to any job by the workers\' secret routes (JIPPER_SECRETS_JOBS)',
      },
    ]);
    expect(secretRouteProblems(definition, {}, undefined)).toEqual([]);
  });

  it('reads JIPPER_SECRETS_JOBS, and says in one line what is wrong with it', () => {
    const provider = loadSecretProvider({ JIPPER_SECRETS_JOBS: 'db=migrate, backup; api=notify' });
    expect(provider.routes).toEqual({ db: ['migrate', 'backup'], api: ['notify'] });
    expect(() => loadSecretProvider({ JIPPER_SECRETS_JOBS: 'db' })).toThrow(
      'invalid configuration: JIPPER_SECRETS_JOBS: each entry is <secret>=<job>[,<job>...], entries separated by ";"'
    );
    expect(() => loadSecretProvider({ JIPPER_SECRETS_JOBS: 'db=a;db=b' })).toThrow(
      'invalid configuration: JIPPER_SECRETS_JOBS: secret "db" is listed twice'
    );
    expect(loadSecretProvider({}).routes).toBeUndefined();
    expect(envSecrets({}).routes).toBeUndefined();
  });

  it('reaches the client: a registry loaded with JIPPER_SECRETS_JOBS refuses a misrouted definition when it checks it', async () => {
    const config = { libraries: undefined, projectRoot: tmpdir(), sources: {} } as Parameters<typeof loadRegistry>[0];
    const registry = await loadRegistry(config, { JIPPER_SECRETS_JOBS: 'db=allocate-volume' });
    const steps = [{ id: 'fs', job: 'create-filesystem', args: { volume: { $secret: 'db' } } }];
    expect(registry.validate({ name: 'p', steps }).problems).toContainEqual({
      path: 'steps[0].args.volume',
      message:
        'secret "db" may go only to job "allocate-volume" (the workers\' secret routes), not to "create-filesystem"',
    });
    expect((await loadRegistry(config, {})).validate({ name: 'p', steps }).problems).toEqual([]);
  });
});
