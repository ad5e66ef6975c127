/**
 * The code-first API, for workflows that need branching: typed steps on Jipper's saga engine, with the same
 * semantics and report as definition runs. Safe to import from workflow code (it runs in Temporal's sandbox).
 */
export { jobRef, member, runSaga, Saga } from './workflows/saga';
export type { JobRef, ParallelMember, SagaOptions, SagaStepOptions } from './workflows/saga';
export { reportQuery, decideUpdate } from './workflows/messages';
export type { ProcessReport } from './shared/report';
