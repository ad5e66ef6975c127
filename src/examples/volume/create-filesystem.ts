/** `create-filesystem`: the filesystem tree of an allocated volume; its revert removes it. */
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { defineJob } from '../../jobs/job';
import { DOMAIN_ERRORS } from './errors';
import { applyFenced, fenceOff } from './fence';
import { writeJson } from './files';
import type { Sandbox } from './sandbox';
import { volumeName } from './sandbox';

export function createFilesystemJob(sandbox: Sandbox) {
  const { root, paths } = sandbox;
  return defineJob({
    name: 'create-filesystem',
    description: 'Lays out the filesystem tree of an allocated volume (data, logs, snapshots).',
    input: z.object({ volume: volumeName, label: z.string().max(16).optional() }),
    output: z.object({ mountPath: z.string() }),
    options: { timeout: '30s', retry: { nonRetryableErrorTypes: DOMAIN_ERRORS } },
    async run(input, ctx) {
      await sandbox.allocationOf(input.volume);
      const mount = paths.mount(input.volume);
      await applyFenced(root, ctx, async () => {
        for (const dir of ['data', 'logs', 'snapshots']) await mkdir(join(mount, dir), { recursive: true });
        await writeJson(join(mount, '.filesystem.json'), {
          label: input.label ?? input.volume,
          key: ctx.idempotencyKey,
        });
      });
      ctx.setDetail(`laid out data/, logs/, snapshots/ under ${mount}`);
      return { mountPath: mount };
    },
    async revert(input, _result, ctx) {
      await fenceOff(root, ctx);
      await rm(paths.mount(input.volume), { recursive: true, force: true });
      ctx.setDetail(`removed the filesystem tree of ${input.volume}`);
    },
  });
}
