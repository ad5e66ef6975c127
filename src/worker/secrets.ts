/**
 * Where `jipper worker` reads secrets, from the environment (validated here, where it enters):
 *
 * - `JIPPER_SECRETS`: comma-separated providers, asked in order: `env` (variables `JIPPER_SECRET_<NAME>`) and
 *   `file:<path>` (a directory of one file per secret, as Docker and Kubernetes mount them, or a JSON file of names to
 *   values). Default `env`.
 *
 * A program that runs its own worker passes any `SecretProvider` (a vault client) to `createJipperWorker`.
 */
import { existsSync } from 'node:fs';
import { z } from 'zod';
import type { SecretProvider } from '../runtime/secrets';
import { chainSecrets, envSecrets, fileSecrets } from '../runtime/secrets';
import { ConfigError } from '../config/errors';

const providerSchema = z.string().superRefine((spec, ctx) => {
  if (spec === 'env') return;
  if (!/^file:.+/.test(spec)) ctx.addIssue({ code: 'custom', message: 'each provider is `env` or `file:<path>`' });
  else if (!existsSync(spec.slice('file:'.length)))
    ctx.addIssue({ code: 'custom', message: 'no such file or directory' });
});

const envSchema = z.object({
  JIPPER_SECRETS: z
    .string()
    .optional()
    .transform((v) => (v ?? 'env').split(',').map((s) => s.trim()))
    .pipe(z.array(providerSchema).min(1)),
});

/**
 * The secret provider `JIPPER_SECRETS` describes.
 *
 * @throws ConfigError naming each bad provider, on one line.
 */
export function loadSecretProvider(env: NodeJS.ProcessEnv = process.env): SecretProvider {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const index = issue.path[1];
      const spec = typeof index === 'number' ? `"${env.JIPPER_SECRETS?.split(',')[index]?.trim()}": ` : '';
      return `${spec}${issue.message}`;
    });
    throw new ConfigError(`invalid configuration: JIPPER_SECRETS: ${problems.join('; ')}`);
  }
  const providers = parsed.data.JIPPER_SECRETS.map((spec) =>
    spec === 'env' ? envSecrets(env) : fileSecrets(spec.slice('file:'.length))
  );
  return providers.length === 1 ? (providers[0] as SecretProvider) : chainSecrets(providers);
}
