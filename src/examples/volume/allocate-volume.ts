/** `allocate-volume`: a volume file in the pool, optionally zero-filled; its revert can wipe it before releasing it. */
import { open, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import type { JobContext } from '../../jobs/job';
import { defineJob } from '../../jobs/job';
import { CapacityExceededError, DOMAIN_ERRORS, VolumeExistsError } from './errors';
import { applyFenced, fenceOff } from './fence';
import { readJson, withLock, writeJson } from './files';
import type { AllocationRecord, Sandbox } from './sandbox';
import { DEFAULT_CAPACITY_MB, volumeName } from './sandbox';

/**
 * Claims `sizeMb` of the pool for `volume` under the pool's lock: refuses a volume another process allocated and a
 * size the pool cannot hold; a claim this step made in an earlier attempt stands.
 */
async function claimVolume(sandbox: Sandbox, volume: string, sizeMb: number, ctx: JobContext): Promise<void> {
  const { root, paths } = sandbox;
  await withLock(
    root,
    'pool',
    async () => {
      const claimed = await readJson<AllocationRecord>(paths.allocation(volume));
      if (claimed) {
        if (claimed.key === ctx.idempotencyKey) return;
        throw new VolumeExistsError(`volume "${volume}" already exists (allocated by ${claimed.key})`);
      }
      const pool = (await readJson<{ capacityMb: number }>(paths.pool)) ?? { capacityMb: DEFAULT_CAPACITY_MB };
      let usedMb = 0;
      for (const file of await readdir(paths.volumes)) {
        if (!file.endsWith('.alloc.json')) continue;
        usedMb += (await readJson<AllocationRecord>(join(paths.volumes, file)))?.sizeMb ?? 0;
      }
      if (usedMb + sizeMb > pool.capacityMb) {
        throw new CapacityExceededError(
          `the pool has ${pool.capacityMb - usedMb} MB free of ${pool.capacityMb} MB; volume "${volume}" needs ${sizeMb} MB`
        );
      }
      const handle = await open(paths.image(volume), 'w');
      await handle.truncate(sizeMb * 1024 * 1024);
      await handle.close();
      await writeJson(paths.allocation(volume), {
        volume,
        sizeMb,
        key: ctx.idempotencyKey,
      } satisfies AllocationRecord);
    },
    ctx.signal
  );
}

export function allocateVolumeJob(sandbox: Sandbox) {
  const { root, paths } = sandbox;
  return defineJob({
    name: 'allocate-volume',
    description:
      'Allocates a volume file of sizeMb in the pool, optionally zero-filling it (rate-limited); its revert can wipe the volume before releasing it.',
    input: z.object({
      volume: volumeName,
      sizeMb: z.number().int().positive().max(1_048_576),
      zeroFill: z.boolean().default(false),
      /** Rate limit for zero-filling and wiping, in MB per second (unlimited when unset). */
      ioLimitMbPerSec: z.number().positive().optional(),
      /** Overwrite the volume with zeros before releasing it (the revert heartbeats its progress and resumes). */
      wipeOnRelease: z.boolean().optional(),
    }),
    output: z.object({ volume: z.string(), path: z.string(), sizeMb: z.number() }),
    options: {
      timeout: '10m',
      retry: { maximumAttempts: 5, nonRetryableErrorTypes: DOMAIN_ERRORS },
      revert: { timeout: '1m' },
    },
    async run(input, ctx) {
      await sandbox.ensureDirs();
      const existing = await readJson<AllocationRecord>(paths.allocation(input.volume));
      if (existing && existing.key !== ctx.idempotencyKey) {
        throw new VolumeExistsError(`volume "${input.volume}" already exists (allocated by ${existing.key})`);
      }
      if (!existing) await applyFenced(root, ctx, () => claimVolume(sandbox, input.volume, input.sizeMb, ctx));
      let note = existing ? ' (found from an earlier attempt)' : '';
      if (input.zeroFill) {
        const resumedAt = await sandbox.zeroFill(input.volume, input.sizeMb, input.ioLimitMbPerSec, ctx);
        note += resumedAt ? `, zero-fill resumed at ${resumedAt} MB` : ', zero-filled';
      }
      ctx.setDetail(`allocated ${input.sizeMb} MB for ${input.volume}${note}`);
      return { volume: input.volume, path: paths.image(input.volume), sizeMb: input.sizeMb };
    },
    async revert(input, _result, ctx) {
      await fenceOff(root, ctx);
      const record = await readJson<AllocationRecord>(paths.allocation(input.volume));
      if (!record) {
        ctx.setDetail(`volume ${input.volume} was already released`);
        return;
      }
      if (!record.key.startsWith(ctx.processId + '/')) {
        ctx.setDetail(`volume ${input.volume} belongs to ${record.key}; left alone`);
        return;
      }
      let wiped = '';
      if (input.wipeOnRelease) {
        const resumedAt = await sandbox
          .zeroFill(input.volume, record.sizeMb, input.ioLimitMbPerSec, ctx)
          .catch((err: unknown) => {
            if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
            return record.sizeMb;
          });
        wiped = resumedAt ? ` (wipe resumed at ${resumedAt} MB)` : ' (wiped)';
      }
      await rm(paths.image(input.volume), { force: true });
      await rm(paths.allocation(input.volume), { force: true });
      ctx.setDetail(`released ${record.sizeMb} MB of ${input.volume}${wiped}`);
    },
  });
}
