/** `register-volume`: the volume in the catalog; its revert removes the process's entries. */
import { z } from 'zod';
import { defineJob } from '../../jobs/job';
import { applyFenced, fenceOff } from './fence';
import { readJson, withLock, writeJson } from './files';
import type { CatalogEntry, Sandbox } from './sandbox';
import { volumeName } from './sandbox';

export function registerVolumeJob(sandbox: Sandbox) {
  const { root, paths } = sandbox;
  return defineJob({
    name: 'register-volume',
    description: 'Registers the volume in the catalog.',
    input: z.object({ volume: volumeName, path: z.string().min(1), exportName: z.string().optional() }),
    output: z.object({ registered: z.string() }),
    options: { timeout: '30s' },
    async run(input, ctx) {
      const entries = await applyFenced(root, ctx, () =>
        withLock(
          root,
          'catalog',
          async () => {
            const catalog = (await readJson<CatalogEntry[]>(paths.catalog)) ?? [];
            if (!catalog.some((e) => e.key === ctx.idempotencyKey)) {
              catalog.push({
                volume: input.volume,
                path: input.path,
                key: ctx.idempotencyKey,
                ...(input.exportName ? { exportName: input.exportName } : {}),
              });
              await writeJson(paths.catalog, catalog);
            }
            return catalog.length;
          },
          ctx.signal
        )
      );
      ctx.setDetail(`registered ${input.volume} in the catalog (${entries} ${entries === 1 ? 'volume' : 'volumes'})`);
      return { registered: input.volume };
    },
    async revert(input, _result, ctx) {
      await fenceOff(root, ctx);
      await withLock(root, 'catalog', async () => {
        const catalog = (await readJson<CatalogEntry[]>(paths.catalog)) ?? [];
        await writeJson(
          paths.catalog,
          catalog.filter((e) => !e.key.startsWith(`${ctx.processId}/`))
        );
      });
      ctx.setDetail(`removed ${input.volume} from the catalog`);
    },
  });
}
