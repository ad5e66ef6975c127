/**
 * `jipper/testing`: test your job libraries and processes against a real Temporal server, the way Jipper tests
 * itself. Works with Jest and with Node's test runner (`node --import jipper/register --test`):
 *
 * - {@link startTestServer}: a dev server for the test run (on `@temporalio/testing`; `TEMPORAL_ADDRESS` reuses one;
 *   {@link globalSetup} / {@link globalTeardown} share one across a Jest run);
 * - {@link startTestWorker}: a worker with your libraries; `worker.run(definition)` runs a definition to its report
 *   and records every call of every job;
 * - {@link expectEffects}: each job's effect checked against the report, with a probe per job;
 * - {@link failureMatrix}: from one definition, a case for each job failing, a cancel at each job, and each revert
 *   failing, with the unwinding order and final report the definition implies; `worker.runCase(c)` runs one;
 * - {@link expectReplays}: recorded histories (`jipper history` output) replayed against the current workflow code.
 *
 * @example
 * ```ts
 * import { after, before, test } from 'node:test';
 * import { expectEffects, failureMatrix, loadDefinitionFileSync, startTestServer, startTestWorker } from 'jipper/testing';
 * import { library, effects } from '../src/jobs';
 *
 * const definition = loadDefinitionFileSync('processes/provision.yaml');
 * let server, worker;
 * before(async () => {
 *   server = await startTestServer();
 *   worker = await startTestWorker([library], { server });
 * });
 * after(async () => { await worker.shutdown(); await server.teardown(); });
 *
 * for (const c of failureMatrix(definition, [library])) {
 *   test(c.name, async () => expectEffects(await worker.runCase(c), effects));
 * }
 * ```
 */
export { startTestServer } from './server';
export type { TestServer, TestServerOptions } from './server';
export { startTestWorker } from './worker';
export type { RunOptions, TestRun, TestWorker, TestWorkerOptions } from './worker';
export { INJECTED_FAULT_TYPE } from './instrument';
export type { CallRecord } from './instrument';
export { EffectMismatchError, expectEffects } from './effects';
export type { EffectProbe, EffectProbes, ProbedCall } from './effects';
export { failureMatrix } from './matrix';
export type { FailureMatrixOptions, MatrixCase } from './matrix';
export { OutcomeMismatchError, expectOutcome, outcomeDifferences, predictOutcome, processModel } from './outcome';
export type { ExpectedOutcome, OutcomePredictor, ProcessModel, Scenario } from './outcome';
export { ReplayMismatchError, expectReplays, historyFiles, replayHistories } from './replay';
export type { ReplayFileResult, ReplayOptions } from './replay';
export { globalSetup, globalTeardown } from './jest';
export { loadDefinitionFile, loadDefinitionFileSync } from '../client/definition-file';
export {
  CoverageGapError,
  DeployBreaksError,
  checkDeploy,
  coverageOf,
  expectFullCoverage,
  expectSafeDeploy,
} from './check';
export type {
  CoverageGap,
  CoverageReport,
  DeployCheck,
  DeployRunResult,
  GapKind,
  RevertPlanChange,
  RunToCheck,
  StepCoverage,
} from './check';
