/**
 * `jipper/examples`: the example job library that Jipper's demo, docs and tests use — provisioning a storage volume
 * in a sandbox directory, with real effects on disk, every effect keyed by its job's idempotency key.
 *
 * @example
 * ```ts
 * import { volumeLibrary, inspectSandbox } from 'jipper/examples';
 * const library = volumeLibrary({ root: '/tmp/sandbox' });
 * ```
 */
export { inspectSandbox, volumeJobs, volumeLibrary } from './volume/volume-jobs';
export type { CatalogEntry, VolumeJobs, VolumeLibrary, VolumeLibraryOptions } from './volume/volume-jobs';
