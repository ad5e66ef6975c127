/**
 * A code-first process with branching, on the same engine as definition runs: allocate a volume, then lay out its
 * filesystem and quota side by side, export it only when the caller asks, and register it. Workflow code, written as
 * a team writes its own (on `jipper/workflow`, job types only): it runs in the bundle of `examples/workflows.ts`, not
 * in Jipper's production bundle.
 */
import type { VolumeJobs } from '../src/examples';
import type { ProcessReport } from '../src/workflow';
import { jobRef, member, runSaga } from '../src/workflow';

const allocateVolume = jobRef<VolumeJobs['allocateVolume']>('allocate-volume');
const createFilesystem = jobRef<VolumeJobs['createFilesystem']>('create-filesystem');
const setQuota = jobRef<VolumeJobs['setQuota']>('set-quota');
const exportVolume = jobRef<VolumeJobs['exportVolume']>('export-volume');
const registerVolume = jobRef<VolumeJobs['registerVolume']>('register-volume');

export interface ProvisionVolumeInput {
  volume: string;
  sizeMb: number;
  /** Quota in MB; default: 90 % of the size. */
  quotaMb?: number;
  /** Export the volume under this name; no export when unset. */
  exportName?: string;
}

export async function provisionVolumeCodeFirst(input: ProvisionVolumeInput): Promise<ProcessReport> {
  return runSaga('provision-volume-code-first', async (saga) => {
    const volume = await saga.run('allocate', allocateVolume, {
      volume: input.volume,
      sizeMb: input.sizeMb,
      zeroFill: false,
    });
    await saga.parallel('prepare', [
      member('filesystem', createFilesystem, { volume: volume.volume }),
      member('quota', setQuota, { volume: volume.volume, limitMb: input.quotaMb ?? Math.floor(volume.sizeMb * 0.9) }),
    ]);
    let exportName: string | undefined;
    if (input.exportName) {
      const exported = await saga.run('export', exportVolume, {
        volume: volume.volume,
        exportName: input.exportName,
        clients: ['127.0.0.1/32'],
      });
      exportName = exported.exportName;
    }
    await saga.run('register', registerVolume, {
      volume: volume.volume,
      path: volume.path,
      ...(exportName ? { exportName } : {}),
    });
  });
}
