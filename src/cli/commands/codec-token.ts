/** `JIPPER_CODEC_TOKEN`: the bearer token of `jipper codec-server` and of `jipper dev`'s codec server. */
import { z } from 'zod';
import { ConfigError } from '../../config/errors';

const tokenSchema = z.object({ JIPPER_CODEC_TOKEN: z.string().min(16, 'must be at least 16 characters').optional() });

/** The codec server's bearer token from `JIPPER_CODEC_TOKEN` (validated where it enters), or undefined. */
export function codecToken(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const token = tokenSchema.safeParse(env);
  if (!token.success) {
    throw new ConfigError(`invalid configuration: JIPPER_CODEC_TOKEN: ${token.error.issues[0]?.message}`);
  }
  return token.data.JIPPER_CODEC_TOKEN;
}
