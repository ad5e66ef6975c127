/**
 * Where `jipper worker` reads secrets, from the environment (validated here, where it enters):
 *
 * - `JIPPER_SECRETS`: comma-separated providers, asked in order: `env` (variables `JIPPER_SECRET_<NAME>`) and
 *   `file:<path>` (a directory of one file per secret, as Docker and Kubernetes mount them, or a JSON file of names to
 *   values). Default `env`.
 * - `JIPPER_SECRETS_JOBS` (not `JIPPER_SECRET_…`: that is a secret): which jobs may receive each secret, `db-password=migrate,backup;api-token=notify`. When set,
 *   a definition that sends a secret to another job (or a secret not listed) is refused before any job runs.
 *
 * A program that runs its own worker passes any `SecretProvider` (a vault client) to `createJipperWorker`.
 */
import { existsSync } from 'node:fs';
import { z } from 'zod';
import type { SecretProvider, SecretRoutes } from '../runtime/secrets';
import { chainSecrets, envSecrets, fileSecrets, withSecretRoutes } from '../runtime/secrets';
import { ConfigError } from '../config/errors';

const providerSchema = z.string().superRefine((spec, ctx) => {
  if (spec === 'env') return;
  if (!/^file:.+/.test(spec)) ctx.addIssue({ code: 'custom', message: 'each provider is `env` or `file:<path>`' });
  else if (!existsSync(spec.slice('file:'.length)))
    ctx.addIssue({ code: 'custom', message: 'no such file or directory' });
});

const ROUTE_NAME = /^[A-Za-z0-9][A-Za-z0-9._/-]*$/;

/** `db-password=migrate,backup;api-token=notify`: each secret with the jobs that may receive it. */
const routesSchema = z
  .string()
  .transform((text) =>
    text
      .split(';')
      .map((entry) => entry.trim())
      .filter(Boolean)
  )
  .pipe(z.array(z.string().regex(/^[^=]+=[^=]+$/, 'each entry is <secret>=<job>[,<job>...], entries separated by ";"')))
  .transform((entries) =>
    entries.map((entry) => {
      const [name = '', jobs = ''] = entry.split('=');
      return [
        name.trim(),
        jobs
          .split(',')
          .map((job) => job.trim())
          .filter(Boolean),
      ] as const;
    })
  )
  .superRefine((entries, ctx) => {
    const seen = new Set<string>();
    for (const [name, jobs] of entries) {
      if (!ROUTE_NAME.test(name)) ctx.addIssue({ code: 'custom', message: `"${name}" is not a secret name` });
      else if (seen.has(name)) ctx.addIssue({ code: 'custom', message: `secret "${name}" is listed twice` });
      else if (!jobs.length || !jobs.every((job) => ROUTE_NAME.test(job)))
        ctx.addIssue({ code: 'custom', message: `secret "${name}": list job names after "="` });
      seen.add(name);
    }
  })
  .transform((entries) => Object.fromEntries(entries) as SecretRoutes);

const envSchema = z.object({
  JIPPER_SECRETS: z
    .string()
    .optional()
    .transform((v) => (v ?? 'env').split(',').map((s) => s.trim()))
    .pipe(z.array(providerSchema).min(1)),
  JIPPER_SECRETS_JOBS: routesSchema.optional(),
});

/**
 * The secret provider `JIPPER_SECRETS` describes.
 *
 * @throws ConfigError naming each bad provider, on one line.
 */
export function loadSecretProvider(env: NodeJS.ProcessEnv = process.env): SecretProvider {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const bySetting = new Map<string, string[]>();
    for (const issue of parsed.error.issues) {
      const setting = String(issue.path[0]);
      const index = issue.path[1];
      const spec =
        setting === 'JIPPER_SECRETS' && typeof index === 'number'
          ? `"${env.JIPPER_SECRETS?.split(',')[index]?.trim()}": `
          : '';
      bySetting.set(setting, [...(bySetting.get(setting) ?? []), `${spec}${issue.message}`]);
    }
    const problems = [...bySetting].map(([setting, messages]) => `${setting}: ${messages.join('; ')}`);
    throw new ConfigError(`invalid configuration: ${problems.join('; ')}`);
  }
  const providers = parsed.data.JIPPER_SECRETS.map((spec) =>
    spec === 'env' ? envSecrets(env) : fileSecrets(spec.slice('file:'.length))
  );
  const provider = providers.length === 1 ? (providers[0] as SecretProvider) : chainSecrets(providers);
  const routes = parsed.data.JIPPER_SECRETS_JOBS;
  return routes ? withSecretRoutes(provider, routes) : provider;
}

/**
 * The workers' secret routes from `JIPPER_SECRETS_JOBS`, or undefined when it is not set: a client configured with them
 * refuses, when it checks a definition, what the workers would refuse.
 *
 * @throws ConfigError saying what is wrong with the setting, on one line.
 */
export function loadSecretRoutes(env: NodeJS.ProcessEnv = process.env): SecretRoutes | undefined {
  const parsed = z.object({ JIPPER_SECRETS_JOBS: routesSchema.optional() }).safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(
      `invalid configuration: JIPPER_SECRETS_JOBS: ${parsed.error.issues.map((i) => i.message).join('; ')}`
    );
  }
  return parsed.data.JIPPER_SECRETS_JOBS;
}
