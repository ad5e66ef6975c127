/**
 * The two checks of `jipper check`, for a team's own test suite:
 *
 * - {@link expectFullCoverage}: every step of a definition is compensated, or says why its effect may stand
 *   (`reason`); {@link coverageOf} gives the whole coverage report;
 * - {@link expectSafeDeploy}: recorded histories of runs in flight (files, or histories fetched from a server) replay
 *   on the workflow code and job libraries about to ship, and no job they were planned with is gone;
 *   {@link checkDeploy} gives each run's verdict (`ok`, `changed`, `breaks`) with its reasons.
 *
 * @example
 * ```ts
 * test('every step is compensated', () => expectFullCoverage(loadDefinitionFileSync('provision.yaml'), [library]));
 * test('the runs in flight survive this deploy', () => expectSafeDeploy('test/histories', { libraries: [library] }));
 * ```
 */
import { readFile } from 'node:fs/promises';
import type { CoverageReport } from '../checks/coverage';
import { compensationCoverage } from '../checks/coverage';
import type { JobLibrary } from '../jobs/library';
import { JobRegistry } from '../runtime/registry';
import type { ProcessDefinition } from '../schema/definition';
import { formatProblems } from '../shared/plan';
import type { DeployCheckOptions, DeployRunResult, RunToCheck } from '../worker/deploy-check';
import { checkDeployRuns } from '../worker/deploy-check';
import { historyFromJson } from '../worker/history-json';
import { historyWorkflowId } from '../worker/replay';
import { historyFiles } from './replay';

export type { CoverageGap, CoverageReport, GapKind, StepCoverage } from '../checks/coverage';
export type { DeployRunResult, RevertPlanChange, RunToCheck } from '../worker/deploy-check';

function registryOf(libraries: JobRegistry | readonly JobLibrary[]): JobRegistry {
  return libraries instanceof JobRegistry ? libraries : new JobRegistry(libraries);
}

/** Thrown by {@link expectFullCoverage}: some step's effect may stand and it does not say why. */
export class CoverageGapError extends Error {
  override readonly name = 'CoverageGapError';
}

/** The compensation coverage of a definition (checked against the libraries first; a bad definition throws). */
export function coverageOf(definition: unknown, libraries: JobRegistry | readonly JobLibrary[]): CoverageReport {
  const checked = registryOf(libraries).validate(definition);
  if (checked.problems.length || !checked.definition) throw new Error(formatProblems(checked.problems));
  return compensationCoverage(checked.definition, checked);
}

/** Throws {@link CoverageGapError}, a line per gap, unless every step is covered or intended. */
export function expectFullCoverage(definition: unknown, libraries: JobRegistry | readonly JobLibrary[]): void {
  const report = coverageOf(definition, libraries);
  const lines = report.steps
    .filter((s) => s.status === 'gap')
    .flatMap((s) => s.gaps.map((g) => `  - ${report.name}: ${s.stepId} (${s.job}): ${g.kind}: ${g.message}`));
  if (lines.length) throw new CoverageGapError(`${report.findings} steps not covered:\n${lines.join('\n')}`);
}

export interface DeployCheck extends Omit<DeployCheckOptions, 'registry' | 'revised'> {
  /** The job libraries about to be deployed. */
  libraries?: JobRegistry | readonly JobLibrary[];
  /** A revised definition: each run of the same process gets its revert plan before and after. */
  revised?: ProcessDefinition;
}

/** Each run's verdict against the code about to ship; `runs` are history files or directories, or histories. */
export async function checkDeploy(
  runs: string | readonly string[] | readonly RunToCheck[],
  options: DeployCheck = {}
): Promise<DeployRunResult[]> {
  const given = typeof runs === 'string' ? [runs] : runs;
  const histories: RunToCheck[] = [];
  for (const run of given) {
    if (typeof run !== 'string') histories.push(run);
    else
      for (const file of await historyFiles(run)) {
        const history = historyFromJson(JSON.parse(await readFile(file, 'utf8')));
        histories.push({ workflowId: historyWorkflowId(file), history, source: file });
      }
  }
  const { libraries, ...rest } = options;
  return checkDeployRuns(histories, { ...rest, ...(libraries ? { registry: registryOf(libraries) } : {}) });
}

/** Thrown by {@link expectSafeDeploy}: some run in flight would break. */
export class DeployBreaksError extends Error {
  override readonly name = 'DeployBreaksError';
}

/** Throws {@link DeployBreaksError}, naming each run and why, when any would break (`changed` runs pass). */
export async function expectSafeDeploy(
  runs: string | readonly string[] | readonly RunToCheck[],
  options: DeployCheck = {}
): Promise<DeployRunResult[]> {
  const results = await checkDeploy(runs, options);
  const broken = results.filter((r) => r.verdict === 'breaks');
  if (broken.length) {
    throw new DeployBreaksError(
      `${broken.length} of ${results.length} runs would break:\n` +
        broken.map((r) => `  - ${r.workflowId}: ${r.reasons.join('; ')}`).join('\n')
    );
  }
  return results;
}
