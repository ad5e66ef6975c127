/**
 * Example job library: provisioning a storage volume inside a sandbox directory, with real effects on disk.
 *
 * Layout under `root`: `pool.json` (capacity), `volumes/<volume>.img` (a sparse volume file) with its
 * `<volume>.alloc.json` record, `mnt/<volume>/` (the filesystem tree), `quotas/<volume>.json`,
 * `exports/<exportName>.conf`, `catalog.json` (registered volumes) and `audit.log` (append-only; no revert), and
 * `fences/` (one small file per reverted step, see below).
 *
 * Every effect is keyed by the job's idempotency key, so a retried attempt (after a worker crash, say) finds its own
 * earlier effect and does not apply it twice. Every effect a revert undoes is also fenced: a revert first records, under
 * the step's own lock, when it was scheduled; a run writes its effect under that lock, and refuses
 * ({@link SupersededAttemptError}) when the step has been reverted since the attempt was scheduled. An attempt
 * Temporal gave up on can still be running — a worker that stalled, a wait that ended late — after its retry succeeded
 * and the process unwound; without the fence it would apply its effect again, with nothing left to revert it. Failures
 * are domain errors chosen by the process args: asking for more than the pool holds, a quota above the volume's size,
 * an export name another volume already uses.
 */
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { defineLibrary } from '../../jobs/library';
import { allocateVolumeJob } from './allocate-volume';
import { createFilesystemJob } from './create-filesystem';
import { exportVolumeJob } from './export-volume';
import { readJson } from './files';
import { recordAuditEventJob } from './record-audit-event';
import { registerVolumeJob } from './register-volume';
import type { CatalogEntry } from './sandbox';
import { openSandbox } from './sandbox';
import { setQuotaJob } from './set-quota';

export {
  CapacityExceededError,
  NameAlreadyExportedError,
  QuotaAboveLimitError,
  SupersededAttemptError,
  VolumeExistsError,
  VolumeNotFoundError,
} from './errors';
export { DEFAULT_CAPACITY_MB } from './sandbox';
export type { CatalogEntry } from './sandbox';

export interface VolumeLibraryOptions {
  /** The sandbox directory all effects live in; created when missing. */
  root: string;
}

/** The example library, with its effects under `options.root`. */
export function volumeJobs(options: VolumeLibraryOptions) {
  const sandbox = openSandbox(options.root);
  return {
    allocateVolume: allocateVolumeJob(sandbox),
    createFilesystem: createFilesystemJob(sandbox),
    setQuota: setQuotaJob(sandbox),
    exportVolume: exportVolumeJob(sandbox),
    registerVolume: registerVolumeJob(sandbox),
    recordAuditEvent: recordAuditEventJob(sandbox),
  };
}

export type VolumeJobs = ReturnType<typeof volumeJobs>;

/**
 * The example library, ready to register on a worker. It keeps its jobs' types, so code-first workflows name its jobs
 * checked: `jobRefs<VolumeLibrary>()('set-quota')`.
 */
export function volumeLibrary(options: VolumeLibraryOptions) {
  const jobs = volumeJobs(options);
  return defineLibrary('volumes', [
    jobs.allocateVolume,
    jobs.createFilesystem,
    jobs.setQuota,
    jobs.exportVolume,
    jobs.registerVolume,
    jobs.recordAuditEvent,
  ]);
}

/** The example library's type (its jobs, by name): what `jobRefs<VolumeLibrary>()` takes. */
export type VolumeLibrary = ReturnType<typeof volumeLibrary>;

/** Reads the sandbox's state: what a test (or a curious operator) checks after a run. */
export async function inspectSandbox(root: string) {
  const list = async (dir: string) => (await readdir(join(root, dir)).catch(() => [] as string[])).sort();
  return {
    volumes: (await list('volumes')).filter((f) => f.endsWith('.img')).map((f) => f.replace(/\.img$/, '')),
    mounts: await list('mnt'),
    // Only whole records: a temporary file a killed worker left behind is not an effect.
    quotas: (await list('quotas')).filter((f) => f.endsWith('.json')).map((f) => f.replace(/\.json$/, '')),
    exports: (await list('exports')).filter((f) => f.endsWith('.conf')).map((f) => f.replace(/\.conf$/, '')),
    catalog: (await readJson<CatalogEntry[]>(join(root, 'catalog.json'))) ?? [],
    audit: (await readFile(join(root, 'audit.log'), 'utf8').catch(() => '')).split('\n').filter(Boolean),
  };
}
