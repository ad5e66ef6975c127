/**
 * The example library's sandbox directory: where each record lives, the records themselves, and the helpers every job
 * shares (see volume-jobs.ts for the layout).
 */
import { mkdir, open } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import type { JobContext } from '../../jobs/job';
import { VolumeNotFoundError } from './errors';
import { readJson } from './files';

/** Default pool capacity when the sandbox has no `pool.json`. */
export const DEFAULT_CAPACITY_MB = 1024;

export const volumeName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'a volume name is lower-case letters, digits and "-"');

export interface AllocationRecord {
  volume: string;
  sizeMb: number;
  key: string;
  filledMb?: number;
}

export interface CatalogEntry {
  volume: string;
  exportName?: string;
  path: string;
  key: string;
}

/** The paths of a sandbox's records. */
export function sandboxPaths(root: string) {
  return {
    pool: join(root, 'pool.json'),
    volumes: join(root, 'volumes'),
    image: (v: string) => join(root, 'volumes', `${v}.img`),
    allocation: (v: string) => join(root, 'volumes', `${v}.alloc.json`),
    mount: (v: string) => join(root, 'mnt', v),
    quota: (v: string) => join(root, 'quotas', `${v}.json`),
    exports: join(root, 'exports'),
    exportConf: (name: string) => join(root, 'exports', `${name}.conf`),
    catalog: join(root, 'catalog.json'),
    audit: join(root, 'audit.log'),
  };
}

/** A sandbox the example jobs share: its root, its paths, and the helpers they use. */
export interface Sandbox {
  readonly root: string;
  readonly paths: ReturnType<typeof sandboxPaths>;
  /** Creates the directories the jobs write in. */
  ensureDirs(): Promise<void>;
  /** The volume's allocation record; {@link VolumeNotFoundError} when it is not allocated. */
  allocationOf(volume: string): Promise<AllocationRecord>;
  /**
   * Zero-fills the volume file 1 MB at a time, heartbeating its progress; a retry resumes where the last one stopped.
   * Returns the MB it resumed at (0 for a fresh fill).
   */
  zeroFill(volume: string, sizeMb: number, mbPerSecond: number | undefined, ctx: JobContext): Promise<number>;
}

export function openSandbox(root: string): Sandbox {
  const paths = sandboxPaths(root);
  return {
    root,
    paths,
    async ensureDirs() {
      for (const dir of [paths.volumes, join(root, 'mnt'), join(root, 'quotas'), paths.exports]) {
        await mkdir(dir, { recursive: true });
      }
    },
    async allocationOf(volume) {
      const record = await readJson<AllocationRecord>(paths.allocation(volume));
      if (!record) throw new VolumeNotFoundError(`volume "${volume}" is not allocated`);
      return record;
    },
    async zeroFill(volume, sizeMb, mbPerSecond, ctx) {
      const resumeAt = typeof ctx.lastHeartbeat === 'number' ? ctx.lastHeartbeat : 0;
      const handle = await open(paths.image(volume), 'r+');
      try {
        const chunk = Buffer.alloc(1024 * 1024);
        for (let mb = resumeAt; mb < sizeMb; mb++) {
          await handle.write(chunk, 0, chunk.length, mb * chunk.length);
          ctx.heartbeat(mb + 1);
          if (mbPerSecond) await ctx.sleep(1000 / mbPerSecond);
        }
      } finally {
        await handle.close();
      }
      return resumeAt;
    },
  };
}
