/**
 * Secrets: where a worker reads the values of the `{ $secret: name }` references in job args. Only the job's activity
 * reads them, just before the job runs; the workflow, its history, the report, logs, errors and the Web UI see the
 * reference, or `‹secret name›` where the value would have been (`redact.ts`).
 *
 * A provider answers one question: the value of a named secret, or `undefined` when it has none. Two come with Jipper
 * (the environment, and files); a vault is one more implementation of {@link SecretProvider}.
 *
 * ```ts
 * const secrets = chainSecrets([fileSecrets('/run/secrets'), envSecrets()]);
 * await createJipperWorker({ connection, taskQueue, libraries, secrets });
 * ```
 */
import { readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { isRecord } from '../shared/text';

export interface SecretProvider {
  /** What it reads from, for messages: `the environment (JIPPER_SECRET_*)`, `files in /run/secrets`. */
  readonly description: string;
  /**
   * The value of the secret `name`, or `undefined` when this provider does not have it. Throw when the provider cannot
   * answer (a vault that does not respond): the job's attempt fails, and is retried by the job's retry policy.
   */
  get(name: string): Promise<string | undefined>;
  /**
   * Which jobs may receive each secret: secret name → job names. When set, a definition that sends a secret to any
   * other job (or sends a secret not listed) is refused when the run is checked, before any job runs, and the job's
   * activity refuses it too. Unset: any job may receive any secret. See {@link withSecretRoutes}.
   */
  readonly routes?: SecretRoutes;
}

/** The failure type of a job refused a secret: not routed to it, or too short (never retried). */
export const SECRET_REFUSED_TYPE = 'JipperSecretRefused';

/** Secret name → the names of the jobs that may receive it. */
export type SecretRoutes = Readonly<Record<string, readonly string[]>>;

/** The shortest secret value a job may receive: a shorter one would redact ordinary text, and be easy to guess at. */
export const MIN_SECRET_LENGTH = 8;

/** The provider, with the jobs each secret may go to (see {@link SecretProvider.routes}). */
export function withSecretRoutes(provider: SecretProvider, routes: SecretRoutes): SecretProvider {
  const listed = Object.entries(routes)
    .map(([name, jobs]) => `${name} → ${jobs.join(', ')}`)
    .join('; ');
  return {
    description: `${provider.description} (secrets only to their jobs: ${listed || 'none'})`,
    get: (name) => provider.get(name),
    routes,
  };
}

/** Why `job` may not receive secret `name` under `routes`, in one line; undefined when it may. */
export function secretRouteRefusal(routes: SecretRoutes | undefined, name: string, job: string): string | undefined {
  if (routes === undefined) return undefined;
  const allowed = Object.hasOwn(routes, name) ? routes[name] : undefined;
  if (allowed?.includes(job)) return undefined;
  return allowed
    ? `secret "${name}" may go only to job${allowed.length === 1 ? '' : 's'} ${allowed.map((j) => `"${j}"`).join(', ')} (the workers' secret routes), not to "${job}"`
    : `secret "${name}" is not routed to any job by the workers' secret routes (JIPPER_SECRETS_JOBS)`;
}

/** The prefix of the environment variables {@link envSecrets} reads by default. */
export const SECRET_ENV_PREFIX = 'JIPPER_SECRET_';

/** The environment variable of a secret: `db-password` → `JIPPER_SECRET_DB_PASSWORD`. */
export function secretEnvName(name: string, prefix = SECRET_ENV_PREFIX): string {
  return `${prefix}${name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
}

/**
 * Secrets from environment variables: `db-password` is `JIPPER_SECRET_DB_PASSWORD` (upper case, every character that
 * is not a letter or digit an underscore). Read when asked, so a variable set after the worker started counts.
 */
export function envSecrets(env: NodeJS.ProcessEnv = process.env, prefix = SECRET_ENV_PREFIX): SecretProvider {
  return {
    description: `the environment (${prefix}*)`,
    async get(name) {
      const value = env[secretEnvName(name, prefix)];
      return value === undefined || value === '' ? undefined : value;
    },
  };
}

/**
 * Secrets from files. A directory holds one file per secret, named as the secret (`/run/secrets/db-password`, the way
 * Docker and Kubernetes mount secrets; a name with `/` is a path below it); one trailing newline is dropped. A file
 * holds a JSON object of names to string values. Read when asked, so a rotated secret is picked up.
 */
export function fileSecrets(path: string): SecretProvider {
  const root = resolve(path);
  return {
    description: `files in ${root}`,
    async get(name) {
      const info = await stat(root);
      if (info.isDirectory()) {
        const file = join(root, name);
        if (!file.startsWith(`${root}/`)) return undefined;
        try {
          return (await readFile(file, 'utf8')).replace(/\r?\n$/, '');
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
          throw err;
        }
      }
      const json: unknown = JSON.parse(await readFile(root, 'utf8'));
      if (!isRecord(json)) throw new Error(`${root} is not a JSON object of secret names to values`);
      const value = Object.hasOwn(json, name) ? json[name] : undefined;
      if (value !== undefined && typeof value !== 'string')
        throw new Error(`${root}: secret "${name}" is not a string`);
      return value;
    },
  };
}

/** Asks each provider in turn; the first that has the secret answers. */
export function chainSecrets(providers: readonly SecretProvider[]): SecretProvider {
  return {
    description: providers.map((p) => p.description).join(', then ') || 'no secret provider',
    async get(name) {
      for (const provider of providers) {
        const value = await provider.get(name);
        if (value !== undefined) return value;
      }
      return undefined;
    },
  };
}
