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
