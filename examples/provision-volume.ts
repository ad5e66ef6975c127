/**
 * The same process as provision-volume.yaml, written in TypeScript: a definition is data, so a script can build it.
 *
 *   import { provisionVolume } from './examples/provision-volume';
 *   await runProcess(client, provisionVolume({ volume: 'vol-9', exportName: 'share-9' }), { taskQueue: 'jipper' });
 */
import { defineProcess } from '../src';

export function provisionVolume(params: { volume: string; exportName: string; sizeMb?: number; quotaMb?: number }) {
  const sizeMb = params.sizeMb ?? 64;
  return defineProcess({
    name: 'provision-volume',
    params: { ...params, sizeMb, quotaMb: params.quotaMb ?? Math.floor(sizeMb * 0.75) },
    steps: [
      { id: 'allocate', job: 'allocate-volume', args: { volume: { $param: 'volume' }, sizeMb: { $param: 'sizeMb' } } },
      {
        id: 'prepare',
        parallel: [
          { id: 'filesystem', job: 'create-filesystem', args: { volume: { $from: 'allocate.volume' } } },
          {
            id: 'quota',
            job: 'set-quota',
            args: { volume: { $from: 'allocate.volume' }, limitMb: { $param: 'quotaMb' } },
          },
        ],
      },
      {
        id: 'export',
        job: 'export-volume',
        args: { volume: { $param: 'volume' }, exportName: { $param: 'exportName' } },
      },
      {
        id: 'register',
        job: 'register-volume',
        args: {
          volume: { $param: 'volume' },
          path: { $from: 'allocate.path' },
          exportName: { $from: 'export.exportName' },
        },
      },
    ],
  });
}
