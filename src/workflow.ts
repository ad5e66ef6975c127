/**
 * `jipper/workflow`: the code-first API, for processes that need branching. Typed steps on Jipper's saga engine,
 * with the same semantics and report as definition runs. Safe to import from workflow code: it runs in Temporal's
 * sandbox and pulls in no Node built-ins and no zod. Import job types only (`import type`), never job code.
 *
 * @example
 * ```ts
 * import { jobRef, runSaga } from 'jipper/workflow';
 * import type { VolumeJobs, VolumeLibrary } from './jobs';
 *
 * const allocate = jobRef<VolumeJobs['allocateVolume']>('allocate-volume'); // a wrong name does not compile
 * // or every job of a library at once: const volumes = jobRefs<VolumeLibrary>(); volumes('set-quota')
 *
 * export async function provision(input: { volume: string }) {
 *   return runSaga('provision', async (saga) => {
 *     await saga.run('allocate', allocate, { volume: input.volume, sizeMb: 64 });
 *   });
 * }
 * ```
 */
export { jobRef, jobRefs, member, runSaga, Saga } from './workflows/saga';
export type { JobRef, ParallelMember, SagaOptions, SagaStepOptions } from './workflows/saga';
export { reportQuery, decideUpdate } from './workflows/messages';
export type { DecideRequest, DecideResponse } from './workflows/messages';
export type { ProcessReport, JobReport, ProcessStatus, JobStatus } from './shared/report';
