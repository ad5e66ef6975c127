/** `set-quota`: a quota on the volume, never above its size; its revert removes it. */
import { rm } from 'node:fs/promises';
import { z } from 'zod';
import { defineJob } from '../../jobs/job';
import { DOMAIN_ERRORS, QuotaAboveLimitError } from './errors';
import { applyFenced, fenceOff } from './fence';
import { writeJson } from './files';
import type { Sandbox } from './sandbox';
import { volumeName } from './sandbox';

export function setQuotaJob(sandbox: Sandbox) {
  const { root, paths } = sandbox;
  return defineJob({
    name: 'set-quota',
    description: 'Sets a quota on the volume; it may not exceed the volume size.',
    input: z.object({ volume: volumeName, limitMb: z.number().int().positive() }),
    output: z.object({ limitMb: z.number() }),
    options: { timeout: '30s', retry: { nonRetryableErrorTypes: DOMAIN_ERRORS } },
    async run(input, ctx) {
      const allocation = await sandbox.allocationOf(input.volume);
      if (input.limitMb > allocation.sizeMb) {
        throw new QuotaAboveLimitError(
          `quota ${input.limitMb} MB is above the size of volume "${input.volume}" (${allocation.sizeMb} MB)`
        );
      }
      await applyFenced(root, ctx, () =>
        writeJson(paths.quota(input.volume), { limitMb: input.limitMb, key: ctx.idempotencyKey })
      );
      ctx.setDetail(`quota ${input.limitMb} MB of ${allocation.sizeMb} MB`);
      return { limitMb: input.limitMb };
    },
    async revert(input, _result, ctx) {
      await fenceOff(root, ctx);
      await rm(paths.quota(input.volume), { force: true });
      ctx.setDetail(`removed the quota on ${input.volume}`);
    },
  });
}
