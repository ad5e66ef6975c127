/** `export-volume`: an export config so clients can mount the volume; its revert withdraws it. */
import { readFile, rm } from 'node:fs/promises';
import { z } from 'zod';
import { defineJob } from '../../jobs/job';
import { DOMAIN_ERRORS, NameAlreadyExportedError } from './errors';
import { applyFenced, fenceOff } from './fence';
import { createAtomically } from './files';
import type { Sandbox } from './sandbox';
import { volumeName } from './sandbox';

export function exportVolumeJob(sandbox: Sandbox) {
  const { root, paths } = sandbox;
  return defineJob({
    name: 'export-volume',
    description: 'Writes an export config so clients can mount the volume under exportName.',
    input: z.object({
      volume: volumeName,
      exportName: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/i, 'an export name is letters, digits, "-" and "_"'),
      clients: z.array(z.string().min(1)).min(1).default(['127.0.0.1/32']),
    }),
    output: z.object({ exportName: z.string(), configPath: z.string() }),
    options: { timeout: '30s', retry: { nonRetryableErrorTypes: DOMAIN_ERRORS } },
    async run(input, ctx) {
      await sandbox.ensureDirs();
      await sandbox.allocationOf(input.volume);
      const conf = paths.exportConf(input.exportName);
      const body = `volume=${input.volume}\npath=${paths.mount(input.volume)}\nclients=${input.clients.join(',')}\nkey=${ctx.idempotencyKey}\n`;
      await applyFenced(root, ctx, async () => {
        if (await createAtomically(conf, body)) return;
        const current = await readFile(conf, 'utf8');
        if (!current.includes(`key=${ctx.idempotencyKey}\n`)) {
          const owner = /^volume=(.*)$/m.exec(current)?.[1] ?? 'another volume';
          throw new NameAlreadyExportedError(`export name "${input.exportName}" is already used by volume "${owner}"`);
        }
      });
      ctx.setDetail(`exported ${input.volume} as ${input.exportName} to ${input.clients.join(', ')}`);
      return { exportName: input.exportName, configPath: conf };
    },
    async revert(input, _result, ctx) {
      await fenceOff(root, ctx);
      const conf = paths.exportConf(input.exportName);
      const current = await readFile(conf, 'utf8').catch(() => undefined);
      if (current?.includes(`key=${ctx.processId}/`)) await rm(conf, { force: true });
      ctx.setDetail(`withdrew export ${input.exportName}`);
    },
  });
}
